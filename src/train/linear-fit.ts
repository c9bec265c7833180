/**
 * Fitting the single-layer models exactly or to convergence: least squares / ridge by the normal
 * equations, logistic and softmax regression by full-batch L-BFGS on the mean cross-entropy plus
 * ½·l2·‖W‖² (scikit-learn's LogisticRegression with C = 1 / (l2 · n)).
 */
import { fitLeastSquares } from './least-squares.js';
import { minimizeLbfgs } from './lbfgs.js';
import { batchObjective, penalty, addPenaltyGradient, pinFirstOutputGradient } from './objective.js';
import type { EncodedData } from './encoded-data.js';
import type { EpochRecord } from './gradient-descent.js';
import type { DenseNetwork } from './network.js';

// Rows per forward pass in a full-batch objective, so memory stays bounded on large tables.
const FULL_BATCH_CHUNK_ROWS = 4096;

/** Set the [width, 1] `network` to the least-squares (α = 0) or ridge fit of the standardized targets. */
export function fitLinearExact(network: DenseNetwork, data: EncodedData, alpha: number): void {
  const fit = fitLeastSquares(data.x, data.rows, data.width, data.targets as Float64Array, alpha);
  const layer = network.layers[0];
  if (layer === undefined) return;
  layer.weights.set(fit.weights);
  layer.bias[0] = fit.intercept;
}

/**
 * Mean data loss over all rows of `data` at the network's current parameters; its gradient plus the
 * penalty's goes into `gradient` (overwritten). Returns the data loss (without the penalty).
 */
export function fullBatchObjective(
  network: DenseNetwork,
  data: EncodedData,
  l2: number,
  pinFirstOutput: boolean,
  gradient: Float64Array,
): number {
  const chunk = Math.min(data.rows, FULL_BATCH_CHUNK_ROWS);
  const ws = network.workspace(chunk);
  const part = chunk < data.rows ? new Float64Array(gradient.length) : gradient;
  gradient.fill(0);
  let loss = 0;
  for (let start = 0; start < data.rows; start += chunk) {
    const n = Math.min(chunk, data.rows - start);
    if (part !== gradient) part.fill(0);
    const setup = {
      labels: data.labels?.subarray(start, start + n) ?? null,
      targets: data.targets?.subarray(start, start + n) ?? null,
      l2: 0,
      pinFirstOutput: false,
    };
    const weight = n / data.rows;
    loss +=
      weight *
      batchObjective(
        network,
        ws,
        data.x.subarray(start * data.width, (start + n) * data.width),
        n,
        setup,
        part,
      );
    if (part !== gradient)
      for (let i = 0; i < part.length; i++)
        gradient[i] = (gradient[i] as number) + weight * (part[i] as number);
  }
  addPenaltyGradient(network, l2, gradient);
  if (pinFirstOutput) pinFirstOutputGradient(network, gradient);
  return loss;
}

export interface LbfgsFitResult {
  epochs: EpochRecord[];
  iterations: number;
  converged: boolean;
}

/** Minimize data loss + ½·l2·‖W‖² from the network's current parameters (zeros for a fresh fit). */
export function fitByLbfgs(
  network: DenseNetwork,
  data: EncodedData,
  options: {
    l2: number;
    pinFirstOutput: boolean;
    maxIterations: number;
    targetStd?: number;
    onEpoch?: (record: EpochRecord) => void;
  },
): LbfgsFitResult {
  const { l2, pinFirstOutput } = options;
  const scale = data.targets !== null ? 2 * (options.targetStd ?? 1) ** 2 : 1;
  let dataLoss = 0;
  const objective = (parameters: Float64Array, gradient: Float64Array): number => {
    network.parameters.set(parameters);
    dataLoss = fullBatchObjective(network, data, l2, pinFirstOutput, gradient);
    return dataLoss + penalty(network, l2);
  };
  const epochs: EpochRecord[] = [];
  const x = Float64Array.from(network.parameters);
  const result = minimizeLbfgs(objective, x, {
    maxIterations: options.maxIterations,
    // Mean-loss scale: scikit-learn's default tol 1e-4 applies to the summed loss, far looser than this.
    gradientTolerance: 1e-8,
    onIteration: (iteration) => {
      const record: EpochRecord = { epoch: iteration, train_loss: dataLoss * scale };
      epochs.push(record);
      options.onEpoch?.(record);
    },
  });
  network.parameters.set(x);
  return { epochs, iterations: result.iterations, converged: result.converged };
}
