/**
 * `tend train`: read a CSV, train one of the trainers, export ONNX, register it as a new version
 * with its run (parameters, per-epoch metrics, data set hash) and the training data attached as the
 * version's monitoring reference. A failed training records a failed run and registers nothing.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { decimalNumber, readCsv, type CsvTable } from '../../core/csv.js';
import { errors, TendError, toTendError } from '../../core/errors.js';
import { TEND_VERSION } from '../../core/version.js';
import type { Registry } from '../../registry/index.js';
import {
  evaluateModel,
  exportTrainedModel,
  readTrainingCsv,
  type EpochRecord,
  type ModelKind,
  type Task,
  type TrainedModel,
  type TrainingTable,
  type TrainOptions,
} from '../../train/index.js';
import { attachReference } from '../serving/reference-data.js';
import { trainWithRuntime } from './accelerated-training.js';

export const MODEL_KINDS: readonly ModelKind[] = ['linear', 'ridge', 'logistic', 'softmax', 'mlp'];

/** A model family `tend train` fits (one of MODEL_KINDS). */
export type TrainModelKind = (typeof MODEL_KINDS)[number];

export interface TrainJobOptions {
  /** The CSV file: a header, numeric feature columns, the target column (numbers or class names). */
  data: string;
  target: string;
  model: ModelKind;
  /** mlp only: classification (default when the target holds class names or few integers) or regression. */
  task?: Task;
  name: string;
  alias?: string;
  hidden?: number[];
  activation?: 'relu' | 'tanh';
  optimizer?: 'adam' | 'sgd';
  epochs?: number;
  learningRate?: number;
  batchSize?: number;
  l2?: number;
  seed?: number;
  /** Share of the rows held out for validation (early stopping for the MLP); 0 = none. */
  validation?: number;
  /** Integer-coded feature columns one-hot encoded inside the graph. */
  categorical?: string[];
  actor?: string;
  onEpoch?: (epoch: EpochRecord) => void;
}

export interface TrainJobResult {
  name: string;
  version: number;
  run: string;
  metrics: Record<string, number>;
  classes: string[];
}

/** Which task a kind trains; the MLP decides from its target when not told. `source` names the CSV in errors. */
export function taskOf(
  kind: ModelKind,
  csvText: string,
  target: string,
  asked: Task | undefined,
  source = 'training data',
): Task {
  if (kind === 'linear' || kind === 'ridge') {
    if (asked === 'classification')
      throw errors.invalidArgument(
        `--model ${kind} is a regressor; use logistic, softmax or mlp to classify`,
      );
    return 'regression';
  }
  if (kind === 'logistic' || kind === 'softmax') {
    if (asked === 'regression')
      throw errors.invalidArgument(
        `--model ${kind} is a classifier; use linear, ridge or mlp for regression`,
      );
    return 'classification';
  }
  if (asked !== undefined) return asked;
  return looksCategorical(readCsv(csvText, source), target) ? 'classification' : 'regression';
}

