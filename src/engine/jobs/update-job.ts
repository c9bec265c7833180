/**
 * `tend update`: a new version of a tend-trained model from new data, warm-started from the weights
 * of the version it updates (read back from its ONNX initializers). Modes:
 *   batch       – full-batch passes over the new data;
 *   minibatch   – shuffled mini-batches over the new data;
 *   incremental – mini-batches over the new data only, mixed with up to --replay rows of the
 *                 parent's training data (its monitoring reference) to limit forgetting;
 *   online      – one pass, one SGD step per row, progressive validation (predict, then learn).
 * The parent is never changed; the new version links to it (parent_version) and to its run. A
 * failed update registers nothing and moves no alias.
 */
import { resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { errors, TendError, toTendError } from '../../core/errors.js';
import { TEND_VERSION } from '../../core/version.js';
import type { Registry } from '../../registry/index.js';
import {
  continueTraining,
  evaluateModel,
  exportTrainedModel,
  importTrainedModel,
  OnlineLearner,
  readUpdateCsv,
  ReplayBuffer,
  type TrainedModel,
  type TrainingTable,
} from '../../train/index.js';
import { attachReference, REFERENCE_KIND } from '../serving/reference-data.js';
import { pushTrained, sha256Hex } from './training-job.js';

export type UpdateMode = 'online' | 'minibatch' | 'batch' | 'incremental';
export const UPDATE_MODES: readonly UpdateMode[] = ['online', 'minibatch', 'batch', 'incremental'];

export interface UpdateOptions {
  data: string;
  mode: UpdateMode;
  epochs?: number;
  learningRate?: number;
  batchSize?: number;
  /** incremental: rows of the parent's training data mixed in. */
  replay?: number;
  seed?: number;
  alias?: string;
  /** Route this share (0–100) of the model's traffic to the new version as a canary of its current champion. */
  canaryPercent?: number;
  actor?: string;
}

export interface UpdateResult {
  name: string;
  version: number;
  parent_version: number;
  run: string;
  mode: UpdateMode;
  rows: number;
  /** On the new data: the parent's metrics, then the new version's. */
  before: Record<string, number>;
  metrics: Record<string, number>;
}

/** Read a registered version back as a trainer model. @throws TEND_INVALID_ARGUMENT for models tend did not train */
export async function loadTrainedVersion(
  registry: Registry,
  name: string,
  versionRef: string | undefined,
): Promise<{ version: number; model: TrainedModel }> {
  const record = await registry.models.resolveVersion(name, versionRef ?? 'latest');
  try {
    return { version: record.version, model: importTrainedModel(await registry.files.read(record)) };
  } catch (err) {
    const e = toTendError(err);
    throw errors.invalidArgument(`${record.name} version ${record.version} cannot be updated: ${e.message}`);
  }
}

function tableFor(model: TrainedModel, text: string, source: string): TrainingTable {
  return readUpdateCsv(text, source, {
    featureColumns: model.featureColumns,
    targetColumn: model.targetColumn,
    task: model.task,
    ...(model.classes !== undefined ? { classes: model.classes } : {}),
  });
}

/** Up to `rows` rows of the parent's reference data (its training data), sampled with a seed. */
async function replayRows(
  registry: Registry,
  name: string,
  version: number,
  model: TrainedModel,
  rows: number,
  seed: number,
): Promise<TrainingTable | null> {
  const artifact = await registry.artifacts.read(name, version, REFERENCE_KIND);
  if (artifact === null) {
    throw errors.invalidArgument(
      `--replay needs the training data of ${name} version ${version}, and it has none attached (tend monitor reference set)`,
    );
  }
  const table = tableFor(
    model,
    new TextDecoder().decode(artifact.bytes),
    `the reference data of ${name} version ${version}`,
  );
  const buffer = new ReplayBuffer(rows, seed);
  buffer.addTable(table);
  return buffer.asTable();
}

/** Update `name@versionRef` (default: latest) with the rows of options.data; registers a new version. */
export async function updateVersion(
  registry: Registry,
  name: string,
  versionRef: string | undefined,
  options: UpdateOptions,
): Promise<UpdateResult> {
  if (!UPDATE_MODES.includes(options.mode))
    throw errors.invalidArgument(
      `--mode '${String(options.mode)}' must be one of ${UPDATE_MODES.join(', ')}`,
    );
  if (options.replay !== undefined && (!Number.isInteger(options.replay) || options.replay < 1))
    throw errors.invalidArgument(`--replay ${options.replay} must be a positive whole number of rows`);
  if (options.replay !== undefined && options.mode !== 'incremental')
    throw errors.invalidArgument('--replay applies to --mode incremental');
  if (options.learningRate !== undefined && !(options.learningRate > 0))
    throw errors.invalidArgument(`--lr ${options.learningRate} must be greater than 0`);
  if (options.canaryPercent !== undefined && !(options.canaryPercent > 0 && options.canaryPercent < 100))
    throw errors.invalidArgument(
      `--canary ${options.canaryPercent} must be a percentage above 0 and below 100`,
    );
  const parent = await loadTrainedVersion(registry, name, versionRef);
  const dataPath = resolve(options.data);
  let bytes: Buffer;
  try {
    bytes = readFileSync(dataPath);
  } catch (err) {
    throw errors.invalidArgument(
      `cannot read --data ${dataPath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  const table = tableFor(parent.model, bytes.toString('utf8'), options.data);
  const seed = options.seed ?? 0;
  const replay =
    options.replay !== undefined
      ? await replayRows(registry, name, parent.version, parent.model, options.replay, seed)
      : null;
  const before = evaluateModel(parent.model, table);

  const run = await registry.runs.start({
    modelName: name,
    kind: `update:${options.mode}`,
    parameters: {
      mode: options.mode,
      ...(options.epochs !== undefined ? { epochs: options.epochs } : {}),
      ...(options.learningRate !== undefined ? { learning_rate: options.learningRate } : {}),
      ...(options.batchSize !== undefined ? { batch_size: options.batchSize } : {}),
      ...(options.replay !== undefined ? { replay: options.replay, replay_rows: replay?.rows ?? 0 } : {}),
      seed,
    },
    datasetSha256: sha256Hex(bytes),
    datasetRows: table.rows,
    datasetSource: dataPath,
    parentVersion: parent.version,
    codeVersion: `tend ${TEND_VERSION}`,
    createdBy: options.actor ?? 'local',
  });
  const started = performance.now();
  try {
    let updated: TrainedModel;
    let epochs: Record<string, unknown>[];
    let extra: Record<string, number> = {};
    if (options.mode === 'online') {
      const learner = new OnlineLearner(
        parent.model,
        options.learningRate !== undefined ? { learningRate: options.learningRate } : {},
      );
      const width = table.featureColumns.length;
      for (let r = 0; r < table.rows; r++) {
        const label =
          table.task === 'classification'
            ? (table.labels as Int32Array)[r]
            : (table.target as Float64Array)[r];
        learner.learn(table.features.subarray(r * width, (r + 1) * width), label as number);
      }
      updated = learner.snapshot();
      const progressive = learner.progressive();
      extra = Object.fromEntries(
        Object.entries(progressive)
          .filter(([, v]) => typeof v === 'number')
          .map(([k, v]) => [`progressive_${k}`, v as number]),
      );
      epochs = [{ epoch: 1, ...extra }];
    } else {
      const result = continueTraining(parent.model, table, {
        mode: options.mode === 'batch' ? 'batch' : 'minibatch',
        seed,
        ...(options.epochs !== undefined ? { epochs: options.epochs } : {}),
        ...(options.learningRate !== undefined ? { learningRate: options.learningRate } : {}),
        ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
        ...(replay !== null ? { replay } : {}),
      });
      updated = result.model;
      epochs = result.epochs as unknown as Record<string, unknown>[];
    }
    const metrics = { ...evaluateModel(updated, table), ...extra };
    const version = await pushTrained(registry, exportTrainedModel(updated, { 'tend.run': run.run_id }), {
      name,
      alias: options.alias,
      runId: run.run_id,
      parentVersion: parent.version,
      metrics,
      tags: { 'train.model': updated.kind, 'train.task': updated.task, 'update.mode': options.mode },
      source: `tend update --mode ${options.mode}: ${dataPath}`,
      actor: options.actor,
    });
    // What the new version learned from is what its drift is measured against.
    await attachReference(
      registry,
      name,
      String(version),
      bytes.toString('utf8'),
      `tend update --mode ${options.mode}: ${dataPath}`,
      options.actor,
    );
    await registry.runs.finish(run.run_id, {
      metrics,
      epochs,
      producedVersion: version,
      durationMs: Math.round(performance.now() - started),
    });
    if (options.canaryPercent !== undefined) {
      // The champion stays what it is (the endpoint's route, else the champion alias, else the parent).
      const current = await registry.deployments.get(name);
      const champion =
        current?.routes.champion ?? (await registry.models.listAliases(name))['champion'] ?? parent.version;
      await registry.deployments.put(
        name,
        { champion, canary: { version, percent: options.canaryPercent } },
        { action: 'canary', reason: `tend update --mode ${options.mode}` },
      );
    }
    return {
      name,
      version,
      parent_version: parent.version,
      run: run.run_id,
      mode: options.mode,
      rows: table.rows,
      before,
      metrics,
    };
  } catch (err) {
    const e = err instanceof TendError ? err : toTendError(err);
    await registry.runs.fail(run.run_id, e.message).catch(() => undefined);
    throw e;
  }
}
