/**
 * trainModel: one entry point for every model kind. Standardization (and one-hot encoding) is fitted
 * on the rows that train the weights only, never on the validation rows; everything random flows
 * from one seed, so the same table, options and seed give the same model bit for bit.
 */
import { TendError } from '../core/errors.js';
import { encodeTable, type EncodedData } from './encoded-data.js';
import { runGradientDescent, type EpochRecord } from './gradient-descent.js';
import { fitByLbfgs, fitLinearExact } from './linear-fit.js';
import { DenseNetwork, HIDDEN_ACTIVATIONS, type HiddenActivation } from './network.js';
import { Adam, SgdMomentum, type Optimizer } from './optimizer.js';
import { encodedWidth, fitPreprocessing } from './preprocessing.js';
import { Random } from './random.js';
import { shuffledSplit, stratifiedSplit } from './split.js';
import { MODEL_KINDS, TrainedModel, type Hyperparameters, type ModelKind } from './trained-model.js';
import { selectRows, targetsOf, type Task, type TrainingTable } from './training-table.js';

export type OptimizerKind = 'adam' | 'sgd';

export interface TrainOptions {
  model: ModelKind;
  /** Must agree with the table's task when given (an MLP follows the table: classifier or regressor). */
  task?: Task;
  /** MLP hidden layer widths. Default [64]. */
  hidden?: number[];
  /** MLP hidden activation. Default 'relu'. */
  activation?: HiddenActivation;
  /** MLP optimizer. Default 'adam'. */
  optimizer?: OptimizerKind;
  /** SGD momentum. Default 0.9. */
  momentum?: number;
  /** MLP: passes over the data (default 200). Logistic/softmax: the most L-BFGS iterations (default 1000). */
  epochs?: number;
  /** MLP step size. Default 1e-3 (Adam), 1e-2 (SGD). */
  learningRate?: number;
  /** MLP rows per step. Default min(200, rows), as scikit-learn. */
  batchSize?: number;
  /**
   * Weight penalty. MLP: ½·l2·‖W‖² added to the mean loss (default 1e-4). Logistic/softmax: the same
   * form, default 1/n (scikit-learn's C = 1). Ridge: α on the summed squared error (default 1, scikit-learn's Ridge).
   */
  l2?: number;
  /** Seeds the validation split, the initial weights and the batch order. Default 0. */
  seed?: number;
  /** MLP: share of the training rows held out for early stopping. Default 0.1; 0 disables early stopping. */
  validationFraction?: number;
  /** MLP: epochs without validation-loss improvement before stopping. Default 10. */
  earlyStoppingPatience?: number;
  /** Integer-coded feature columns to one-hot encode inside the graph. */
  categorical?: string[];
  onEpoch?: (record: EpochRecord) => void;
}

export interface TrainResult {
  model: TrainedModel;
  epochs: EpochRecord[];
  stoppedEarly: boolean;
  /**
   * Numbers about the run: epochs_run and final_train_loss; for an MLP with early stopping
   * best_epoch, validation_loss and validation_accuracy or validation_r2 (at the kept weights);
   * for logistic/softmax iterations and converged (1 or 0).
   */
  metrics: Record<string, number>;
}

function fail(message: string): TendError {
  return new TendError('TEND_INVALID_ARGUMENT', message);
}

export function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw fail(`${name} must be a positive integer, got ${value}`);
  return value;
}

export function positiveRate(value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) throw fail(`learningRate must be a positive number, got ${value}`);
  return value;
}

export function nonNegative(name: string, value: number): number {
  if (!(value >= 0) || !Number.isFinite(value)) throw fail(`${name} must be a number ≥ 0, got ${value}`);
  return value;
}

/** The task a model kind trains for on `table`, or a message saying why it cannot. */
function taskFor(kind: ModelKind, table: TrainingTable, requested: Task | undefined): Task {
  if (!MODEL_KINDS.includes(kind)) throw fail(`model must be one of ${MODEL_KINDS.join(', ')}, got '${String(kind)}'`);
  if (requested !== undefined && requested !== table.task) {
    throw fail(`task '${requested}' does not match the table, which was read for ${table.task}`);
  }
  if ((kind === 'linear' || kind === 'ridge') && table.task !== 'regression') {
    throw fail(`${kind} regression needs a numeric target read for regression (use logistic, softmax or mlp to classify)`);
  }
  if ((kind === 'logistic' || kind === 'softmax') && table.task !== 'classification') {
    throw fail(`${kind} regression is a classifier; read the table for classification (use linear, ridge or mlp for a numeric target)`);
  }
  if (kind === 'logistic' && table.classes?.length !== 2) {
    throw fail(`logistic regression needs exactly 2 classes, '${table.targetColumn}' has ${table.classes?.length ?? 0}; use softmax`);
  }
  return table.task;
}

