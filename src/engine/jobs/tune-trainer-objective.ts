/**
 * The objective of `tend tune --data --target --model`: one of tend's own trainers, its
 * hyperparameters taken from the trial, scored on held-out rows (a stratified --validation share) or
 * by k-fold cross-validation (--cv). Each epoch reports the trainer's early-stopping validation score as
 * the intermediate value (the pruner's evidence); with --cv the running mean over the folds done is
 * reported instead, one step per fold. A pruned trial stops inside the epoch loop.
 */
import { mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { errors } from '../../core/errors.js';
import {
  evaluateModel,
  exportTrainedModel,
  labelsOf,
  Random,
  selectRows,
  shuffledSplit,
  stratifiedSplit,
  type EpochRecord,
  type ModelKind,
  type TrainingTable,
  type TrainOptions,
} from '../../train/index.js';
import {
  TrialPruned,
  type Objective,
  type Params,
  type SearchSpace,
  type TrialContext,
} from '../../tune/index.js';
import { trainWithRuntime } from './accelerated-training.js';

/** Space parameter names each trainer takes, and what they set. */
const TRAINER_PARAMS: Record<ModelKind, readonly string[]> = {
  mlp: [
    'lr',
    'learning_rate',
    'epochs',
    'batch_size',
    'l2',
    'hidden',
    'layers',
    'units',
    'activation',
    'optimizer',
    'momentum',
    'patience',
  ],
  logistic: ['l2', 'epochs'],
  softmax: ['l2', 'epochs'],
  ridge: ['l2'],
  linear: [],
};

const CLASSIFICATION_METRICS = ['accuracy', 'f1_macro', 'log_loss'];
const REGRESSION_METRICS = ['rmse', 'mae', 'r2'];

/** Check a space against a trainer before any trial. @throws TendError TEND_INVALID_ARGUMENT */
export function checkTrainerSpace(model: ModelKind, space: SearchSpace): void {
  const known = TRAINER_PARAMS[model];
  for (const spec of space.params) {
    if (!known.includes(spec.name)) {
      throw errors.invalidArgument(
        known.length === 0
          ? `--model ${model} has no hyperparameters to tune (use ridge for a penalty)`
          : `parameter '${spec.name}' is not a hyperparameter of --model ${model} (it takes ${known.join(', ')})`,
      );
    }
  }
  const names = space.params.map((p) => p.name);
  if (names.includes('hidden') && (names.includes('layers') || names.includes('units')))
    throw errors.invalidArgument("give either 'hidden' or 'layers'/'units', not both");
}

/** Check the metric fits the task. @throws TendError TEND_INVALID_ARGUMENT */
export function checkTrainerMetric(task: TrainingTable['task'], metric: string): void {
  const allowed = task === 'classification' ? CLASSIFICATION_METRICS : REGRESSION_METRICS;
  if (!allowed.includes(metric))
    throw errors.invalidArgument(`--metric '${metric}' does not score ${task}: use ${allowed.join(', ')}`);
}

function hiddenOf(params: Params): number[] | undefined {
  const hidden = params.hidden;
  if (typeof hidden === 'number') return [hidden];
  if (typeof hidden === 'string') {
    const widths = hidden.split(',').map((s) => Number(s.trim()));
    if (widths.length === 0 || !widths.every((w) => Number.isInteger(w) && w > 0))
      throw errors.invalidArgument(`hidden '${hidden}' must be widths like 64 or 64,32`);
    return widths;
  }
  if (params.units !== undefined || params.layers !== undefined) {
    const units = Number(params.units ?? 64);
    const layers = Number(params.layers ?? 1);
    return new Array<number>(layers).fill(units);
  }
  return undefined;
}

/** TrainOptions from a trial's parameters. */
export function trainOptionsOf(
  model: ModelKind,
  task: TrainingTable['task'],
  params: Params,
  seed: number,
): TrainOptions {
  const num = (name: string): number | undefined =>
    params[name] === undefined ? undefined : Number(params[name]);
  const hidden = hiddenOf(params);
  const lr = num('lr') ?? num('learning_rate');
  const options: TrainOptions = { model, task, seed };
  if (hidden !== undefined) options.hidden = hidden;
  if (lr !== undefined) options.learningRate = lr;
  const epochs = num('epochs');
  if (epochs !== undefined) options.epochs = epochs;
  const batch = num('batch_size');
  if (batch !== undefined) options.batchSize = batch;
  const l2 = num('l2');
  if (l2 !== undefined) options.l2 = l2;
  const momentum = num('momentum');
  if (momentum !== undefined) options.momentum = momentum;
  const patience = num('patience');
  if (patience !== undefined) options.earlyStoppingPatience = patience;
  if (params.activation !== undefined) options.activation = String(params.activation) as 'relu' | 'tanh';
  if (params.optimizer !== undefined) options.optimizer = String(params.optimizer) as 'adam' | 'sgd';
  return options;
}

/** The epoch's intermediate value, on the metric's side (higher-better metrics stay higher-better). */
function epochValue(record: EpochRecord, metric: string): number | undefined {
  if (metric === 'accuracy' || metric === 'f1_macro' || metric === 'r2') return record.validation_metric;
  if (record.validation_loss === undefined) return undefined;
  return metric === 'log_loss' ? record.validation_loss : Math.sqrt(record.validation_loss);
}

/** Row indices of k folds, stratified for classification, shuffled by the seed. */
export function kFolds(table: TrainingTable, k: number, seed: number): number[][] {
  if (!Number.isInteger(k) || k < 2 || k > table.rows)
    throw errors.invalidArgument(
      `--cv ${k} must be a whole number from 2 to the number of rows (${table.rows})`,
    );
  const random = new Random(seed);
  const order = Array.from({ length: table.rows }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random.uniform() * (i + 1));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  if (table.task === 'classification') {
    const labels = labelsOf(table);
    order.sort((a, b) => (labels[a] as number) - (labels[b] as number)); // stable: shuffled within a class
  }
  const folds: number[][] = Array.from({ length: k }, () => []);
  order.forEach((row, i) => (folds[i % k] as number[]).push(row));
  return folds;
}

export interface TrainerObjectiveOptions {
  table: TrainingTable;
  model: ModelKind;
  metric: string;
  seed: number;
  /** Held-out share for scoring (default 0.2); ignored with cv. */
  validation: number;
  /** k-fold cross-validation instead of one held-out share. */
  cv?: number;
  /** Where each trial's model.onnx goes: `<trialDir(n)>/model.onnx` (held-out mode only). */
  trialDir: (number: number) => string;
}

export function trainerObjective(options: TrainerObjectiveOptions): Objective {
  const { table, model, metric, seed } = options;
  const split = (() => {
    if (options.cv !== undefined) return null;
    const fraction = options.validation;
    if (!(fraction > 0 && fraction < 1))
      throw errors.invalidArgument(`--validation ${fraction} must be between 0 and 1`);
    const s =
      table.task === 'classification'
        ? stratifiedSplit(labelsOf(table), { testFraction: fraction, seed })
        : shuffledSplit(table.rows, { testFraction: fraction, seed });
    return { fit: selectRows(table, s.train), holdout: selectRows(table, s.test) };
  })();
  const folds = options.cv !== undefined ? kFolds(table, options.cv, seed) : null;

  const trainOnce = async (fit: TrainingTable, trial: TrialContext, report: boolean) => {
    const trainOptions = trainOptionsOf(model, table.task, trial.params, seed);
    if (report) {
      trainOptions.onEpoch = (record) => {
        const value = epochValue(record, metric);
        if (value !== undefined && trial.report(record.epoch - 1, value))
          throw new TrialPruned(record.epoch - 1);
      };
    }
    return (await trainWithRuntime(fit, trainOptions)).model;
  };

  return async (trial) => {
    if (split !== null) {
      const trained = await trainOnce(split.fit, trial, true);
      const value = evaluateModel(trained, split.holdout)[metric];
      if (value === undefined) throw errors.invalidArgument(`the trainer gives no '${metric}'`);
      const dir = options.trialDir(trial.number);
      mkdirSync(dir, { recursive: true });
      await writeFile(
        join(dir, 'model.onnx'),
        exportTrainedModel(trained, { 'tend.tune.trial': String(trial.number) }),
      );
      return value;
    }
    const all = folds as number[][];
    let sum = 0;
    for (let f = 0; f < all.length; f++) {
      const test = new Set(all[f]);
      const fitRows = Array.from({ length: table.rows }, (_, i) => i).filter((i) => !test.has(i));
      const trained = await trainOnce(selectRows(table, fitRows), trial, false);
      sum += evaluateModel(trained, selectRows(table, all[f] as number[]))[metric] as number;
      if (trial.report(f, sum / (f + 1))) throw new TrialPruned(f);
    }
    return sum / all.length;
  };
}

/** Train the best parameters on every row (after a --cv study) and write the model. */
export async function trainFinalModel(
  options: TrainerObjectiveOptions,
  params: Params,
  file: string,
): Promise<void> {
  const trainOptions = trainOptionsOf(options.model, options.table.task, params, options.seed);
  const trained = (await trainWithRuntime(options.table, trainOptions)).model;
  mkdirSync(dirname(file), { recursive: true });
  await writeFile(file, exportTrainedModel(trained, { 'tend.tune.final': 'true' }));
}
