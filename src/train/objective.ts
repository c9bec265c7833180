/**
 * The training objective of every model on a batch of network inputs: mean cross-entropy of the
 * softmax head (classification) or half the mean squared error on the standardized target
 * (regression), plus ½·l2·‖W‖² over the weights (biases are not penalized). A logistic model keeps
 * its first output row at zero by dropping that row's gradient.
 */
import type { DenseNetwork, NetworkWorkspace } from './network.js';

/** Row-wise softmax in place (max subtracted first, as onnxruntime does, so exp never overflows). */
export function softmaxRows(values: Float64Array, rows: number, width: number): Float64Array {
  for (let r = 0; r < rows; r++) {
    const base = r * width;
    let max = -Infinity;
    for (let k = 0; k < width; k++) max = Math.max(max, values[base + k] as number);
    let sum = 0;
    for (let k = 0; k < width; k++) {
      const e = Math.exp((values[base + k] as number) - max);
      values[base + k] = e;
      sum += e;
    }
    for (let k = 0; k < width; k++) values[base + k] = (values[base + k] as number) / sum;
  }
  return values;
}

export interface ObjectiveSetup {
  /** Classification labels of the batch rows, or null for regression. */
  labels: Int32Array | null;
  /** Regression targets (standardized) of the batch rows, or null for classification. */
  targets: Float64Array | null;
  l2: number;
  /** Binary logistic regression: the first output row is pinned at zero. */
  pinFirstOutput: boolean;
}

/** Smallest probability a log loss takes, as scikit-learn clips it. */
export const PROBABILITY_FLOOR = 1e-15;

/**
 * Data loss (without the penalty) of `rows` rows of `x`; when `gradient` is given, adds the gradient
 * of data loss + penalty into it (the caller zeroes it). Uses `ws` for every buffer.
 */
export function batchObjective(
  network: DenseNetwork,
  ws: NetworkWorkspace,
  x: Float64Array,
  rows: number,
  setup: ObjectiveSetup,
  gradient: Float64Array | null,
): number {
  const out = network.forwardBatch(x, rows, ws);
  const width = network.outputSize;
  const delta = ws.outputDelta(rows);
  let loss = 0;
  if (setup.labels !== null) {
    const labels = setup.labels;
    delta.set(out.subarray(0, rows * width));
    softmaxRows(delta, rows, width);
    for (let r = 0; r < rows; r++) {
      const base = r * width;
      const label = labels[r] as number;
      loss -= Math.log(Math.max(delta[base + label] as number, PROBABILITY_FLOOR));
      // ∂(mean CE)/∂logits = (p − onehot) / rows.
      delta[base + label] = (delta[base + label] as number) - 1;
    }
  } else {
    const targets = setup.targets as Float64Array;
    for (let r = 0; r < rows; r++) {
      const d = (out[r] as number) - (targets[r] as number);
      delta[r] = d;
      loss += 0.5 * d * d;
    }
  }
  loss /= rows;
  if (gradient === null) return loss;
  for (let i = 0; i < delta.length; i++) delta[i] = (delta[i] as number) / rows;
  network.backwardBatch(x, rows, ws, gradient);
  addPenaltyGradient(network, setup.l2, gradient);
  if (setup.pinFirstOutput) pinFirstOutputGradient(network, gradient);
  return loss;
}

/** ½·l2·‖W‖² over every layer's weights. */
export function penalty(network: DenseNetwork, l2: number): number {
  if (l2 === 0) return 0;
  let sum = 0;
  for (const layer of network.layers)
    for (let i = 0; i < layer.weights.length; i++) sum += (layer.weights[i] as number) ** 2;
  return 0.5 * l2 * sum;
}

/** Add l2·W to the weight part of `gradient`. */
export function addPenaltyGradient(network: DenseNetwork, l2: number, gradient: Float64Array): void {
  if (l2 === 0) return;
  const grads = network.layerViews(gradient);
  network.layers.forEach((layer, l) => {
    const g = (grads[l] as (typeof grads)[number]).weights;
    for (let i = 0; i < layer.weights.length; i++)
      g[i] = (g[i] as number) + l2 * (layer.weights[i] as number);
  });
}

/** Zero the gradient of the output layer's first row (weights and bias). */
export function pinFirstOutputGradient(network: DenseNetwork, gradient: Float64Array): void {
  const last = network.layerViews(gradient)[network.layers.length - 1];
  if (last === undefined) return;
  last.weights.fill(0, 0, last.inputs);
  last.bias[0] = 0;
}
