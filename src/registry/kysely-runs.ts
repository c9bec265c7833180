/** RunStore over the registry database (run-schema.ts), in portable queries. */
import { randomBytes } from 'node:crypto';
import type { Kysely, Selectable, Transaction } from 'kysely';
import { errors } from '../core/errors.js';
import { assertModelName, assertVersionNumber } from './names.js';
import type { TrainingRunsTable } from './run-schema.js';
import type {
  EpochMetrics,
  NewRun,
  RunFinish,
  RunListOptions,
  RunRecord,
  RunStatus,
  RunStore,
} from './run-store.js';
import type { RegistryDatabase } from './schema.js';
import { now } from './version-rows.js';

type Write = <T>(fn: (trx: Transaction<RegistryDatabase>) => Promise<T>) => Promise<T>;
type Db = Kysely<RegistryDatabase> | Transaction<RegistryDatabase>;

const KIND = /^[a-z][a-z0-9_:-]{0,63}$/;
const SHA256 = /^[0-9a-f]{64}$/;
const STATUSES: readonly RunStatus[] = ['running', 'finished', 'failed'];

/** 'r' + UTC yyyymmddhhmmss + 6 random hex digits: unique enough, and sorts by start time. */
export function newRunId(at: Date = new Date()): string {
  const stamp = at.toISOString().slice(0, 19).replace(/[-T:]/g, '');
  return `r${stamp}${randomBytes(3).toString('hex')}`;
}

const runNotFound = (runId: string) => errors.notFound(`run '${runId}' not found`);

