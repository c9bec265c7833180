/**
 * `tend optimize`: make a candidate from a registry version (onnxruntime's offline graph
 * optimization, or tend's int8 dynamic quantization), check its structure and signature, measure
 * it against its parent in the same run (size, load time, latency and throughput at batch 1 and at
 * the best batch, agreement on evaluation data, the task metric when labels are given), and
 * register it — with its lineage and the report — only when it stays within the quality gate and
 * the speed gate. The assessment itself is in optimize-assess.ts, shared with `auto` (optimize-auto.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errors } from '../../core/errors.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import type { Registry } from '../../registry/index.js';
import { Runtime } from '../../runtime/index.js';
import type { OptimizeMethod, OptimizeReport } from './optimize-report.js';
import type { EvaluationData } from './optimize-data.js';
import type { CandidateOptions } from './optimize-candidate.js';
import {
  assessCandidate,
  gateLimits,
  registerCandidate,
  resolveParent,
  type GateOptions,
} from './optimize-assess.js';

export type { OptimizeMethod, OptimizeReport, SideReport } from './optimize-report.js';
export { OPTIMIZE_REPORT_KIND } from './optimize-assess.js';

export const OPTIMIZE_METHODS: readonly OptimizeMethod[] = [
  'graph',
  'int8-dynamic',
  'int8-static',
  'fp16',
  'prune',
];

export interface OptimizeOptions extends CandidateOptions, GateOptions {
  /** Evaluation data; without it a sample is generated from the signature (agreement only). */
  evaluation?: EvaluationData;
  /** Register even outside the gate. */
  force?: boolean;
  actor?: string;
  logger?: Logger;
}

/** Optimize `name@versionRef` (default: latest) and register the candidate when it passes the gate. */
export async function optimizeVersion(
  registry: Registry,
  name: string,
  versionRef: string | undefined,
  options: OptimizeOptions,
): Promise<OptimizeReport> {
  if (!OPTIMIZE_METHODS.includes(options.method))
    throw errors.invalidArgument(
      `--method '${String(options.method)}' must be one of ${OPTIMIZE_METHODS.join(', ')}`,
    );
  gateLimits(options);
  if (
    options.method !== 'int8-dynamic' &&
    (options.reduceRange ||
      (options.exclude?.length ?? 0) > 0 ||
      (options.perChannel && options.method !== 'int8-static'))
  ) {
    throw errors.invalidArgument(
      '--per-channel, --reduce-range and --exclude apply to --method int8-dynamic (--per-channel also to int8-static)',
    );
  }
  if (
    options.method !== 'int8-static' &&
    (options.calibration !== undefined || options.calibrate !== undefined)
  )
    throw errors.invalidArgument('--calibration and --calibrate apply to --method int8-static');
  if (
    options.method !== 'prune' &&
    (options.sparsity !== undefined || options.structured || options.finetune !== undefined)
  )
    throw errors.invalidArgument('--sparsity, --structured and --finetune-data apply to --method prune');
  if (options.finetune !== undefined && !options.structured)
    throw errors.invalidArgument('--finetune-data applies to --method prune --structured');
  if (options.sparsity !== undefined && !(options.sparsity > 0 && options.sparsity < 1))
    throw errors.invalidArgument(`--sparsity ${options.sparsity} must be between 0 and 1 (exclusive)`);
  const { parent, parentPath, evaluation, maxBatchSize } = await resolveParent(
    registry,
    name,
    versionRef,
    options,
  );
  const runtime = new Runtime({ logger: options.logger ?? silentLogger });
  const work = mkdtempSync(join(tmpdir(), 'tend-optimize-'));
  try {
    const ctx = { runtime, work, parent, parentPath, evaluation, maxBatchSize };
    const assessed = await assessCandidate(ctx, options, 'candidate');
    const { report, refusals } = assessed;
    if (refusals.length > 0 && !options.force) {
      report.reason = `not registered: ${refusals.join('; ')}; use --force to register anyway`;
      return report;
    }
    report.reason =
      refusals.length === 0
        ? `registered: ${report.gate}; ${report.speed_gate}`
        : `registered with --force although ${refusals.join('; ')}`;
    await registerCandidate(registry, parent, assessed, {
      ...(options.actor !== undefined ? { actor: options.actor } : {}),
    });
    return report;
  } finally {
    await runtime.close();
    rmSync(work, { recursive: true, force: true });
  }
}
