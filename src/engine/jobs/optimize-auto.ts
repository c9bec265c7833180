/**
 * `tend optimize REF --method auto`: assess every method that may make the model cheaper to serve
 * (graph optimization, int8-dynamic, int8-static when calibration data is given, fp16, structured
 * pruning at a few levels), each against its parent in its own interleaved timing, and register the
 * one fastest at the pick batch (8, or the largest measured) among those within the quality gate and
 * the speed gate. Speeds are compared as ratios to the parent timed beside each candidate, so that a
 * slow moment of the machine during one candidate does not decide for another. A candidate slower
 * than its parent at the pick batch is never chosen, and nothing is registered when none is faster.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errors, isTendError } from '../../core/errors.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import type { CalibrationMethod } from '../../optimize/index.js';
import type { Registry } from '../../registry/index.js';
import { Runtime } from '../../runtime/index.js';
import {
  assessCandidate,
  gateLimits,
  registerCandidate,
  resolveParent,
  type AssessedCandidate,
  type GateOptions,
} from './optimize-assess.js';
import type { CandidateOptions } from './optimize-candidate.js';
import type { EvaluationData } from './optimize-data.js';
import type { OptimizeReport } from './optimize-report.js';

export const AUTO_REPORT_KIND = 'optimize-auto-report';
/** The batch size auto compares candidates at when it was measured. */
export const AUTO_PICK_BATCH = 8;
/** Shares of hidden units / channels structured pruning removes, one candidate each. */
const DEFAULT_PRUNE_LEVELS = [0.25, 0.5];

export interface AutoOptions extends GateOptions {
  /** Evaluation data (required: auto decides on it). */
  evaluation: EvaluationData;
  /** Calibration data: int8-static is tried only with it. */
  calibration?: EvaluationData;
  calibrate?: CalibrationMethod;
  percentile?: number;
  /** Structured pruning levels tried (default 0.25 and 0.5). */
  pruneLevels?: number[];
  actor?: string;
  logger?: Logger;
  /** One line per step while candidates are made and measured (the CLI prints them on stderr). */
  onProgress?: (line: string) => void;
}

/** One row of the comparison table. */
export interface AutoCandidateRow {
  /** What was tried, e.g. "int8-static (percentile)" or "prune structured 50%". */
  label: string;
  method: OptimizeReport['method'];
  parameters: Record<string, unknown>;
  size_bytes: number | null;
  size_ratio: number | null;
  /** Batch size → median items/s of the candidate, and of its parent timed beside it. */
  items_per_s: Record<string, number>;
  parent_items_per_s: Record<string, number>;
  /** Candidate ÷ parent items/s at the pick batch. */
  speedup_at_pick: number | null;
  /** The quality gate's line (accuracy drop or mean cosine). */
  quality: string | null;
  mean_cosine: number | null;
  agreement: number | null;
  accuracy: number | null;
  /** Within the quality gate and the speed gate, and not slower than the parent at the pick batch. */
  passes: boolean;
  /** Why it passes or fails (or why it could not be made). */
  reason: string;
}

export interface AutoReport {
  name: string;
  parent_version: number;
  /** The batch size candidates are compared at. */
  pick_batch: number;
  evaluation: { source: string; rows: number | null };
  candidates: AutoCandidateRow[];
  /** The label of the registered candidate, or null. */
  chosen: string | null;
  version: number | null;
  registered: boolean;
  reason: string;
}

interface Plan {
  label: string;
  options: CandidateOptions;
}

function plans(options: AutoOptions): Plan[] {
  const calibrate = options.calibrate ?? 'percentile';
  return [
    { label: 'graph', options: { method: 'graph' } },
    { label: 'int8-dynamic', options: { method: 'int8-dynamic' } },
    ...(options.calibration !== undefined
      ? [
          {
            label: `int8-static (${calibrate})`,
            options: {
              method: 'int8-static' as const,
              calibration: options.calibration,
              calibrate,
              ...(options.percentile !== undefined ? { percentile: options.percentile } : {}),
            },
          },
        ]
      : []),
    { label: 'fp16', options: { method: 'fp16' } },
    ...(options.pruneLevels ?? DEFAULT_PRUNE_LEVELS).map((sparsity) => ({
      label: `prune structured ${Math.round(sparsity * 100)}%`,
      options: { method: 'prune' as const, structured: true, sparsity },
    })),
  ];
}

const byBatch = (report: OptimizeReport, which: 'parent' | 'candidate'): Record<string, number> =>
  Object.fromEntries(
    report.speed_by_batch.map((b) => [
      String(b.batch),
      Math.round((which === 'parent' ? b.parent_items_per_s : b.candidate_items_per_s) * 10) / 10,
    ]),
  );

/** The pick batch: 8 when it was measured, else the largest batch measured (1 for unbatched models). */
export function pickBatch(measured: readonly number[]): number {
  if (measured.includes(AUTO_PICK_BATCH)) return AUTO_PICK_BATCH;
  return measured.length > 0 ? Math.max(...measured) : 1;
}

/** A table row from an assessed candidate, judged at `pick`. */
export function judgeCandidate(label: string, assessed: AssessedCandidate, pick: number): AutoCandidateRow {
  const r = assessed.report;
  const atPick = r.speed_by_batch.find((b) => b.batch === pick);
  const speedup = atPick?.ratio ?? null;
  const reasons = [...assessed.refusals];
  if (speedup !== null && speedup < 1)
    reasons.push(`slower than its parent at batch ${pick} (${speedup.toFixed(2)}×)`);
  return {
    label,
    method: r.method,
    parameters: r.parameters,
    size_bytes: r.candidate.size_bytes,
    size_ratio: r.size_ratio,
    items_per_s: byBatch(r, 'candidate'),
    parent_items_per_s: byBatch(r, 'parent'),
    speedup_at_pick: speedup,
    quality: r.gate,
    mean_cosine: r.mean_cosine,
    agreement: r.agreement,
    accuracy: r.candidate.accuracy,
    passes: reasons.length === 0,
    reason: reasons.length === 0 ? `${r.gate}; ${r.speed_gate}` : reasons.join('; '),
  };
}

