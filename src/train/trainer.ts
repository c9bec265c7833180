/**
 * trainModel: one entry point for every model kind. Standardization (and one-hot encoding) is fitted
 * on the rows that train the weights only, never on the validation rows; everything random flows
 * from one seed, so the same table, options and seed give the same model bit for bit.
 */
import { type TendError, errors } from '../core/errors.js';
import { encodeTable, type EncodedData } from './encoded-data.js';
import { runGradientDescent, type DescentResult, type EpochRecord } from './gradient-descent.js';
import { fitByLbfgs, fitLinearExact } from './linear-fit.js';
import { DenseNetwork, HIDDEN_ACTIVATIONS, type HiddenActivation } from './network.js';
import { Adam, SgdMomentum, type Optimizer } from './optimizer.js';
import { encodedWidth, fitPreprocessing, type Preprocessing } from './preprocessing.js';
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
  return errors.invalidArgument(message);
}

export function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1)
    throw fail(`${name} must be a positive integer, got ${value}`);
  return value;
}

export function positiveRate(value: number): number {
  if (!(value > 0) || !Number.isFinite(value))
    throw fail(`learningRate must be a positive number, got ${value}`);
  return value;
}

export function nonNegative(name: string, value: number): number {
  if (!(value >= 0) || !Number.isFinite(value)) throw fail(`${name} must be a number ≥ 0, got ${value}`);
  return value;
}

/** The task a model kind trains for on `table`, or a message saying why it cannot. */
function taskFor(kind: ModelKind, table: TrainingTable, requested: Task | undefined): Task {
  if (!MODEL_KINDS.includes(kind))
    throw fail(`model must be one of ${MODEL_KINDS.join(', ')}, got '${String(kind)}'`);
  if (requested !== undefined && requested !== table.task) {
    throw fail(`task '${requested}' does not match the table, which was read for ${table.task}`);
  }
  if ((kind === 'linear' || kind === 'ridge') && table.task !== 'regression') {
    throw fail(
      `${kind} regression needs a numeric target read for regression (use logistic, softmax or mlp to classify)`,
    );
  }
  if ((kind === 'logistic' || kind === 'softmax') && table.task !== 'classification') {
    throw fail(
      `${kind} regression is a classifier; read the table for classification (use linear, ridge or mlp for a numeric target)`,
    );
  }
  if (kind === 'logistic' && table.classes?.length !== 2) {
    throw fail(
      `logistic regression needs exactly 2 classes, '${table.targetColumn}' has ${table.classes?.length ?? 0}; use softmax`,
    );
  }
  return table.task;
}

/** Split off the MLP's validation rows (stratified for classification), or none. */
function validationSplit(
  table: TrainingTable,
  fraction: number,
  seed: number,
): { fit: TrainingTable; validation: TrainingTable | null } {
  if (fraction === 0) return { fit: table, validation: null };
  if (!(fraction > 0 && fraction < 1)) throw fail(`validationFraction must be in [0, 1), got ${fraction}`);
  // Too few rows to hold any out: train on all of them rather than fail.
  if (Math.round(table.rows * fraction) < 1 || table.rows - Math.round(table.rows * fraction) < 2)
    return { fit: table, validation: null };
  const split =
    table.labels !== undefined
      ? stratifiedSplit(table.labels, { testFraction: fraction, seed })
      : shuffledSplit(table.rows, { testFraction: fraction, seed });
  return { fit: selectRows(table, split.train), validation: selectRows(table, split.test) };
}

