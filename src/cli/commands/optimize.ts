/** `tend optimize REF --method graph|int8-dynamic|…|auto`: a validated, registered optimization of a version. */
import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { errors } from '../../core/errors.js';
import type { GraphOptimizationLevel } from '../../core/config.js';
import {
  CALIBRATION_METHODS,
  type CalibrationMethod,
  csvEvaluation,
  inferMaxBatchSize,
  optimizeAuto,
  optimizeVersion,
  OPTIMIZE_METHODS,
  type AutoReport,
  type EvaluationData,
  type FinetuneData,
  type OptimizeMethod,
  type OptimizeReport,
} from '../../engine/index.js';
import { decodeInferRequest } from '../../server/http/index.js';
import { printJson, printTable } from '../output.js';
import { actor, parseRef, withRegistry } from './registry.js';

export interface OptimizeCommandOptions {
  method: string;
  level?: string;
  perChannel?: boolean;
  reduceRange?: boolean;
  exclude?: string[];
  eval?: string;
  calibration?: string;
  calibrate?: string;
  sparsity?: string;
  structured?: boolean;
  finetuneData?: string;
  finetuneEpochs?: string;
  target?: string;
  maxAccuracyDrop?: string;
  minCosine?: string;
  maxSlowdown?: string;
  force?: boolean;
  rounds?: string;
  runMs?: string;
  json?: boolean;
  home?: string;
}

const LEVELS = ['disabled', 'basic', 'extended', 'all'];

function numberOption(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n))
    throw errors.invalidArgument(`${flag} '${raw}' is not a number`);
  return n;
}

/** Evaluation requests from JSON lines, each a V2 infer request body. */
function jsonlEvaluation(text: string, source: string): EvaluationData {
  const requests = text
    .split(/\r?\n/)
    .map((line, i) => ({ line: line.trim(), n: i + 1 }))
    .filter((l) => l.line !== '')
    .map(({ line, n }) => {
      try {
        return decodeInferRequest(JSON.parse(line)).inputs;
      } catch (err) {
        throw errors.invalidArgument(`${source}: line ${n}: ${(err as Error).message}`);
      }
    });
  return { source, synthetic: false, requests, labels: null };
}

/** The report as the interface names it (fields that do not apply are null). */
export function reportJson(r: OptimizeReport): Record<string, unknown> {
  const sideJson = (s: OptimizeReport['parent']) => ({
    version: s.version,
    size_bytes: s.size_bytes,
    batch1: s.batch1 ? { p50_ms: s.batch1.p50_ms, items_per_s: s.batch1.items_per_s } : null,
    best_batch: s.best_batch
      ? { size: s.best_batch.size, p50_ms: s.best_batch.p50_ms, items_per_s: s.best_batch.items_per_s }
      : null,
    accuracy: s.accuracy,
  });
  return {
    name: r.name,
    version: r.version,
    parent: sideJson(r.parent),
    candidate: sideJson(r.candidate),
    size_ratio: r.size_ratio,
    speedup_batch1: r.speedup_batch1,
    speedup_best: r.speedup_best,
    agreement: r.agreement,
    max_abs_diff: r.max_abs_diff,
    mean_cosine: r.mean_cosine,
    fused_kernels: r.fused_kernels,
    registered: r.registered,
    reason: r.reason,
  };
}

/** Flags that choose one method's variant: auto picks its own. */
const SINGLE_METHOD_FLAGS: [keyof OptimizeCommandOptions, string][] = [
  ['level', '--level'],
  ['perChannel', '--per-channel'],
  ['reduceRange', '--reduce-range'],
  ['exclude', '--exclude'],
  ['sparsity', '--sparsity'],
  ['structured', '--structured'],
  ['finetuneData', '--finetune-data'],
  ['finetuneEpochs', '--finetune-epochs'],
  ['force', '--force'],
];

