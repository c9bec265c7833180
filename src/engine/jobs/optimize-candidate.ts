/**
 * Make the candidate file of one optimization method from its parent's file. Each method's rewrite
 * lives in src/optimize/ (one module per method); this module only picks it, passes its options and
 * writes the result, so that the job (optimize-job.ts) stays about measuring and gating.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import type { GraphOptimizationLevel } from '../../core/config.js';
import { readModelFile, writeModel } from '../../onnx/index.js';
import {
  convertFloat16,
  magnitudePrune,
  quantizeDynamic,
  quantizeStatic,
  structuredPrune,
} from '../../optimize/index.js';
import type { CalibrationMethod } from '../../optimize/index.js';
import { errors } from '../../core/errors.js';
import { calibrateRanges } from './optimize-calibrate.js';
import type { EvaluationData } from './optimize-data.js';
import { finetunePruned, type FinetuneData, type FinetuneResult } from './optimize-finetune.js';
import type { Runtime } from '../../runtime/index.js';
import type { OptimizeMethod, OptimizeReport } from './optimize-report.js';

/** The options each method reads (the job adds the gate's and the timing's). */
export interface CandidateOptions {
  method: OptimizeMethod;
  /** graph: onnxruntime's optimization level (default all). */
  level?: GraphOptimizationLevel;
  perChannel?: boolean;
  reduceRange?: boolean;
  /** int8-dynamic: node names or op types left in float. */
  exclude?: string[];
  /** int8-static: the calibration sample (required) and how ranges are chosen (default percentile). */
  calibration?: EvaluationData;
  calibrate?: CalibrationMethod;
  /** int8-static with percentile calibration (default 99.999). */
  percentile?: number;
  /** prune: the share of weights zeroed, or of hidden units / channels removed with `structured` (default 0.5). */
  sparsity?: number;
  structured?: boolean;
  /** prune --structured: train the pruned network further (models made by tend's trainers only). */
  finetune?: FinetuneData;
}

export interface Candidate {
  quantized: number | null;
  skipped: OptimizeReport['skipped_nodes'];
  /** The method's parameters as the report and the registry tags record them. */
  parameters: Record<string, unknown>;
  /** What the method wants the reader to know (e.g. fp16 on CPU mostly saves size). */
  notes: string[];
}

/** Make the candidate file at `outPath`. */
export async function makeCandidate(
  runtime: Runtime,
  parentPath: string,
  outPath: string,
  options: CandidateOptions,
): Promise<Candidate> {
  if (options.method === 'graph') {
    const level = options.level ?? 'all';
    await offlineOptimize(runtime, parentPath, outPath, level);
    return { quantized: null, skipped: [], parameters: { level }, notes: [] };
  }
  if (options.method === 'fp16') {
    const result = convertFloat16(readModelFile(parentPath));
    writeFileSync(outPath, writeModel(result.model));
    return {
      quantized: result.converted.length,
      skipped: result.kept.map((k) => ({ node: k.name, op: 'initializer', reason: k.reason })),
      parameters: { weights: 'float16', compute: 'float32' },
      notes: [
        'fp16 stores weights as float16 and computes in float32: on CPU it mostly saves size (file, registry, transfer), not time.',
      ],
    };
  }
  if (options.method === 'int8-static') {
    if (options.calibration === undefined)
      throw errors.invalidArgument(
        '--method int8-static needs --calibration FILE (CSV or JSONL inputs to calibrate activation ranges on)',
      );
    const model = readModelFile(parentPath);
    const method = options.calibrate ?? 'percentile';
    const ranges = await calibrateRanges(
      runtime,
      model,
      options.calibration,
      method,
      options.percentile,
      `${outPath}.calibrate.onnx`,
    );
    const result = quantizeStatic(model, ranges, { perChannel: options.perChannel === true });
    writeFileSync(outPath, writeModel(result.model));
    return {
      quantized: result.quantized.length,
      skipped: result.skipped,
      parameters: {
        calibrate: method,
        ...(method === 'percentile' ? { percentile: options.percentile ?? 99.999 } : {}),
        calibration: options.calibration.source,
        calibration_requests: options.calibration.requests.length,
        per_channel: options.perChannel === true,
      },
      notes: [],
    };
  }
  if (options.method === 'prune') {
    const sparsity = options.sparsity ?? 0.5;
    const model = readModelFile(parentPath);
    const result = options.structured ? structuredPrune(model, sparsity) : magnitudePrune(model, sparsity);
    let tuned: FinetuneResult | null = null;
    if (options.finetune !== undefined) {
      if (!options.structured)
        throw errors.invalidArgument('--finetune-data applies to --method prune --structured');
      tuned = finetunePruned(result.model, options.finetune, 'the parent');
    }
    const bytes = tuned?.bytes ?? writeModel(result.model);
    writeFileSync(outPath, bytes);
    const zipped = (b: Uint8Array) => gzipSync(b, { level: 9 }).length;
    const [before, after] = [zipped(readFileSync(parentPath)), zipped(bytes)];
    return {
      quantized: result.layers.length,
      skipped: [],
      parameters: {
        sparsity,
        structured: options.structured === true,
        layers: result.layers.map((l) => `${l.node}: ${l.detail}`),
        compressed_bytes: { parent: before, candidate: after },
        ...(tuned !== null && options.finetune !== undefined
          ? {
              finetune: {
                data: options.finetune.source,
                rows: tuned.rows,
                epochs: tuned.epochs,
                metric: tuned.metric,
                before: tuned.before,
                after: tuned.after,
              },
            }
          : {}),
      },
      notes: [
        `compressed (gzip -9) size ${before} → ${after} B (${(after / before).toFixed(3)}×)` +
          (options.structured
            ? ''
            : '; onnxruntime runs zeros as fast as any weight, so unstructured pruning saves only compressed size'),
        ...result.layers.map((l) => `${l.node}: ${l.detail}`),
        ...(tuned !== null
          ? [
              `fine-tuned ${tuned.epochs} epochs on ${tuned.rows} rows of ${options.finetune?.source ?? ''}: ${tuned.metric} on those rows ${tuned.before.toFixed(4)} pruned → ${tuned.after.toFixed(4)} fine-tuned`,
            ]
          : []),
      ],
    };
  }
  const result = quantizeDynamic(readModelFile(parentPath), {
    ...(options.perChannel ? { perChannel: true } : {}),
    ...(options.reduceRange ? { reduceRange: true } : {}),
    ...(options.exclude && options.exclude.length > 0 ? { exclude: options.exclude } : {}),
  });
  writeFileSync(outPath, writeModel(result.model));
  return {
    quantized: result.quantized.length,
    skipped: result.skipped,
    parameters: {
      per_channel: options.perChannel === true,
      reduce_range: options.reduceRange === true,
      exclude: options.exclude ?? [],
    },
    notes: [],
  };
}

/** onnxruntime's offline optimization: create a session that writes its optimized graph, then drop it. */
export async function offlineOptimize(
  runtime: Runtime,
  modelPath: string,
  outPath: string,
  level: GraphOptimizationLevel,
): Promise<void> {
  const loaded = await runtime.load({
    modelPath,
    label: 'optimize',
    instances: 1,
    session: { graphOptimizationLevel: level, optimizedModelFilePath: outPath },
    warmup: [],
  });
  await loaded.unload();
}
