/**
 * The contract of the epoch graph (epoch-graph.ts): its spec, the names of its inputs and outputs,
 * the batch and parameter counts its shapes follow, and Adam's per-batch schedule that the caller
 * feeds it. The trainer that runs the graph needs only this file's values.
 */
import { errors } from '../core/errors.js';
import type { HiddenActivation } from './network.js';
import type { Task } from './training-table.js';

export interface EpochGraphSpec {
  /** Layer widths, input first, output last. */
  sizes: readonly number[];
  activation: HiddenActivation;
  task: Task;
  /** Rows of each epoch (the fit rows). */
  rows: number;
  /** Rows per Adam step (≤ rows); the last batch holds the remainder. */
  batchSize: number;
  l2: number;
  beta1: number;
  beta2: number;
  /** Validation rows scored after the epoch's last step (0 or absent: none). */
  validationRows?: number;
}

/** Names of the graph's inputs. */
export const EPOCH_INPUTS = {
  /** FP32 [rows, inputs]: the encoded fit rows, in table order (the same tensor every epoch). */
  features: 'features',
  /** FP32 [rows, outputs]: one-hot labels, or [rows, 1] standardized targets. */
  targets: 'targets',
  /** INT32 [rows]: this epoch's row order; batch b is rows order[b·batch … (b+1)·batch). */
  order: 'order',
  /** FP32 [parameterCount] each. */
  parameters: 'parameters',
  adamM: 'adam_m',
  adamV: 'adam_v',
  /** FP32 [batches]: Adam's bias-corrected step size of each batch. */
  stepSizes: 'step_sizes',
  /** FP32 [batches]: Adam's ε̂ of each batch. */
  epsilons: 'epsilons',
  /** FP32 [validationRows, inputs] and [validationRows, outputs], when the spec has validation rows. */
  validationFeatures: 'validation_features',
  validationTargets: 'validation_targets',
} as const;

/** Names of the graph's outputs. */
export const EPOCH_OUTPUTS = {
  parameters: 'parameters_out',
  adamM: 'adam_m_out',
  adamV: 'adam_v_out',
  /** FP32 scalar: Σ over the epoch's rows of each row's data loss (cross-entropy, or ½·squared error). */
  lossSum: 'loss_sum',
  /** FP32 scalar: the same sum over the validation rows, at the epoch's final parameters. */
  validationLossSum: 'validation_loss_sum',
  /** FP32 scalar, classification only: validation rows whose first largest output is their class. */
  validationCorrect: 'validation_correct',
} as const;

/** Number of batches of an epoch. */
export function batchCount(rows: number, batchSize: number): number {
  return Math.ceil(rows / batchSize);
}

/** Parameter count of a network with these layer widths (DenseNetwork's layout). */
export function parameterCount(sizes: readonly number[]): number {
  let count = 0;
  for (let l = 0; l + 1 < sizes.length; l++) count += ((sizes[l] as number) + 1) * (sizes[l + 1] as number);
  return count;
}

/**
 * Step sizes and ε̂ of Adam's steps `firstStep`, `firstStep + 1`, … (1-based), the arithmetic of
 * optimizer.ts's Adam in float64.
 */
export function adamSchedule(
  firstStep: number,
  steps: number,
  rate: { learningRate: number; beta1: number; beta2: number; epsilon: number },
): { stepSizes: Float32Array; epsilons: Float32Array } {
  const out = { stepSizes: new Float32Array(steps), epsilons: new Float32Array(steps) };
  for (let k = 0; k < steps; k++) {
    const t = firstStep + k;
    const correction = Math.sqrt(1 - rate.beta2 ** t);
    out.stepSizes[k] = (rate.learningRate * correction) / (1 - rate.beta1 ** t);
    out.epsilons[k] = rate.epsilon * correction;
  }
  return out;
}

/** Throws an invalid-argument error naming the first thing wrong with `spec`. */
export function checkEpochGraphSpec(spec: EpochGraphSpec): void {
  const fail = (message: string) => errors.invalidArgument(`epoch graph: ${message}`);
  const { sizes, rows, batchSize } = spec;
  if (sizes.length < 2 || sizes.some((s) => !Number.isSafeInteger(s) || s < 1)) {
    throw fail(`layer sizes must be two or more positive integers, got [${sizes.join(', ')}]`);
  }
  if (spec.task === 'regression' && sizes[sizes.length - 1] !== 1) throw fail('a regressor has one output');
  if (spec.task === 'classification' && (sizes[sizes.length - 1] as number) < 2)
    throw fail('a classifier has two or more outputs');
  if (!Number.isSafeInteger(rows) || rows < 1) throw fail(`rows must be a positive integer, got ${rows}`);
  if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > rows)
    throw fail(`batch size must be in 1..${rows}, got ${batchSize}`);
  if (!(spec.l2 >= 0) || !Number.isFinite(spec.l2)) throw fail(`l2 must be a number ≥ 0, got ${spec.l2}`);
  const validationRows = spec.validationRows ?? 0;
  if (!Number.isSafeInteger(validationRows) || validationRows < 0)
    throw fail(`validation rows must be an integer ≥ 0, got ${validationRows}`);
  for (const [name, beta] of [
    ['beta1', spec.beta1],
    ['beta2', spec.beta2],
  ] as const) {
    if (!(beta >= 0 && beta < 1)) throw fail(`${name} must be in [0, 1), got ${beta}`);
  }
}
