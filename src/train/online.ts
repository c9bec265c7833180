/**
 * Online learning, one sample at a time: predict first, score that prediction (progressive
 * validation), then take one SGD step on the sample. Works on a private copy of the model; snapshots
 * are independent copies, so later steps never change a snapshot already handed out.
 */
import { errors } from '../core/errors.js';
import { batchObjective, PROBABILITY_FLOOR } from './objective.js';
import type { DenseNetwork, FeatureMatrix, NetworkWorkspace } from './network.js';
import { encodeFeatures } from './preprocessing.js';
import type { TrainedModel } from './trained-model.js';

export type LearningRateSchedule = 'constant' | 'invscaling';

export interface OnlineLearnerOptions {
  /** Step size (of the first step, for 'invscaling'). Default 0.01. */
  learningRate?: number;
  /**
   * 'constant' (default) keeps adapting at the same pace, which is what lets a model follow drift;
   * 'invscaling' uses learningRate / t^powerT (t = samples seen), as scikit-learn's SGD does.
   */
  schedule?: LearningRateSchedule;
  /** Exponent of 'invscaling'. Default 0.25. */
  powerT?: number;
  /** Weight penalty per step (½·l2·‖W‖²). Default: the model's (ridge: α / training rows), else 0. */
  l2?: number;
  /** Samples in the trailing window of progressive(). Default 500. */
  window?: number;
}

export interface LearnResult {
  /** The class index (classification) or value (regression) predicted before learning. */
  predicted: number;
  /** Classification: whether that prediction was right. */
  correct?: boolean;
  /** Loss of the prediction: cross-entropy, or the squared error in the target's units. */
  loss: number;
}

export interface ProgressiveScores {
  samples: number;
  accuracy?: number;
  /** Accuracy over the last `window` samples. */
  trailing_accuracy?: number;
  /** Mean squared error so far (regression). */
  mse?: number;
  /** Mean squared error over the last `window` samples (regression). */
  trailing_mse?: number;
}

export class OnlineLearner {
  private readonly model: TrainedModel;
  private readonly network: DenseNetwork;
  private readonly ws: NetworkWorkspace;
  private readonly gradient: Float64Array;
  private readonly encoded: Float64Array;
  private readonly label = new Int32Array(1);
  private readonly target = new Float64Array(1);
  private readonly learningRate: number;
  private readonly schedule: LearningRateSchedule;
  private readonly powerT: number;
  private readonly l2: number;
  private readonly recent: Float64Array;
  private seen = 0;
  private lossSum = 0;
  private correctCount = 0;
  private recentSum = 0;

  /** Learns on a copy of `model`; the model passed in is never changed. */
  constructor(model: TrainedModel, options: OnlineLearnerOptions = {}) {
    this.model = model.clone();
    this.network = this.model.network;
    this.learningRate = options.learningRate ?? 0.01;
    if (!(this.learningRate > 0) || !Number.isFinite(this.learningRate)) {
      throw errors.invalidArgument(`learningRate must be a positive number, got ${this.learningRate}`);
    }
    this.schedule = options.schedule ?? 'constant';
    if (this.schedule !== 'constant' && this.schedule !== 'invscaling') {
      throw errors.invalidArgument(
        `schedule must be 'constant' or 'invscaling', got '${String(this.schedule)}'`,
      );
    }
    this.powerT = options.powerT ?? 0.25;
    if (!(this.powerT >= 0) || !Number.isFinite(this.powerT))
      throw errors.invalidArgument(`powerT must be ≥ 0, got ${this.powerT}`);
    const { l2, train_rows: trainRows } = model.hyperparameters;
    // Ridge's α weighs the summed squared error of its training rows; per sample it is α / n.
    const ridgeRows =
      model.kind === 'ridge' && typeof trainRows === 'number' && trainRows > 0 ? trainRows : 1;
    const modelL2 = typeof l2 === 'number' ? l2 / ridgeRows : 0;
    this.l2 = options.l2 ?? modelL2;
    if (!(this.l2 >= 0) || !Number.isFinite(this.l2))
      throw errors.invalidArgument(`l2 must be ≥ 0, got ${this.l2}`);
    const window = options.window ?? 500;
    if (!Number.isSafeInteger(window) || window < 1)
      throw errors.invalidArgument(`window must be a positive integer, got ${window}`);
    this.recent = new Float64Array(window);
    this.ws = this.network.workspace(1);
    this.gradient = new Float64Array(this.network.parameters.length);
    this.encoded = new Float64Array(this.network.inputSize);
  }