export async function optimizeCommand(ref: string, opts: OptimizeCommandOptions): Promise<void> {
  const auto = opts.method === 'auto';
  if (!auto && !OPTIMIZE_METHODS.includes(opts.method as OptimizeMethod))
    throw errors.invalidArgument(
      `--method '${opts.method}' must be one of ${[...OPTIMIZE_METHODS, 'auto'].join(', ')}`,
    );
  if (auto) {
    const given = SINGLE_METHOD_FLAGS.filter(([key]) => opts[key] !== undefined && opts[key] !== false);
    if (given.length > 0)
      throw errors.invalidArgument(
        `${given.map(([, flag]) => flag).join(', ')} do not apply to --method auto (it tries each method's variants itself and never forces)`,
      );
    if (opts.eval === undefined)
      throw errors.invalidArgument('--method auto needs --eval FILE (the data it judges every candidate on)');
  }
  if (opts.calibrate !== undefined && !CALIBRATION_METHODS.includes(opts.calibrate as CalibrationMethod))
    throw errors.invalidArgument(
      `--calibrate '${opts.calibrate}' must be one of ${CALIBRATION_METHODS.join(', ')}`,
    );
  if (opts.level !== undefined && !LEVELS.includes(opts.level))
    throw errors.invalidArgument(`--level '${opts.level}' must be one of ${LEVELS.join(', ')}`);
  if (
    opts.target !== undefined &&
    opts.finetuneData === undefined &&
    (opts.eval === undefined || extname(opts.eval).toLowerCase() !== '.csv')
  )
    throw errors.invalidArgument('--target names a column of a CSV given with --eval or --finetune-data');
  const finetuneEpochs = numberOption('--finetune-epochs', opts.finetuneEpochs);
  if (
    finetuneEpochs !== undefined &&
    (opts.finetuneData === undefined ||
      !Number.isInteger(finetuneEpochs) ||
      finetuneEpochs < 1 ||
      finetuneEpochs > 1000)
  )
    throw errors.invalidArgument(
      `--finetune-epochs ${finetuneEpochs} must be a whole number from 1 to 1000, with --finetune-data`,
    );
  if (opts.finetuneData !== undefined && opts.target === undefined)
    throw errors.invalidArgument('--finetune-data needs --target COL (the label column to train on)');
  const { name, version } = parseRef(ref);
  const maxAccuracyDrop = numberOption('--max-accuracy-drop', opts.maxAccuracyDrop);
  const minCosine = numberOption('--min-cosine', opts.minCosine);
  const maxSlowdown = numberOption('--max-slowdown', opts.maxSlowdown);
  const sparsity = numberOption('--sparsity', opts.sparsity);
  const rounds = numberOption('--rounds', opts.rounds);
  const msPerRun = numberOption('--run-ms', opts.runMs);
  if (rounds !== undefined && (!Number.isInteger(rounds) || rounds < 1 || rounds > 100))
    throw errors.invalidArgument(`--rounds ${rounds} must be a whole number from 1 to 100`);
  if (msPerRun !== undefined && !(msPerRun > 0 && msPerRun <= 60_000))
    throw errors.invalidArgument(`--run-ms ${msPerRun} must be between 0 and 60000`);
  const report = await withRegistry(opts.home, async (registry) => {
    let evaluation: EvaluationData | undefined;
    let calibration: EvaluationData | undefined;
    const read = async (flag: string, path: string, target: string | undefined): Promise<EvaluationData> => {
      const file = resolve(path);
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw errors.notFound(`cannot read ${file}: ${(err as Error).message}`);
      }
      const ext = extname(file).toLowerCase();
      if (ext === '.csv') {
        const parent = await registry.models.resolveVersion(name, version ?? 'latest');
        return csvEvaluation(text, file, parent.signature, inferMaxBatchSize(parent.signature, {}), target);
      }
      if (ext === '.jsonl' || ext === '.ndjson') return jsonlEvaluation(text, file);
      throw errors.invalidArgument(
        `${flag} ${file}: use a .csv file (one column per feature) or .jsonl (one V2 request body per line)`,
      );
    };
    if (opts.eval !== undefined) evaluation = await read('--eval', opts.eval, opts.target);
    if (opts.calibration !== undefined)
      calibration = await read('--calibration', opts.calibration, undefined);
    let finetune: FinetuneData | undefined;
    if (opts.finetuneData !== undefined) {
      const file = resolve(opts.finetuneData);
      if (extname(file).toLowerCase() !== '.csv')
        throw errors.invalidArgument(
          `--finetune-data ${file}: use a .csv file (the feature columns and --target)`,
        );
      try {
        finetune = {
          text: readFileSync(file, 'utf8'),
          source: file,
          target: opts.target as string,
          ...(finetuneEpochs !== undefined ? { epochs: finetuneEpochs } : {}),
        };
      } catch (err) {
        throw errors.notFound(`cannot read ${file}: ${(err as Error).message}`);
      }
    }
    if (auto)
      return optimizeAuto(registry, name, version, {
        evaluation: evaluation as EvaluationData,
        ...(calibration !== undefined ? { calibration } : {}),
        ...(opts.calibrate !== undefined ? { calibrate: opts.calibrate as CalibrationMethod } : {}),
        ...(maxAccuracyDrop !== undefined ? { maxAccuracyDrop } : {}),
        ...(minCosine !== undefined ? { minCosine } : {}),
        ...(maxSlowdown !== undefined ? { maxSlowdown } : {}),
        ...(rounds !== undefined ? { rounds } : {}),
        ...(msPerRun !== undefined ? { msPerRun } : {}),
        ...(opts.json ? {} : { onProgress: (line: string) => process.stderr.write(`${line}\n`) }),
        actor: actor(),
      });
    return optimizeVersion(registry, name, version, {
      method: opts.method as OptimizeMethod,
      ...(opts.level !== undefined ? { level: opts.level as GraphOptimizationLevel } : {}),
      ...(opts.perChannel ? { perChannel: true } : {}),
      ...(opts.reduceRange ? { reduceRange: true } : {}),
      ...(opts.exclude && opts.exclude.length > 0 ? { exclude: opts.exclude } : {}),
      ...(evaluation !== undefined ? { evaluation } : {}),
      ...(calibration !== undefined ? { calibration } : {}),
      ...(opts.calibrate !== undefined ? { calibrate: opts.calibrate as CalibrationMethod } : {}),
      ...(maxAccuracyDrop !== undefined ? { maxAccuracyDrop } : {}),
      ...(minCosine !== undefined ? { minCosine } : {}),
      ...(maxSlowdown !== undefined ? { maxSlowdown } : {}),
      ...(sparsity !== undefined ? { sparsity } : {}),
      ...(opts.structured ? { structured: true } : {}),
      ...(finetune !== undefined ? { finetune } : {}),
      ...(opts.force ? { force: true } : {}),
      ...(rounds !== undefined ? { rounds } : {}),
      ...(msPerRun !== undefined ? { msPerRun } : {}),
      ...(opts.json ? {} : { onProgress: (line: string) => process.stderr.write(`${line}\n`) }),
      actor: actor(),
    });
  });
  if ('candidates' in report) return printAutoReport(report, opts.json === true);
  if (opts.json) return printJson(reportJson(report));
  const f = (x: number | null | undefined, d = 3) => (x === null || x === undefined ? '—' : x.toFixed(d));
  const speed = (s: OptimizeReport['parent']['batch1']) =>
    s ? `${f(s.items_per_s, 1)}/s, p50 ${f(s.p50_ms)} ms` : '—';
  process.stdout.write(`${report.name}: ${report.method} of version ${report.parent.version ?? '—'}\n`);
  printTable(
    ['', 'parent', 'candidate', 'ratio'],
    [
      ['size', `${report.parent.size_bytes} B`, `${report.candidate.size_bytes} B`, f(report.size_ratio)],
      ['load', `${f(report.parent.load_ms, 1)} ms`, `${f(report.candidate.load_ms, 1)} ms`, ''],
      ['batch 1', speed(report.parent.batch1), speed(report.candidate.batch1), f(report.speedup_batch1, 2)],
      [
        `best batch`,
        `${speed(report.parent.best_batch)} (${report.parent.best_batch?.size ?? '—'})`,
        `${speed(report.candidate.best_batch)} (${report.candidate.best_batch?.size ?? '—'})`,
        f(report.speedup_best, 2),
      ],
      ['accuracy', f(report.parent.accuracy, 4), f(report.candidate.accuracy, 4), ''],
    ],
  );
  process.stdout.write(
    `agreement ${f(report.agreement, 4)}, mean cosine ${f(report.mean_cosine, 6)}, max abs diff ${f(report.max_abs_diff, 6)} on ${report.evaluation.rows} rows of ${report.evaluation.source}${report.evaluation.synthetic ? ' (generated: agreement only)' : ''}\n` +
      `speed: ${report.speed_by_batch.map((b) => `${f(b.ratio, 2)}× at batch ${b.batch}`).join(', ') || '—'}\n` +
      `fused kernels: ${report.fused_kernels.join(', ') || 'none'}\n` +
      (Object.keys(report.quantized_kernels).length > 0
        ? `quantized kernels onnxruntime runs: ${Object.entries(report.quantized_kernels)
            .map(([op, n]) => `${op} ×${n}`)
            .join(', ')}\n`
        : '') +
      report.notes.map((n) => `${n}\n`).join('') +
      `${report.reason}\n`,
  );
}

