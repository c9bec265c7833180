/**
 * continueTraining: a new version of a model trained further on new rows (plus, optionally, rows
 * replayed from earlier data so it does not forget them). The parent's preprocessing is kept, so the
 * graph's input and standardization stay the same; the parent itself is never changed.
 */
import { errors } from '../core/errors.js';
import { encodeTable } from './encoded-data.js';
import { runGradientDescent, type EpochRecord } from './gradient-descent.js';
import { fitByLbfgs, fitLinearExact } from './linear-fit.js';
import { Random } from './random.js';
import { makeOptimizer, nonNegative, positiveInteger, positiveRate, type OptimizerKind } from './trainer.js';
import type { TrainedModel } from './trained-model.js';
import { concatTables, describeSchema, schemaOf, type TrainingTable } from './training-table.js';

export type UpdateMode = 'minibatch' | 'batch';

export interface ContinueTrainingOptions {
  /**
   * 'minibatch': shuffled mini-batch steps from the parent's weights (Adam for an MLP trained with
   * Adam, else SGD with momentum 0.9). 'batch': full-batch — an exact re-fit for linear/ridge,
   * L-BFGS from the parent's weights for logistic/softmax, one optimizer step per epoch for an MLP.
   */
  mode: UpdateMode;
  /** Default 5 (minibatch); 100 (batch MLP steps; batch L-BFGS iterations cap). */
  epochs?: number;
  /** Default: the parent's for an MLP, else 1e-2 (SGD). */
  learningRate?: number;
  /** Default min(200, rows) (minibatch). */
  batchSize?: number;
  /**
   * Default: the parent's l2 (none for linear; for ridge it is α, applied as α / rows per mean loss in
   * mini-batches).
   */
  l2?: number;
  /** Seeds the batch order. Default 0. */
  seed?: number;
  /** Earlier rows to train on together with `table`. */
  replay?: TrainingTable;
  onEpoch?: (record: EpochRecord) => void;
}

export interface ContinueTrainingResult {
  /** A new model; the input model is never modified. */
  model: TrainedModel;
  epochs: EpochRecord[];
}

function sameStrings(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  return a === undefined || b === undefined
    ? a === b
    : a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Throw unless `table` has the model's feature columns, target, task and classes. */
export function checkTableFitsModel(model: TrainedModel, table: TrainingTable, what: string): void {
  const schema = model.schema;
  if (
    table.task !== schema.task ||
    table.targetColumn !== schema.targetColumn ||
    !sameStrings(table.featureColumns, schema.featureColumns) ||
    !sameStrings(table.classes, schema.classes)
  ) {
    throw errors.invalidArgument(
      `${what} (${describeSchema(schemaOf(table))}) does not match the model (${describeSchema(schema)})`,
    );
  }
}

/** Train a copy of `model` further on `table` (and `options.replay`). */
export function continueTraining(
  model: TrainedModel,
  table: TrainingTable,
  options: ContinueTrainingOptions,
): ContinueTrainingResult {
  if (options.mode !== 'minibatch' && options.mode !== 'batch') {
    throw errors.invalidArgument(`mode must be 'minibatch' or 'batch', got '${String(options.mode)}'`);
  }
  checkTableFitsModel(model, table, 'the update table');
  let data = table;
  if (options.replay !== undefined && options.replay.rows > 0) {
    checkTableFitsModel(model, options.replay, 'the replay table');
    data = concatTables(table, options.replay);
  }
  if (data.rows < 1) throw errors.invalidArgument('an update needs at least one row');
  if (options.learningRate !== undefined) positiveRate(options.learningRate);
  const parentL2 = typeof model.hyperparameters.l2 === 'number' ? model.hyperparameters.l2 : 0;
  const l2 = nonNegative('l2', options.l2 ?? parentL2);
  const network = model.network.clone();
  const encoded = encodeTable(data, model.preprocessing, network.inputSize);
  const targetStd = model.preprocessing.target?.std ?? 1;
  const pinFirstOutput = model.kind === 'logistic';
  const hyperparameters = { ...model.hyperparameters };
  let epochs: EpochRecord[];

  if (options.mode === 'batch' && (model.kind === 'linear' || model.kind === 'ridge')) {
    fitLinearExact(network, encoded, model.kind === 'ridge' ? l2 : 0);
    const out = network.forward(encoded.x, encoded.rows);
    let sum = 0;
    for (let r = 0; r < encoded.rows; r++)
      sum += ((out[r] as number) - (encoded.targets?.[r] as number)) ** 2;
    epochs = [{ epoch: 1, train_loss: (sum / encoded.rows) * targetStd * targetStd }];
    options.onEpoch?.(epochs[0] as EpochRecord);
  } else if (options.mode === 'batch' && (model.kind === 'logistic' || model.kind === 'softmax')) {
    const maxIterations = positiveInteger('epochs', options.epochs ?? 100);
    epochs = fitByLbfgs(network, encoded, {
      l2,
      pinFirstOutput,
      maxIterations,
      ...(options.onEpoch === undefined ? {} : { onEpoch: options.onEpoch }),
    }).epochs;
  } else {
    const batch = options.mode === 'batch';
    const epochCount = positiveInteger('epochs', options.epochs ?? (batch ? 100 : 5));
    const batchSize = batch
      ? encoded.rows
      : positiveInteger('batchSize', options.batchSize ?? Math.min(200, encoded.rows));
    const parentOptimizer: OptimizerKind =
      model.kind === 'mlp' && model.hyperparameters.optimizer === 'sgd'
        ? 'sgd'
        : model.kind === 'mlp'
          ? 'adam'
          : 'sgd';
    const parentRate =
      model.kind === 'mlp' && typeof model.hyperparameters.learning_rate === 'number'
        ? model.hyperparameters.learning_rate
        : undefined;
    const momentum =
      typeof model.hyperparameters.momentum === 'number' ? model.hyperparameters.momentum : 0.9;
    const { optimizer } = makeOptimizer(
      parentOptimizer,
      network.parameters.length,
      options.learningRate ?? parentRate,
      momentum,
    );
    epochs = runGradientDescent(network, encoded, {
      epochs: epochCount,
      batchSize,
      optimizer,
      // Ridge's α weighs the summed squared error; per mean loss it is α / n.
      l2: model.kind === 'ridge' ? l2 / encoded.rows : l2,
      pinFirstOutput,
      random: new Random(options.seed ?? 0),
      targetStd,
      patience: epochCount,
      ...(options.onEpoch === undefined ? {} : { onEpoch: options.onEpoch }),
    }).epochs;
  }
  network.roundToFloat32();
  if (model.kind !== 'linear') hyperparameters.l2 = l2;
  return { model: model.withNetwork(network, hyperparameters), epochs };
}
