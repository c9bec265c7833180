/**
 * Multi-layer perceptron classifier: ReLU hidden layers, softmax output, mean cross-entropy plus
 * an L2 penalty on the weights, trained with Adam on shuffled mini-batches. Inputs are taken as
 * given (standardize them first); everything is seeded, so a seed fixes the result.
 */
import { errors } from '../core/errors.js';
import { DenseNetwork, type FeatureMatrix } from './network.js';
import { batchObjective, softmaxRows } from './objective.js';

export { softmaxRows };
import { Adam } from './optimizer.js';
import { Random } from './random.js';
import { gatherRows } from './table.js';

export interface MlpClassifierOptions {
  /** Width of each hidden layer. Default [32]. */
  hiddenLayers?: number[];
  /** Passes over the training rows. Default 50. */
  epochs?: number;
  /** Rows per Adam step. Default 32. */
  batchSize?: number;
  /** Adam step size. Default 1e-3. */
  learningRate?: number;
  /** Weight of ½‖W‖² in the loss (biases are not penalized). Default 1e-4. */
  l2?: number;
  /** Seeds the initial weights and the order of the mini-batches. Default 0. */
  seed?: number;
  /** Called after each epoch with the mean training cross-entropy of that epoch. */
  onEpoch?: (epoch: number, epochs: number, loss: number) => void;
}

export interface ClassificationData {
  /** rows × featureCount, row-major. */
  features: FeatureMatrix;
  /** Class index of each row, 0..classCount-1. */
  labels: Int32Array;
  rows: number;
  classCount: number;
}

/** Index of the largest value in each row; the first one wins a tie, as in ONNX ArgMax. */
export function argmaxRows(values: Float64Array | Float32Array, rows: number, width: number): Int32Array {
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const base = r * width;
    let best = 0;
    for (let k = 1; k < width; k++)
      if ((values[base + k] as number) > (values[base + best] as number)) best = k;
    out[r] = best;
  }
  return out;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw errors.invalidArgument(`${name} must be a positive integer, got ${value}`);
  }
  return value;
}

export class MlpClassifier {
  constructor(readonly network: DenseNetwork) {}

  get featureCount(): number {
    return this.network.inputSize;
  }

  get classCount(): number {
    return this.network.outputSize;
  }

  /** Train a new classifier on `data`. */
  static fit(data: ClassificationData, options: MlpClassifierOptions = {}): MlpClassifier {
    const hiddenLayers = options.hiddenLayers ?? [32];
    const epochs = positiveInteger('epochs', options.epochs ?? 50);
    const batchSize = positiveInteger('batchSize', options.batchSize ?? 32);
    const l2 = options.l2 ?? 1e-4;
    if (!(l2 >= 0)) throw errors.invalidArgument(`l2 must be ≥ 0, got ${l2}`);
    const { features, labels, rows, classCount } = data;
    positiveInteger('rows', rows);
    positiveInteger('classCount', classCount);
    const featureCount = features.length / rows;
    if (!Number.isInteger(featureCount) || featureCount < 1 || labels.length !== rows) {
      throw errors.invalidArgument(
        `expected ${rows} labels and a multiple of ${rows} feature values, got ${labels.length} and ${features.length}`,
      );
    }
    for (const label of labels) {
      if (label < 0 || label >= classCount) {
        throw errors.invalidArgument(`class index ${label} is outside 0..${classCount - 1}`);
      }
    }

    const random = new Random(options.seed ?? 0);
    const network = DenseNetwork.initialized([featureCount, ...hiddenLayers, classCount], random);
    const model = new MlpClassifier(network);
    const optimizer = new Adam(
      network.parameters.length,
      options.learningRate === undefined ? {} : { learningRate: options.learningRate },
    );
    const gradient = new Float64Array(network.parameters.length);
    const batchFeatures = new Float64Array(batchSize * featureCount);
    const batchLabels = new Int32Array(batchSize);
    const source = features instanceof Float64Array ? features : Float64Array.from(features);
    const order = new Int32Array(rows);
    for (let i = 0; i < rows; i++) order[i] = i;
    // One set of buffers for the whole run: lossAndGradient's would be allocated per batch.
    const ws = network.workspace(Math.min(batchSize, rows));

    for (let epoch = 1; epoch <= epochs; epoch++) {
      random.shuffle(order);
      let lossSum = 0;
      for (let start = 0; start < rows; start += batchSize) {
        const n = Math.min(batchSize, rows - start);
        const indices = order.subarray(start, start + n);
        const x = gatherRows(source, featureCount, indices, batchFeatures).subarray(0, n * featureCount);
        const y = batchLabels.subarray(0, n);
        for (let k = 0; k < n; k++) y[k] = labels[indices[k] as number] as number;
        gradient.fill(0);
        lossSum +=
          batchObjective(
            network,
            ws,
            x,
            n,
            { labels: y, targets: null, l2, pinFirstOutput: false },
            gradient,
          ) * n;
        optimizer.step(network.parameters, gradient);
      }
      options.onEpoch?.(epoch, epochs, lossSum / rows);
    }
    return model;
  }