/** The optimizer for an MLP or a mini-batch update. */
export function makeOptimizer(
  kind: OptimizerKind,
  size: number,
  learningRate: number | undefined,
  momentum: number,
): { optimizer: Optimizer; learningRate: number } {
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

/**
 * What every trainer starts from: the checked task, the seeded random stream, the validation split
 * (MLP only), the preprocessing fitted on the fit rows and those rows encoded.
 */
export interface TrainingRun {
  kind: ModelKind;
  task: Task;
  seed: number;
  /** Used, in this order, for the initial weights and then the batch order. */
  random: Random;
  table: TrainingTable;
  fit: TrainingTable;
  validation: TrainingTable | null;
  preprocessing: Preprocessing;
  /** Network input width. */
  width: number;
  /** Network output width: classes, or 1. */
  outputs: number;
  data: EncodedData;
  targetStd: number;
}

/** Check the options that apply to every kind, split off validation rows and fit the preprocessing. */
export function prepareTrainingRun(table: TrainingTable, options: TrainOptions): TrainingRun {
  const kind = options.model;
  const task = taskFor(kind, table, options.task);
  const seed = options.seed ?? 0;
  const random = new Random(seed);
  if (options.learningRate !== undefined) positiveRate(options.learningRate);
  if (options.epochs !== undefined) positiveInteger('epochs', options.epochs);
  if (options.l2 !== undefined) nonNegative('l2', options.l2);
  const isMlp = kind === 'mlp';
  const { fit, validation } = isMlp
    ? validationSplit(table, options.validationFraction ?? 0.1, seed)
    : { fit: table, validation: null };
  if (fit.rows < 2) throw fail(`training needs at least 2 rows, got ${fit.rows}`);
  const preprocessing = fitPreprocessing(
    fit.features,
    fit.rows,
    fit.featureColumns,
    options.categorical ?? [],
    task === 'regression' ? targetsOf(fit) : undefined,
  );
  const width = encodedWidth(preprocessing);
  const outputs = task === 'classification' ? (table.classes?.length ?? 0) : 1;
  const data: EncodedData = encodeTable(fit, preprocessing, width);
  return {
    kind,
    task,
    seed,
    random,
    table,
    fit,
    validation,
    preprocessing,
    width,
    outputs,
    data,
    targetStd: preprocessing.target?.std ?? 1,
  };
}

/** The MLP options with their defaults applied, checked. */
export interface MlpSettings {
  hidden: number[];
  activation: HiddenActivation;
  optimizer: OptimizerKind;
  momentum: number;
  epochs: number;
  batchSize: number;
  l2: number;
  patience: number;
}

/** The MLP's settings for `run` (defaults as documented on TrainOptions). */
export function mlpSettings(run: TrainingRun, options: TrainOptions): MlpSettings {
  const hidden = options.hidden ?? [64];
  hidden.forEach((h) => positiveInteger('hidden layer width', h));
  const activation = options.activation ?? 'relu';
  if (!HIDDEN_ACTIVATIONS.includes(activation))
    throw fail(`activation must be one of ${HIDDEN_ACTIVATIONS.join(', ')}, got '${String(activation)}'`);
  const momentum = options.momentum ?? 0.9;
  if (!(momentum >= 0 && momentum < 1)) throw fail(`momentum must be in [0, 1), got ${momentum}`);
  return {
    hidden: [...hidden],
    activation,
    optimizer: options.optimizer ?? 'adam',
    momentum,
    epochs: options.epochs ?? 200,
    batchSize: positiveInteger('batchSize', options.batchSize ?? Math.min(200, run.fit.rows)),
    l2: options.l2 ?? 1e-4,
    patience: positiveInteger('earlyStoppingPatience', options.earlyStoppingPatience ?? 10),
  };
}

/** The metrics and hyperparameters an MLP run reports, from its descent. */
export function mlpOutcome(
  run: TrainingRun,
  settings: MlpSettings,
  learningRate: number,
  validationFraction: number,
  result: DescentResult,
): { hyperparameters: Hyperparameters; metrics: Record<string, number> } {
  const metrics: Record<string, number> = {};
  const kept = result.epochs[result.bestEpoch - 1];
  if (
    run.validation !== null &&
    kept?.validation_loss !== undefined &&
    kept.validation_metric !== undefined
  ) {
    metrics.best_epoch = result.bestEpoch;
    metrics.validation_loss = kept.validation_loss;
    metrics[run.task === 'classification' ? 'validation_accuracy' : 'validation_r2'] = kept.validation_metric;
  }
  const hyperparameters: Hyperparameters = {
    hidden: [...settings.hidden],
    activation: settings.activation,
    optimizer: settings.optimizer,
    learning_rate: learningRate,
    batch_size: settings.batchSize,
    epochs: settings.epochs,
    epochs_run: result.epochs.length,
    best_epoch: result.bestEpoch,
    l2: settings.l2,
    seed: run.seed,
    validation_fraction: run.validation === null ? 0 : validationFraction,
    early_stopping_patience: settings.patience,
  };
  if (settings.optimizer === 'sgd') hyperparameters.momentum = settings.momentum;
  return { hyperparameters, metrics };
}

/** The TrainResult of a finished run: the network rounded to float32 inside a TrainedModel, and its metrics. */
export function completeTraining(
  run: TrainingRun,
  network: DenseNetwork,
  hyperparameters: Hyperparameters,
  epochs: EpochRecord[],
  stoppedEarly: boolean,
  metrics: Record<string, number>,
): TrainResult {
  // The graph stores float32; rounding here makes the TypeScript model compute what the graph computes.
  network.roundToFloat32();
  const { table } = run;
  const model = new TrainedModel({
    kind: run.kind,
    task: run.task,
    featureColumns: table.featureColumns,
    targetColumn: table.targetColumn,
    ...(table.classes === undefined ? {} : { classes: table.classes }),
    preprocessing: run.preprocessing,
    network,
    hyperparameters: { ...hyperparameters, train_rows: run.fit.rows },
  });
  const all: Record<string, number> = { ...metrics, epochs_run: epochs.length };
  const last = epochs[epochs.length - 1];
  if (last !== undefined) all.final_train_loss = last.train_loss;
  return { model, epochs, stoppedEarly, metrics: all };
}

/** Train a model of `options.model` on every row of `table` (an MLP holds out its validation rows). */
export function trainModel(table: TrainingTable, options: TrainOptions): TrainResult {
  const run = prepareTrainingRun(table, options);
  const { kind, width, outputs, data, fit } = run;
  if (kind === 'linear' || kind === 'ridge') {
    const alpha = kind === 'ridge' ? (options.l2 ?? 1) : 0;
    const network = new DenseNetwork([width, 1]);
    fitLinearExact(network, data, alpha);
    const hyperparameters: Hyperparameters = kind === 'ridge' ? { l2: alpha } : {};
    hyperparameters.solver = 'normal_equations';
    const record: EpochRecord = { epoch: 1, train_loss: trainingMse(network, data, run.targetStd) };
    options.onEpoch?.(record);
    return completeTraining(run, network, hyperparameters, [record], false, {});
  }
  if (kind === 'logistic' || kind === 'softmax') {
    const l2 = options.l2 ?? 1 / fit.rows;
    const maxIterations = options.epochs ?? 1000;
    const network = new DenseNetwork([width, outputs]);
    const result = fitByLbfgs(network, data, {
      l2,
      pinFirstOutput: kind === 'logistic',
      maxIterations,
      ...(options.onEpoch === undefined ? {} : { onEpoch: options.onEpoch }),
    });
    const hyperparameters: Hyperparameters = {
      l2,
      solver: 'lbfgs',
      max_iterations: maxIterations,
      iterations: result.iterations,
    };
    return completeTraining(run, network, hyperparameters, result.epochs, false, {
      iterations: result.iterations,
      converged: result.converged ? 1 : 0,
    });
  }
  const settings = mlpSettings(run, options);
  const network = DenseNetwork.initialized(
    [width, ...settings.hidden, outputs],
    run.random,
    settings.activation,
  );
  const { optimizer, learningRate } = makeOptimizer(
    settings.optimizer,
    network.parameters.length,
    options.learningRate,
    settings.momentum,
  );
  const result = runGradientDescent(network, data, {
    epochs: settings.epochs,
    batchSize: settings.batchSize,
    optimizer,
    l2: settings.l2,
    pinFirstOutput: false,
    random: run.random,
    targetStd: run.targetStd,
    patience: settings.patience,
    ...(run.validation === null ? {} : { validation: encodeTable(run.validation, run.preprocessing, width) }),
    ...(options.onEpoch === undefined ? {} : { onEpoch: options.onEpoch }),
  });
  const { hyperparameters, metrics } = mlpOutcome(
    run,
    settings,
    learningRate,
    options.validationFraction ?? 0.1,
    result,
  );
  return completeTraining(run, network, hyperparameters, result.epochs, result.stoppedEarly, metrics);
}

/** MSE of a [width, 1] network on `data`, in the target's units. */
function trainingMse(network: DenseNetwork, data: EncodedData, targetStd: number): number {
  const out = network.forward(data.x, data.rows);
  const targets = data.targets as Float64Array;
  let sum = 0;
  for (let r = 0; r < data.rows; r++) sum += ((out[r] as number) - (targets[r] as number)) ** 2;
  return (sum / data.rows) * targetStd * targetStd;
}
