/**
 * Fine-tuning after structured pruning: when the parent came from tend's trainers (its file carries
 * the trainer metadata that `tend update` reads back), the pruned graph is read back as a smaller
 * network, trained a few more epochs on the given CSV with the same trainer (`continueTraining`,
 * mini-batches, the parent's optimizer, learning rate and batch size) and written again by the trainer's own
 * export, so the candidate is the same kind of file as its parent with fewer hidden units.
 */
import { errors, toTendError } from '../../core/errors.js';
import type { ModelProto } from '../../onnx/index.js';
import { writeModel } from '../../onnx/index.js';
import {
  continueTraining,
  evaluateModel,
  exportTrainedModel,
  importTrainedModel,
  readUpdateCsv,
} from '../../train/index.js';

/** Rows to train the pruned network on: a CSV with the parent's feature columns and its target. */
export interface FinetuneData {
  /** The CSV text and where it came from (for errors). */
  text: string;
  source: string;
  /** The label column (must be the one the parent was trained on). */
  target: string;
  /** Passes over the rows (default 10). */
  epochs?: number;
  seed?: number;
}

export interface FinetuneResult {
  bytes: Uint8Array;
  epochs: number;
  rows: number;
  /** Accuracy (classification) or R² (regression) on the fine-tuning rows, pruned then fine-tuned. */
  metric: 'accuracy' | 'r2';
  before: number;
  after: number;
}

export const DEFAULT_FINETUNE_EPOCHS = 10;

/**
 * Train the pruned model `pruned` further on `data`.
 * @throws TendError TEND_INVALID_ARGUMENT when the model was not made by tend's trainers or the CSV does not fit it.
 */
export function finetunePruned(pruned: ModelProto, data: FinetuneData, label: string): FinetuneResult {
  let model;
  try {
    model = importTrainedModel(writeModel(pruned));
  } catch (err) {
    throw errors.invalidArgument(
      `--finetune-data applies to models made by tend's trainers (tend train, tend demo); ${label} cannot be read back: ${toTendError(err).message}`,
    );
  }
  if (data.target !== model.targetColumn)
    throw errors.invalidArgument(
      `--target '${data.target}' is not the column ${label} was trained on ('${model.targetColumn}')`,
    );
  const table = readUpdateCsv(data.text, data.source, model.schema);
  const epochs = data.epochs ?? DEFAULT_FINETUNE_EPOCHS;
  const metric = model.task === 'classification' ? 'accuracy' : 'r2';
  const before = evaluateModel(model, table)[metric] ?? Number.NaN;
  // The parent's own mini-batch size: continueTraining's default (200 rows) takes too few steps in a few epochs.
  const parentBatch = model.hyperparameters.batch_size;
  const tuned = continueTraining(model, table, {
    mode: 'minibatch',
    epochs,
    seed: data.seed ?? 0,
    ...(typeof parentBatch === 'number' ? { batchSize: parentBatch } : {}),
  }).model;
  const after = evaluateModel(tuned, table)[metric] ?? Number.NaN;
  const metadata = Object.fromEntries(pruned.metadataProps.map((p) => [p.key, p.value]));
  const hidden = tuned.network.sizes.slice(1, -1);
  const fitted = tuned.withNetwork(tuned.network, { ...tuned.hyperparameters, hidden });
  return {
    bytes: exportTrainedModel(fitted, metadata),
    epochs,
    rows: table.rows,
    metric,
    before,
    after,
  };
}