  /**
   * Loss of the current parameters on a batch, its gradient added into `gradient` (the caller zeroes
   * it). `loss` = mean cross-entropy + l2/2 · Σ weights²; `crossEntropy` is the first term alone.
   */
  lossAndGradient(
    x: FeatureMatrix,
    labels: Int32Array,
    rows: number,
    l2: number,
    gradient: Float64Array,
  ): { loss: number; crossEntropy: number } {
    const classes = this.classCount;
    const trace = this.network.forwardTrace(x, rows);
    const probabilities = softmaxRows(trace[trace.length - 1] as Float64Array, rows, classes);
    let crossEntropy = 0;
    // ∂(mean CE)/∂logits = (p − onehot) / rows, computed in place of the probabilities.
    const delta = probabilities;
    for (let r = 0; r < rows; r++) {
      const k = r * classes + (labels[r] as number);
      crossEntropy -= Math.log(Math.max(delta[k] as number, 1e-300));
      delta[k] = (delta[k] as number) - 1;
    }
    for (let i = 0; i < delta.length; i++) delta[i] = (delta[i] as number) / rows;
    this.network.backward(trace, delta, rows, gradient);

    let penalty = 0;
    if (l2 > 0) {
      const grads = this.network.layerViews(gradient);
      this.network.layers.forEach((layer, l) => {
        const g = (grads[l] as (typeof grads)[number]).weights;
        for (let i = 0; i < layer.weights.length; i++) {
          const w = layer.weights[i] as number;
          penalty += w * w;
          g[i] = (g[i] as number) + l2 * w;
        }
      });
    }
    crossEntropy /= rows;
    return { loss: crossEntropy + 0.5 * l2 * penalty, crossEntropy };
  }

  /** Class probabilities, rows × classCount, row-major. */
  predictProba(x: Float32Array | Float64Array, rows: number): Float64Array {
    return softmaxRows(this.network.forward(x, rows), rows, this.classCount);
  }

  /** Most probable class index of each row. */
  predict(x: Float32Array | Float64Array, rows: number): Int32Array {
    return argmaxRows(this.predictProba(x, rows), rows, this.classCount);
  }

  /** Round the parameters to float32 so that this model computes what its FP32 ONNX export computes. */
  roundToFloat32(): void {
    this.network.roundToFloat32();
  }
}

/** Share of rows whose predicted class equals the label. */
export function accuracy(predicted: Int32Array, labels: Int32Array): number {
  if (predicted.length !== labels.length || labels.length === 0) {
    throw errors.invalidArgument(
      `accuracy needs two equal, non-empty label arrays, got ${predicted.length} and ${labels.length}`,
    );
  }
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) correct++;
  return correct / labels.length;
}