/** The row auto registers: the fastest at the pick batch among those that pass; null when none does. */
export function chooseCandidate(rows: readonly AutoCandidateRow[]): AutoCandidateRow | null {
  let best: AutoCandidateRow | null = null;
  for (const row of rows)
    if (row.passes && (best === null || (row.speedup_at_pick ?? 0) > (best.speedup_at_pick ?? 0))) best = row;
  return best;
}

/**
 * Assess every method on `name@versionRef` (default latest) and register the fastest within the gate.
 * @throws TendError TEND_INVALID_ARGUMENT for gate limits out of range or data that does not fit the model.
 */
export async function optimizeAuto(
  registry: Registry,
  name: string,
  versionRef: string | undefined,
  options: AutoOptions,
): Promise<AutoReport> {
  gateLimits(options);
  for (const level of options.pruneLevels ?? [])
    if (!(level > 0 && level < 1))
      throw errors.invalidArgument(`pruning level ${level} must be between 0 and 1 (exclusive)`);
  const parentContext = await resolveParent(registry, name, versionRef, options);
  const { parent } = parentContext;
  const progress = options.onProgress ?? (() => undefined);
  const runtime = new Runtime({ logger: options.logger ?? silentLogger });
  const work = mkdtempSync(join(tmpdir(), 'tend-optimize-auto-'));
  try {
    const ctx = { ...parentContext, runtime, work };
    const tried = plans(options);
    const assessed: { label: string; result: AssessedCandidate | null; error: string | null }[] = [];
    for (const [i, plan] of tried.entries()) {
      try {
        // The candidate's own steps, prefixed with its place in the list and its label.
        const step = (line: string) =>
          progress(`[${i + 1}/${tried.length}] ${plan.label}:${line.slice(line.indexOf(':') + 1)}`);
        const result = await assessCandidate(
          ctx,
          { ...options, ...plan.options, onProgress: step },
          `candidate-${i}`,
        );
        assessed.push({ label: plan.label, result, error: null });
        const r = result.report;
        progress(
          `[${i + 1}/${tried.length}] ${plan.label}: ${r.speed_by_batch.map((b) => `${b.ratio.toFixed(2)}× at batch ${b.batch}`).join(', ') || 'speed not measured'}; ${r.gate}`,
        );
      } catch (err) {
        // A method that does not apply to this graph (nothing to quantize, no prunable pair) is a
        // row of the table, not a failure of auto.
        if (!isTendError(err)) throw err;
        assessed.push({ label: plan.label, result: null, error: err.message });
        progress(`[${i + 1}/${tried.length}] ${plan.label}: not applicable (${err.message})`);
      }
    }
    const measured = assessed.flatMap((a) => a.result?.report.speed_by_batch.map((b) => b.batch) ?? []);
    const pick = pickBatch([...new Set(measured)]);
    const rows = assessed.map(({ label, result, error }, i): AutoCandidateRow => {
      if (result !== null) return judgeCandidate(label, result, pick);
      const method = tried[i]?.options.method ?? 'graph';
      return {
        label,
        method,
        parameters: {},
        size_bytes: null,
        size_ratio: null,
        items_per_s: {},
        parent_items_per_s: {},
        speedup_at_pick: null,
        quality: null,
        mean_cosine: null,
        agreement: null,
        accuracy: null,
        passes: false,
        reason: `not applicable: ${error ?? ''}`,
      };
    });
    const chosen = chooseCandidate(rows);
    const firstReport = assessed.find((a) => a.result !== null)?.result?.report;
    const report: AutoReport = {
      name: parent.name,
      parent_version: parent.version,
      pick_batch: pick,
      evaluation: { source: options.evaluation.source, rows: firstReport?.evaluation.rows ?? null },
      candidates: rows,
      chosen: chosen?.label ?? null,
      version: null,
      registered: false,
      reason: '',
    };
    if (chosen === null) {
      report.reason = `not registered: no candidate is within the gate and at least as fast as version ${parent.version} at batch ${pick}`;
      return report;
    }
    const winner = assessed[rows.indexOf(chosen)]?.result as AssessedCandidate;
    winner.report.reason = `registered by auto: ${chosen.reason}`;
    await registerCandidate(registry, parent, winner, {
      ...(options.actor !== undefined ? { actor: options.actor } : {}),
      source: `optimize:auto:${winner.report.method}:${parent.name}@${parent.version}`,
      tags: { 'optimize.auto': chosen.label },
    });
    report.version = winner.report.version;
    report.registered = true;
    report.reason = `registered ${chosen.label} as version ${report.version}: fastest at batch ${pick} within the gate (${(chosen.speedup_at_pick ?? 1).toFixed(2)}× the parent's items/s)`;
    await registry.artifacts.attach(
      parent.name,
      report.version as number,
      AUTO_REPORT_KIND,
      new TextEncoder().encode(JSON.stringify(report, null, 2)),
      {
        mediaType: 'application/json',
        meta: { chosen: chosen.label, parent: parent.version },
        ...(options.actor !== undefined ? { actor: options.actor } : {}),
      },
    );
    return report;
  } finally {
    await runtime.close();
    rmSync(work, { recursive: true, force: true });
  }
}
