/**
 * Permutation importance (Breiman, 2001; scikit-learn's `permutation_importance`): how much a score
 * drops when one feature's column is shuffled across the rows, breaking its link to the labels. Global,
 * model-agnostic, and it needs labelled rows: tend takes them from the prediction log joined with
 * feedback. Every shuffled copy goes through the model in large batches.
 */
import { evaluateRows, type BatchModel, type EvaluationCounter } from './batch-model.js';
import type { SeededRandom } from './random.js';

/** A score of the model's outputs (`rows × outputs`) against the labels; higher is better. */
export type Score = (outputs: Float64Array, rows: number) => number;

export interface PermutationOptions {
  /** Shuffles per feature (default 5, as scikit-learn). */
  repeats?: number;
  random: SeededRandom;
  score: Score;
  counter?: EvaluationCounter;
}

export interface PermutationResult {
  /** The score on the rows as they are. */
  baseline: number;
  /** Mean drop of the score per feature. */
  mean: Float64Array;
  /** Standard deviation of the drop over the repeats. */
  std: Float64Array;
}

/** Accuracy of the arg-max column against class indices (rows without a label are skipped). */
export function accuracyScore(labels: Int32Array, classes: number, columnOffset = 0, width = classes): Score {
  return (outputs, rows) => {
    let right = 0;
    let seen = 0;
    for (let i = 0; i < rows; i++) {
      const label = labels[i] as number;
      if (label < 0) continue;
      let best = 0;
      for (let c = 1; c < classes; c++)
        if (
          (outputs[i * width + columnOffset + c] as number) >
          (outputs[i * width + columnOffset + best] as number)
        )
          best = c;
      seen++;
      if (best === label) right++;
    }
    return seen > 0 ? right / seen : 0;
  };
}

/** Negative mean squared error of one column against values (NaN values skipped). */
export function negativeMseScore(values: Float64Array, column = 0, width = 1): Score {
  return (outputs, rows) => {
    let sum = 0;
    let seen = 0;
    for (let i = 0; i < rows; i++) {
      const v = values[i] as number;
      if (Number.isNaN(v)) continue;
      sum += ((outputs[i * width + column] as number) - v) ** 2;
      seen++;
    }
    return seen > 0 ? -sum / seen : 0;
  };
}

/** Importance of each feature of `data` (`rows × features`) for `score`. */
export async function permutationImportance(
  model: BatchModel,
  data: Float32Array,
  rows: number,
  options: PermutationOptions,
): Promise<PermutationResult> {
  const m = model.features;
  const k = model.outputs;
  const repeats = Math.max(1, options.repeats ?? 5);
  const blocks = 1 + m * repeats; // block 0: the rows as they are; then feature j, repeat r
  const perms = new Int32Array(m * repeats * rows);
  for (let b = 0; b < m * repeats; b++) {
    const perm = perms.subarray(b * rows, (b + 1) * rows);
    for (let i = 0; i < rows; i++) perm[i] = i;
    options.random.shuffle(perm);
  }
  const outputs = new Float64Array(blocks * rows * k);
  await evaluateRows(
    model,
    blocks * rows,
    (start, count, out) => {
      for (let r = 0; r < count; r++) {
        const t = start + r;
        const block = Math.floor(t / rows);
        const i = t - block * rows;
        out.set(data.subarray(i * m, (i + 1) * m), r * m);
        if (block > 0) {
          const j = Math.floor((block - 1) / repeats);
          const from = perms[(block - 1) * rows + i] as number;
          out[r * m + j] = data[from * m + j] as number;
        }
      }
    },
    (start, _count, result) => outputs.set(result, start * k),
    options.counter,
  );
  const scoreOf = (block: number): number =>
    options.score(outputs.subarray(block * rows * k, (block + 1) * rows * k), rows);
  const baseline = scoreOf(0);
  const mean = new Float64Array(m);
  const std = new Float64Array(m);
  for (let j = 0; j < m; j++) {
    const drops: number[] = [];
    for (let r = 0; r < repeats; r++) drops.push(baseline - scoreOf(1 + j * repeats + r));
    const mu = drops.reduce((a, b) => a + b, 0) / repeats;
    mean[j] = mu;
    std[j] = Math.sqrt(drops.reduce((a, b) => a + (b - mu) ** 2, 0) / repeats);
  }
  return { baseline, mean, std };
}