/** Split off the MLP's validation rows (stratified for classification), or none. */
function validationSplit(table: TrainingTable, fraction: number, seed: number): { fit: TrainingTable; validation: TrainingTable | null } {
  if (fraction === 0) return { fit: table, validation: null };
  if (!(fraction > 0 && fraction < 1)) throw fail(`validationFraction must be in [0, 1), got ${fraction}`);
  // Too few rows to hold any out: train on all of them rather than fail.
  if (Math.round(table.rows * fraction) < 1 || table.rows - Math.round(table.rows * fraction) < 2) return { fit: table, validation: null };
  const split = table.labels !== undefined
    ? stratifiedSplit(table.labels, { testFraction: fraction, seed })
    : shuffledSplit(table.rows, { testFraction: fraction, seed });
  return { fit: selectRows(table, split.train), validation: selectRows(table, split.test) };
}

/** The optimizer for an MLP or a mini-batch update. */
export function makeOptimizer(kind: OptimizerKind, size: number, learningRate: number | undefined, momentum: number): { optimizer: Optimizer; learningRate: number } {
  if (kind === 'adam') {
    const rate = positiveRate(learningRate ?? 1e-3);
    return { optimizer: new Adam(size, { learningRate: rate }), learningRate: rate };
  }
  if (kind === 'sgd') {
    const rate = positiveRate(learningRate ?? 1e-2);
    return { optimizer: new SgdMomentum(size, { learningRate: rate, momentum }), learningRate: rate };
  }
  throw fail(`optimizer must be 'adam' or 'sgd', got '${String(kind)}'`);
}