  get samplesSeen(): number {
    return this.seen;
  }

  /** The step size the next sample will get. */
  get currentLearningRate(): number {
    return this.schedule === 'constant'
      ? this.learningRate
      : this.learningRate / Math.pow(this.seen + 1, this.powerT);
  }

  /** Predict `raw` (one row of raw features), score the prediction against `label`, then learn from it. */
  learn(raw: FeatureMatrix, label: number): LearnResult {
    const model = this.model;
    const classification = model.task === 'classification';
    if (classification) {
      if (!Number.isInteger(label) || label < 0 || label >= this.network.outputSize) {
        throw errors.invalidArgument(
          `label must be a class index in 0..${this.network.outputSize - 1}, got ${label}`,
        );
      }
    } else if (!Number.isFinite(label))
      throw errors.invalidArgument(`target must be a finite number, got ${label}`);
    encodeFeatures(model.preprocessing, raw, 1, model.featureColumns.length, this.encoded);

    const rate = this.currentLearningRate;
    this.gradient.fill(0);
    let result: LearnResult;
    if (classification) {
      this.label[0] = label;
      const setup = {
        labels: this.label,
        targets: null,
        l2: this.l2,
        pinFirstOutput: model.kind === 'logistic',
      };
      // The objective's forward pass leaves the logits in the workspace: the prediction comes from them.
      const loss = batchObjective(this.network, this.ws, this.encoded, 1, setup, this.gradient);
      const out = this.ws.activations[this.ws.activations.length - 1] as Float64Array;
      let predicted = 0;
      for (let k = 1; k < this.network.outputSize; k++)
        if ((out[k] as number) > (out[predicted] as number)) predicted = k;
      const correct = predicted === label;
      result = { predicted, correct, loss: Math.min(loss, -Math.log(PROBABILITY_FLOOR)) };
      if (correct) this.correctCount++;
      this.record(correct ? 1 : 0, loss);
    } else {
      const { mean, std } = model.preprocessing.target as { mean: number; std: number };
      this.target[0] = (label - mean) / std;
      const setup = { labels: null, targets: this.target, l2: this.l2, pinFirstOutput: false };
      batchObjective(this.network, this.ws, this.encoded, 1, setup, this.gradient);
      const out = this.ws.activations[this.ws.activations.length - 1] as Float64Array;
      const predicted = (out[0] as number) * std + mean;
      const squaredError = (predicted - label) ** 2;
      result = { predicted, loss: squaredError };
      this.record(squaredError, squaredError);
    }
    const parameters = this.network.parameters;
    for (let i = 0; i < parameters.length; i++)
      parameters[i] = (parameters[i] as number) - rate * (this.gradient[i] as number);
    return result;
  }

  private record(score: number, loss: number): void {
    const slot = this.seen % this.recent.length;
    if (this.seen >= this.recent.length) this.recentSum -= this.recent[slot] as number;
    this.recent[slot] = score;
    this.recentSum += score;
    this.lossSum += loss;
    this.seen++;
  }

  /** Progressive-validation scores: every prediction was made before the model learned from its sample. */
  progressive(): ProgressiveScores {
    const samples = this.seen;
    if (samples === 0) return { samples };
    const inWindow = Math.min(samples, this.recent.length);
    if (this.model.task === 'classification') {
      return { samples, accuracy: this.correctCount / samples, trailing_accuracy: this.recentSum / inWindow };
    }
    return { samples, mse: this.lossSum / samples, trailing_mse: this.recentSum / inWindow };
  }

  /** The model as learned so far, as an independent copy rounded to float32 (what its export computes). */
  snapshot(): TrainedModel {
    const copy = this.network.clone();
    copy.roundToFloat32();
    const hyperparameters = {
      ...this.model.hyperparameters,
      online_samples: this.seen,
      online_learning_rate: this.learningRate,
    };
    return this.model.withNetwork(copy, hyperparameters);
  }
}