function toRecord(row: Selectable<TrainingRunsTable>): RunRecord {
  return {
    run_id: row.run_id,
    model_name: row.model_name,
    kind: row.kind,
    status: row.status as RunStatus,
    parameters: JSON.parse(row.parameters) as Record<string, unknown>,
    epochs: JSON.parse(row.epochs) as EpochMetrics[],
    metrics: JSON.parse(row.metrics) as Record<string, unknown>,
    dataset_sha256: row.dataset_sha256,
    dataset_rows: row.dataset_rows === null ? null : Number(row.dataset_rows),
    dataset_source: row.dataset_source,
    parent_version: row.parent_version === null ? null : Number(row.parent_version),
    produced_version: row.produced_version === null ? null : Number(row.produced_version),
    code_version: row.code_version,
    error: row.error,
    started_at: row.started_at,
    finished_at: row.finished_at,
    duration_ms: row.duration_ms === null ? null : Number(row.duration_ms),
    created_by: row.created_by,
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON text of an object, or TEND_INVALID_ARGUMENT naming the field. */
function objectJson(what: string, value: unknown): string {
  if (!isPlainObject(value)) throw errors.invalidArgument(`${what} must be a JSON object`);
  return toJson(what, value);
}

function epochsJson(epochs: unknown): string {
  if (!Array.isArray(epochs) || !epochs.every(isPlainObject))
    throw errors.invalidArgument('epochs must be an array of JSON objects');
  return toJson('epochs', epochs);
}

function toJson(what: string, value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (err) {
    throw errors.invalidArgument(`${what} cannot be stored as JSON: ${(err as Error).message}`);
  }
}

function assertText(what: string, value: unknown, maxLength: number): asserts value is string {
  if (typeof value !== 'string' || value === '' || value.length > maxLength) {
    throw errors.invalidArgument(`${what} must be a non-empty string of at most ${maxLength} characters`);
  }
}

function assertDataset(sha256: unknown, rows: unknown): void {
  if (sha256 !== null && (typeof sha256 !== 'string' || !SHA256.test(sha256))) {
    throw errors.invalidArgument(`dataset sha256 '${String(sha256)}' must be 64 lower-case hex digits`);
  }
  if (rows !== null && (typeof rows !== 'number' || !Number.isSafeInteger(rows) || rows < 0)) {
    throw errors.invalidArgument('dataset rows must be a non-negative integer');
  }
}

function assertRunId(runId: unknown): asserts runId is string {
  if (typeof runId !== 'string' || runId === '')
    throw errors.invalidArgument('a run id must be a non-empty string');
}

export class KyselyRuns implements RunStore {
  constructor(
    private readonly db: Kysely<RegistryDatabase>,
    private readonly write: Write,
  ) {}

  private async readRun(db: Db, runId: string): Promise<RunRecord> {
    const row = await db
      .selectFrom('training_runs')
      .selectAll()
      .where('run_id', '=', runId)
      .executeTakeFirst();
    if (row === undefined) throw runNotFound(runId);
    return toRecord(row);
  }

  /** The run, which must still be running (read outside the write: its id, model and start never change). */
  private async runningRun(runId: string): Promise<RunRecord> {
    assertRunId(runId);
    const run = await this.readRun(this.db, runId);
    if (run.status !== 'running') throw errors.conflict(`run '${runId}' is already ${run.status}`);
    return run;
  }

  async startRun(input: NewRun): Promise<RunRecord> {
    assertModelName(input.modelName);
    if (typeof input.kind !== 'string' || !KIND.test(input.kind)) {
      throw errors.invalidArgument(
        `run kind '${String(input.kind)}' must be lower-case letters, digits, '_', '-' or ':' (at most 64, starting with a letter)`,
      );
    }
    const parameters = objectJson('parameters', input.parameters);
    assertDataset(input.datasetSha256, input.datasetRows);
    assertText('dataset source', input.datasetSource, 4096);
    const parent = input.parentVersion ?? null;
    if (parent !== null) assertVersionNumber(parent);
    assertText('code version', input.codeVersion, 256);
    assertText('created by', input.createdBy, 256);
    const startedAt = new Date();
    for (let attempt = 1; ; attempt++) {
      const row = {
        run_id: newRunId(startedAt),
        model_name: input.modelName,
        kind: input.kind,
        status: 'running',
        parameters,
        epochs: '[]',
        metrics: '{}',
        dataset_sha256: input.datasetSha256,
        dataset_rows: input.datasetRows,
        dataset_source: input.datasetSource,
        parent_version: parent,
        produced_version: null,
        code_version: input.codeVersion,
        error: null,
        started_at: startedAt.toISOString(),
        finished_at: null,
        duration_ms: null,
        created_by: input.createdBy,
      };
      try {
        await this.write((trx) => trx.insertInto('training_runs').values(row).execute());
        return toRecord(row);
      } catch (err) {
        // Two runs started in the same second draw from 16.7 million suffixes; a clash draws again.
        const taken = await this.db
          .selectFrom('training_runs')
          .select('run_id')
          .where('run_id', '=', row.run_id)
          .executeTakeFirst();
        if (taken === undefined || attempt >= 3) throw err;
      }
    }
  }

  async finishRun(runId: string, finish: RunFinish): Promise<RunRecord> {
    const metrics = objectJson('metrics', finish.metrics);
    const epochs = epochsJson(finish.epochs);
    const parameters =
      finish.parameters === undefined ? undefined : objectJson('parameters', finish.parameters);
    if (
      typeof finish.durationMs !== 'number' ||
      !Number.isFinite(finish.durationMs) ||
      finish.durationMs < 0
    ) {
      throw errors.invalidArgument('durationMs must be a non-negative number');
    }
    assertDataset(finish.datasetSha256 ?? null, finish.datasetRows ?? null);
    const produced = finish.producedVersion;
    if (produced !== undefined) assertVersionNumber(produced);
    const run = await this.runningRun(runId);
    const at = now();
    return this.write(async (trx) => {
      if (produced !== undefined) await this.linkVersion(trx, run, produced, at);
      const updated = await trx
        .updateTable('training_runs')
        .set({
          status: 'finished',
          metrics,
          epochs,
          finished_at: at,
          duration_ms: Math.round(finish.durationMs),
          ...(produced !== undefined ? { produced_version: produced } : {}),
          ...(parameters !== undefined ? { parameters } : {}),
          ...(finish.datasetSha256 !== undefined ? { dataset_sha256: finish.datasetSha256 } : {}),
          ...(finish.datasetRows !== undefined ? { dataset_rows: finish.datasetRows } : {}),
        })
        .where('run_id', '=', runId)
        .where('status', '=', 'running')
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0) throw errors.conflict(`run '${runId}' ended meanwhile`);
      return this.readRun(trx, runId);
    });
  }

  /** Check the produced version exists and belongs to this run (claiming it when it names no run). */
  private async linkVersion(
    trx: Transaction<RegistryDatabase>,
    run: RunRecord,
    version: number,
    at: string,
  ): Promise<void> {
    const name = run.model_name;
    // The model row first: it is the write lock of every change to the model (see kysely-store.ts).
    const touched = await trx
      .updateTable('models')
      .set({ updated_at: at })
      .where('name', '=', name)
      .executeTakeFirst();
    if (Number(touched.numUpdatedRows) === 0) throw errors.versionNotFound(name, version);
    const row = await trx
      .selectFrom('model_versions')
      .select('run_id')
      .where('model_name', '=', name)
      .where('version', '=', version)
      .executeTakeFirst();
    if (row === undefined) throw errors.versionNotFound(name, version);
    if (row.run_id === null) {
      await trx
        .updateTable('model_versions')
        .set({ run_id: run.run_id })
        .where('model_name', '=', name)
        .where('version', '=', version)
        .execute();
    } else if (row.run_id !== run.run_id) {
      throw errors.conflict(
        `version ${version} of model '${name}' was produced by run '${row.run_id}', not '${run.run_id}'`,
      );
    }
  }

  async failRun(runId: string, error: string, epochs?: readonly object[]): Promise<RunRecord> {
    assertText('error', error, 65_536);
    const epochsText = epochs === undefined ? undefined : epochsJson(epochs);
    const run = await this.runningRun(runId);
    const finishedAt = new Date();
    return this.write(async (trx) => {
      const updated = await trx
        .updateTable('training_runs')
        .set({
          status: 'failed',
          error,
          finished_at: finishedAt.toISOString(),
          duration_ms: Math.max(0, finishedAt.getTime() - Date.parse(run.started_at)),
          ...(epochsText !== undefined ? { epochs: epochsText } : {}),
        })
        .where('run_id', '=', runId)
        .where('status', '=', 'running')
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0) throw errors.conflict(`run '${runId}' ended meanwhile`);
      return this.readRun(trx, runId);
    });
  }

  async getRun(runId: string): Promise<RunRecord> {
    assertRunId(runId);
    return this.readRun(this.db, runId);
  }

  async listRuns(options: RunListOptions = {}): Promise<RunRecord[]> {
    if (options.model !== undefined) assertModelName(options.model);
    if (options.status !== undefined && !STATUSES.includes(options.status)) {
      throw errors.invalidArgument(
        `run status '${String(options.status)}' must be one of ${STATUSES.join(', ')}`,
      );
    }
    if (options.limit !== undefined && (!Number.isSafeInteger(options.limit) || options.limit < 1)) {
      throw errors.invalidArgument('limit must be a positive integer');
    }
    let query = this.db
      .selectFrom('training_runs')
      .selectAll()
      .orderBy('started_at', 'desc')
      .orderBy('run_id', 'desc');
    if (options.model !== undefined) query = query.where('model_name', '=', options.model);
    if (options.status !== undefined) query = query.where('status', '=', options.status);
    if (options.limit !== undefined) query = query.limit(options.limit);
    return (await query.execute()).map(toRecord);
  }
}
