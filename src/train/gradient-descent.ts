/**
 * The mini-batch loop shared by MLP training and mini-batch updates: shuffled batches, one optimizer
 * step each, an EpochRecord per epoch, and optional early stopping on a validation set that restores
 * the best weights seen.
 */
import { batchObjective, type ObjectiveSetup } from './objective.js';
import { gatherBatch, type EncodedData } from './encoded-data.js';
import type { DenseNetwork, NetworkWorkspace } from './network.js';
import type { Optimizer } from './optimizer.js';
import type { Random } from './random.js';

export interface EpochRecord {
  epoch: number;
  /** Mean data loss over the epoch's batches: cross-entropy, or MSE in the target's units. */
  train_loss: number;
  validation_loss?: number;
  /** Accuracy (classification) or R² (regression) on the validation rows. */
  validation_metric?: number;
}

export interface DescentOptions {
  epochs: number;
  batchSize: number;
  optimizer: Optimizer;
  l2: number;
  pinFirstOutput: boolean;
  random: Random;
  /** Regression: the target's std, to report losses in its units. */
  targetStd?: number;
  validation?: EncodedData;
  /** Epochs without a validation-loss improvement (by more than 1e-4) before stopping. */
  patience: number;
  onEpoch?: (record: EpochRecord) => void;
}

export interface DescentResult {
  epochs: EpochRecord[];
  stoppedEarly: boolean;
  /** Epoch whose weights were kept (the last one without validation). */
  bestEpoch: number;
}

// scikit-learn's default tol for n_iter_no_change.
const IMPROVEMENT = 1e-4;
const EVALUATION_CHUNK_ROWS = 1024;

/** Data loss over all of `data` and its metric (accuracy or R² of the standardized target). */
export function lossAndMetric(
  network: DenseNetwork,
  ws: NetworkWorkspace,
  data: EncodedData,
): { loss: number; metric: number } {
  let lossSum = 0;
  let correct = 0;
  let squaredError = 0;
  let targetSum = 0;
  let targetSquares = 0;
  const width = network.outputSize;
  const chunk = Math.min(EVALUATION_CHUNK_ROWS, ws.maxRows);
  for (let start = 0; start < data.rows; start += chunk) {
    const n = Math.min(chunk, data.rows - start);
    const x = data.x.subarray(start * data.width, (start + n) * data.width);
    const labels = data.labels?.subarray(start, start + n) ?? null;
    const targets = data.targets?.subarray(start, start + n) ?? null;
    lossSum += n * batchObjective(network, ws, x, n, { labels, targets, l2: 0, pinFirstOutput: false }, null);
    const out = ws.activations[ws.activations.length - 1] as Float64Array;
    for (let r = 0; r < n; r++) {
      if (labels !== null) {
        let best = 0;
        for (let k = 1; k < width; k++)
          if ((out[r * width + k] as number) > (out[r * width + best] as number)) best = k;
        if (best === labels[r]) correct++;
      } else if (targets !== null) {
        const t = targets[r] as number;
        squaredError += ((out[r] as number) - t) ** 2;
        targetSum += t;
        targetSquares += t * t;
      }
    }
  }
  const loss = lossSum / data.rows;
  if (data.labels !== null) return { loss, metric: correct / data.rows };
  const total = targetSquares - (targetSum * targetSum) / data.rows;
  return { loss, metric: total > 0 ? 1 - squaredError / total : 0 };
}

/** Train `network` in place on `train` with shuffled mini-batches. */
export function runGradientDescent(
  network: DenseNetwork,
  train: EncodedData,
  options: DescentOptions,
): DescentResult {
  const { epochs, optimizer, random, validation } = options;
  const batchSize = Math.min(options.batchSize, train.rows);
  const ws = network.workspace(Math.max(batchSize, Math.min(validation?.rows ?? 0, EVALUATION_CHUNK_ROWS)));
  const gradient = new Float64Array(network.parameters.length);
  const batchX = new Float64Array(batchSize * train.width);
  const batchLabels = new Int32Array(batchSize);
  const batchTargets = new Float64Array(batchSize);
  const order = random.permutation(train.rows);
  // Regression losses are halved squared errors of the standardized target; records show the MSE.
  const scale = train.targets !== null ? 2 * (options.targetStd ?? 1) ** 2 : 1;
  const records: EpochRecord[] = [];
  let best = Infinity;
  let bestEpoch = 0;
  let bestParameters: Float64Array | null = null;
  let sinceBest = 0;
  let stoppedEarly = false;

  for (let epoch = 1; epoch <= epochs; epoch++) {
    random.shuffle(order);
    let lossSum = 0;
    for (let start = 0; start < train.rows; start += batchSize) {
      const n = Math.min(batchSize, train.rows - start);
      gatherBatch(train, order.subarray(start, start + n), batchX, batchLabels, batchTargets);
      const setup: ObjectiveSetup = {
        labels: train.labels === null ? null : batchLabels.subarray(0, n),
        targets: train.targets === null ? null : batchTargets.subarray(0, n),
        l2: options.l2,
        pinFirstOutput: options.pinFirstOutput,
      };
      gradient.fill(0);
      lossSum += n * batchObjective(network, ws, batchX.subarray(0, n * train.width), n, setup, gradient);
      optimizer.step(network.parameters, gradient);
    }
    const record: EpochRecord = { epoch, train_loss: (lossSum / train.rows) * scale };
    if (validation !== undefined) {
      const { loss, metric } = lossAndMetric(network, ws, validation);
      record.validation_loss = loss * scale;
      record.validation_metric = metric;
      if (loss < best - IMPROVEMENT) {
        best = loss;
        bestEpoch = epoch;
        bestParameters = Float64Array.from(network.parameters);
        sinceBest = 0;
      } else sinceBest++;
    } else bestEpoch = epoch;
    records.push(record);
    options.onEpoch?.(record);
    if (validation !== undefined && sinceBest >= options.patience) {
      stoppedEarly = epoch < epochs;
      break;
    }
  }
  if (bestParameters !== null) network.parameters.set(bestParameters);
  return { epochs: records, stoppedEarly, bestEpoch };
}