/** The comparison table of `--method auto` (JSON: the whole report). */
function printAutoReport(report: AutoReport, json: boolean): void {
  if (json) return printJson(report);
  const batches = [...new Set(report.candidates.flatMap((c) => Object.keys(c.items_per_s).map(Number)))].sort(
    (a, b) => a - b,
  );
  const f = (x: number | null | undefined, d: number) => (x === null || x === undefined ? '—' : x.toFixed(d));
  process.stdout.write(
    `${report.name}: auto on version ${report.parent_version}, compared at batch ${report.pick_batch} (items/s: candidate / parent timed beside it)\n`,
  );
  printTable(
    ['candidate', 'size', ...batches.map((b) => `batch ${b}`), 'speed×', 'quality', 'verdict'],
    report.candidates.map((c) => [
      c.label,
      c.size_bytes === null ? '—' : `${c.size_bytes} B (${f(c.size_ratio, 3)}×)`,
      ...batches.map((b) =>
        c.items_per_s[String(b)] === undefined
          ? '—'
          : `${f(c.items_per_s[String(b)], 1)} / ${f(c.parent_items_per_s[String(b)], 1)}`,
      ),
      f(c.speedup_at_pick, 2),
      c.quality ?? '—',
      `${c.label === report.chosen ? 'chosen' : c.passes ? 'pass' : 'fail'}${c.passes ? '' : `: ${c.reason}`}`,
    ]),
  );
  process.stdout.write(`${report.reason}\n`);
}
