/** Work on a registry's models from a script: train one from a CSV, optimize a version. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { GraphOptimizationLevel } from '../core/config.js';
import { errors } from '../core/errors.js';
import {
  csvEvaluation,
  inferMaxBatchSize,
  optimizeVersion,
  trainAndRegister,
  type EvaluationData,
  type OptimizeMethod,
  type OptimizeReport,
  type TrainJobOptions,
  type TrainJobResult,
} from '../engine/index.js';
import { facadeOf, type Registry } from './registry.js';

/**
 * What `train` fits: `data` (a CSV with a header row), the `target` column, the `model` kind
 * (`linear`, `ridge`, `logistic`, `softmax`, `mlp`), the `name` to register it under, and optional
 * hyperparameters (`epochs`, `learningRate`, `hidden` for the MLP, `seed`…) as `tend train` takes them.
 */
export type TrainModelOptions = Omit<TrainJobOptions, 'actor'>;
/** The version `train` registered, its run id, its validation metrics and its classes (classifiers). */
export type TrainedVersion = TrainJobResult;

/**
 * Train a model on a CSV and register it as a new version, with its run and its training data as the
 * monitoring reference. A failed training records a failed run and registers nothing.
 * @example
 * const trained = await train(registry, { data: 'iris.csv', target: 'species', model: 'softmax', name:
 * 'iris', seed: 1 });
 * console.log(trained.version, trained.metrics);
 */
export function train(registry: Registry, options: TrainModelOptions): Promise<TrainedVersion> {
  return trainAndRegister(facadeOf(registry), {
    ...options,
    data: resolve(options.data),
    actor: registry.actor,
  });
}

/** How `optimize` rewrites a version and when it registers the result. */
export interface OptimizeModelOptions {
  /**
   * `graph`: onnxruntime's graph optimizations baked into the file; `int8-dynamic`: int8 weights, dynamic
   * activation quantization; `fp16`: float16 weights; `prune`: magnitude or structured pruning.
   * (`int8-static` needs calibration data: use the CLI's `--calibration`.)
   */
  method: OptimizeMethod;
  /** The version to optimize: a number, an alias or `'latest'` (the default). */
  version?: string;
  /** graph: the optimization level (default `all`). */
  level?: GraphOptimizationLevel;
  /** int8-dynamic: one scale per output channel. */
  perChannel?: boolean;
  /** int8-dynamic: 7-bit weights (for CPUs without VNNI). */
  reduceRange?: boolean;
  /** int8-dynamic: node names or op types left in float. */
  exclude?: string[];
  /** prune: the share of weights zeroed, or of hidden units / channels removed (default 0.5). */
  sparsity?: number;
  /** prune: remove whole hidden units / Conv channels instead of zeroing single weights. */
  structured?: boolean;
  /** A CSV of evaluation rows (one column per feature); without it a sample is generated (agreement only). */
  evalCsv?: string;
  /** The label column of `evalCsv`, for accuracy. */
  target?: string;
  /** With labels: the most accuracy the candidate may lose, in points (default 1). */
  maxAccuracyDrop?: number;
  /** Without labels: the least mean cosine similarity of the outputs (default 0.999). */
  minCosine?: number;
  /** The most the candidate may be slower than its parent at its best batch size (default 0.05). */
  maxSlowdown?: number;
  /** Register the candidate even when it fails the gate (quality or speed). */
  force?: boolean;
  /** Timing: rounds per batch size (default 5) and milliseconds per model and round (default 300). */
  rounds?: number;
  msPerRun?: number;
}

/** The comparison of parent and candidate (size, speed, agreement, accuracy) and whether it was registered. */
export type OptimizeResult = OptimizeReport;

/**
 * Optimize a version, compare it with its parent, and register it as a new version when it passes
 * the gate (`report.registered`, `report.version`); the report is attached to the new version.
 * @example
 * const report = await optimize(registry, 'digits', { method: 'int8-dynamic', evalCsv: 'digits.csv', target:
 * 'label' });
 * console.log(report.registered ? `version ${report.version}` : report.reason, report.size_ratio);
 */
export async function optimize(
  registry: Registry,
  model: string,
  options: OptimizeModelOptions,
): Promise<OptimizeResult> {
  const facade = facadeOf(registry);
  const { method, version, evalCsv, target, ...rest } = options;
  if (target !== undefined && evalCsv === undefined)
    throw errors.invalidArgument('target names a column of the evalCsv file');
  let evaluation: EvaluationData | undefined;
  if (evalCsv !== undefined) {
    const file = resolve(evalCsv);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw errors.invalidArgument(`cannot read ${file}: ${(err as Error).message}`);
    }
    const parent = await facade.models.resolveVersion(model, version ?? 'latest');
    evaluation = csvEvaluation(text, file, parent.signature, inferMaxBatchSize(parent.signature, {}), target);
  }
  return optimizeVersion(facade, model, version, {
    ...rest,
    method,
    ...(evaluation !== undefined ? { evaluation } : {}),
    actor: registry.actor,
  });
}