/** Class names, or integers with at most 50 distinct values: a classification target. */
function looksCategorical(table: CsvTable, target: string): boolean {
  const index = table.columns.indexOf(target);
  if (index < 0) return true; // readTrainingCsv reports the missing column
  const seen = new Set<string>();
  for (const row of table.rows) {
    const cell = row.cells[index] ?? '';
    const n = decimalNumber(cell);
    if (n === null || !Number.isInteger(n)) return cell !== '' && n === null;
    seen.add(cell);
    if (seen.size > 50) return false;
  }
  return true;
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function readDataFile(path: string): { text: string; sha256: string } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw errors.invalidArgument(
      `cannot read --data ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  return { text: bytes.toString('utf8'), sha256: sha256Hex(bytes) };
}

/** The parameters a run records: what was asked, with the defaults the trainer applied. */
function runParameters(options: TrainJobOptions, task: Task, model: TrainedModel): Record<string, unknown> {
  return {
    model: options.model,
    task,
    target: options.target,
    validation: options.validation ?? 0.1,
    ...(options.categorical && options.categorical.length > 0 ? { categorical: options.categorical } : {}),
    ...model.hyperparameters,
  };
}

/** Push an exported model with its run id; returns the new version. */
export async function pushTrained(
  registry: Registry,
  bytes: Uint8Array,
  push: {
    name: string;
    alias?: string | undefined;
    runId: string;
    parentVersion?: number;
    metrics: Record<string, unknown>;
    tags: Record<string, string>;
    source: string;
    actor?: string | undefined;
  },
): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'tend-train-'));
  try {
    const file = join(dir, 'model.onnx');
    writeFileSync(file, bytes);
    const pushed = await registry.models.push(file, {
      name: push.name,
      aliases: push.alias ? [push.alias] : [],
      tags: push.tags,
      runId: push.runId,
      metrics: push.metrics,
      source: push.source,
      ...(push.parentVersion !== undefined ? { parentVersion: push.parentVersion } : {}),
      ...(push.actor !== undefined ? { createdBy: push.actor } : {}),
    });
    return pushed.version;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Train, export, register; every outcome is recorded as a run. */
export async function trainAndRegister(
  registry: Registry,
  options: TrainJobOptions,
): Promise<TrainJobResult> {
  if (!MODEL_KINDS.includes(options.model))
    throw errors.invalidArgument(
      `--model '${String(options.model)}' must be one of ${MODEL_KINDS.join(', ')}`,
    );
  const dataPath = resolve(options.data);
  const { text, sha256 } = readDataFile(dataPath);
  const task = taskOf(options.model, text, options.target, options.task, options.data);
  const table: TrainingTable = readTrainingCsv(text, options.data, options.target, task);
  const trainOptions: TrainOptions = {
    model: options.model,
    task,
    ...(options.hidden !== undefined ? { hidden: options.hidden } : {}),
    ...(options.activation !== undefined ? { activation: options.activation } : {}),
    ...(options.optimizer !== undefined ? { optimizer: options.optimizer } : {}),
    ...(options.epochs !== undefined ? { epochs: options.epochs } : {}),
    ...(options.learningRate !== undefined ? { learningRate: options.learningRate } : {}),
    ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
    ...(options.l2 !== undefined ? { l2: options.l2 } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.validation !== undefined ? { validationFraction: options.validation } : {}),
    ...(options.categorical !== undefined ? { categorical: options.categorical } : {}),
    ...(options.onEpoch !== undefined ? { onEpoch: options.onEpoch } : {}),
  };
  const run = await registry.runs.start({
    modelName: options.name,
    kind: 'train',
    parameters: { model: options.model, task, target: options.target },
    datasetSha256: sha256,
    datasetRows: table.rows,
    datasetSource: dataPath,
    codeVersion: `tend ${TEND_VERSION}`,
    createdBy: options.actor ?? 'local',
  });
  const started = performance.now();
  try {
    // Adam MLPs train an epoch per onnxruntime run (native kernels); the other kinds in TypeScript.
    const trained = await trainWithRuntime(table, trainOptions);
    const metrics = { ...trained.metrics, ...prefixed('train_', evaluateModel(trained.model, table)) };
    const bytes = exportTrainedModel(trained.model, { 'tend.run': run.run_id });
    const version = await pushTrained(registry, bytes, {
      name: options.name,
      alias: options.alias,
      runId: run.run_id,
      metrics,
      tags: { 'train.model': options.model, 'train.task': task },
      source: `tend train: ${dataPath}`,
      actor: options.actor,
    });
    // The data the model learned from is what drift is measured against.
    await attachReference(
      registry,
      options.name,
      String(version),
      text,
      `tend train: ${dataPath}`,
      options.actor,
    );
    await registry.runs.finish(run.run_id, {
      metrics,
      epochs: trained.epochs as unknown as Record<string, unknown>[],
      producedVersion: version,
      durationMs: Math.round(performance.now() - started),
      parameters: runParameters(options, task, trained.model),
    });
    return { name: options.name, version, run: run.run_id, metrics, classes: trained.model.classes ?? [] };
  } catch (err) {
    const e = err instanceof TendError ? err : toTendError(err);
    await registry.runs.fail(run.run_id, e.message).catch(() => undefined);
    throw e;
  }
}

function prefixed(prefix: string, values: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [`${prefix}${k}`, v]));
}