/** Train a model of `options.model` on every row of `table` (an MLP holds out its validation rows). */
export function trainModel(table: TrainingTable, options: TrainOptions): TrainResult {
  const kind = options.model;
  const task = taskFor(kind, table, options.task);
  const seed = options.seed ?? 0;
  const random = new Random(seed);
  if (options.learningRate !== undefined) positiveRate(options.learningRate);
  if (options.epochs !== undefined) positiveInteger('epochs', options.epochs);
  if (options.l2 !== undefined) nonNegative('l2', options.l2);
  const isMlp = kind === 'mlp';
  const { fit, validation } = isMlp ? validationSplit(table, options.validationFraction ?? 0.1, seed) : { fit: table, validation: null };
  if (fit.rows < 2) throw fail(`training needs at least 2 rows, got ${fit.rows}`);
  const preprocessing = fitPreprocessing(fit.features, fit.rows, fit.featureColumns, options.categorical ?? [], task === 'regression' ? targetsOf(fit) : undefined);
  const width = encodedWidth(preprocessing);
  const outputs = task === 'classification' ? (table.classes?.length ?? 0) : 1;
  const data: EncodedData = encodeTable(fit, preprocessing, width);
  const targetStd = preprocessing.target?.std ?? 1;
  const hyperparameters: Hyperparameters = {};
  let network: DenseNetwork;
  let epochs: EpochRecord[] = [];
  let stoppedEarly = false;
  const metrics: Record<string, number> = {};

  if (kind === 'linear' || kind === 'ridge') {
    const alpha = kind === 'ridge' ? options.l2 ?? 1 : 0;
    network = new DenseNetwork([width, 1]);
    fitLinearExact(network, data, alpha);
    if (kind === 'ridge') hyperparameters.l2 = alpha;
    hyperparameters.solver = 'normal_equations';
    const record: EpochRecord = { epoch: 1, train_loss: trainingMse(network, data, targetStd) };
    epochs = [record];
    options.onEpoch?.(record);
  } else if (kind === 'logistic' || kind === 'softmax') {
    const l2 = options.l2 ?? 1 / fit.rows;
    const maxIterations = options.epochs ?? 1000;
    network = new DenseNetwork([width, outputs]);
    const result = fitByLbfgs(network, data, {
      l2,
      pinFirstOutput: kind === 'logistic',
      maxIterations,
      ...(options.onEpoch === undefined ? {} : { onEpoch: options.onEpoch }),
    });
    epochs = result.epochs;
    Object.assign(hyperparameters, { l2, solver: 'lbfgs', max_iterations: maxIterations, iterations: result.iterations });
    Object.assign(metrics, { iterations: result.iterations, converged: result.converged ? 1 : 0 });
  } else {
    const hidden = options.hidden ?? [64];
    hidden.forEach((h) => positiveInteger('hidden layer width', h));
    const activation = options.activation ?? 'relu';
    if (!HIDDEN_ACTIVATIONS.includes(activation)) throw fail(`activation must be one of ${HIDDEN_ACTIVATIONS.join(', ')}, got '${String(activation)}'`);
    const optimizerKind = options.optimizer ?? 'adam';
    const momentum = options.momentum ?? 0.9;
    if (!(momentum >= 0 && momentum < 1)) throw fail(`momentum must be in [0, 1), got ${momentum}`);
    const maxEpochs = options.epochs ?? 200;
    const batchSize = positiveInteger('batchSize', options.batchSize ?? Math.min(200, fit.rows));
    const l2 = options.l2 ?? 1e-4;
    const patience = positiveInteger('earlyStoppingPatience', options.earlyStoppingPatience ?? 10);
    network = DenseNetwork.initialized([width, ...hidden, outputs], random, activation);
    const { optimizer, learningRate } = makeOptimizer(optimizerKind, network.parameters.length, options.learningRate, momentum);
    const result = runGradientDescent(network, data, {
      epochs: maxEpochs,
      batchSize,
      optimizer,
      l2,
      pinFirstOutput: false,
      random,
      targetStd,
      patience,
      ...(validation === null ? {} : { validation: encodeTable(validation, preprocessing, width) }),
      ...(options.onEpoch === undefined ? {} : { onEpoch: options.onEpoch }),
    });
    epochs = result.epochs;
    stoppedEarly = result.stoppedEarly;
    const kept = result.epochs[result.bestEpoch - 1];
    if (validation !== null && kept?.validation_loss !== undefined && kept.validation_metric !== undefined) {
      metrics.best_epoch = result.bestEpoch;
      metrics.validation_loss = kept.validation_loss;
      metrics[task === 'classification' ? 'validation_accuracy' : 'validation_r2'] = kept.validation_metric;
    }
    Object.assign(hyperparameters, {
      hidden: [...hidden],
      activation,
      optimizer: optimizerKind,
      learning_rate: learningRate,
      batch_size: batchSize,
      epochs: maxEpochs,
      epochs_run: result.epochs.length,
      best_epoch: result.bestEpoch,
      l2,
      seed,
      validation_fraction: validation === null ? 0 : options.validationFraction ?? 0.1,
      early_stopping_patience: patience,
    });
    if (optimizerKind === 'sgd') hyperparameters.momentum = momentum;
  }
  // The graph stores float32; rounding here makes the TypeScript model compute what the graph computes.
  network.roundToFloat32();
  hyperparameters.train_rows = fit.rows;
  const model = new TrainedModel({
    kind,
    task,
    featureColumns: table.featureColumns,
    targetColumn: table.targetColumn,
    ...(table.classes === undefined ? {} : { classes: table.classes }),
    preprocessing,
    network,
    hyperparameters,
  });
  metrics.epochs_run = epochs.length;
  const last = epochs[epochs.length - 1];
  if (last !== undefined) metrics.final_train_loss = last.train_loss;
  return { model, epochs, stoppedEarly, metrics };
}

/** MSE of a [width, 1] network on `data`, in the target's units. */
function trainingMse(network: DenseNetwork, data: EncodedData, targetStd: number): number {
  const out = network.forward(data.x, data.rows);
  const targets = data.targets as Float64Array;
  let sum = 0;
  for (let r = 0; r < data.rows; r++) sum += ((out[r] as number) - (targets[r] as number)) ** 2;
  return (sum / data.rows) * targetStd * targetStd;
}
