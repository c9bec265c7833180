/** StudyStore over the registry database (study-schema.ts), in portable queries. */
import type { Kysely, Selectable, Transaction } from 'kysely';
import { errors } from '../core/errors.js';
import { assertModelName } from './names.js';
import type { RegistryDatabase } from './schema.js';
import type { TuneStudiesTable, TuneTrialsTable } from './study-schema.js';
import type {
  NewStudy,
  StudyRecord,
  StudyStore,
  StudySummary,
  StudyTrialRecord,
  StudyTrialState,
  TrialFinish,
} from './study-store.js';
import { now } from './version-rows.js';

type Write = <T>(fn: (trx: Transaction<RegistryDatabase>) => Promise<T>) => Promise<T>;

const STUDY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const ENDED: readonly StudyTrialState[] = ['complete', 'pruned', 'failed'];

function assertStudyName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !STUDY_NAME.test(name)) {
    throw errors.invalidArgument(
      `study name '${String(name)}' must be letters, digits, '.', '_' or '-' (at most 128, starting with a letter or digit)`,
    );
  }
}

function assertTrialNumber(number: unknown): asserts number is number {
  if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 0)
    throw errors.invalidArgument(`a trial number must be a whole number ≥ 0, got ${String(number)}`);
}

function objectJson(what: string, value: unknown): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw errors.invalidArgument(`${what} must be a JSON object`);
  return JSON.stringify(value);
}

function toStudy(row: Selectable<TuneStudiesTable>): StudyRecord {
  return {
    name: row.name,
    direction: row.direction as StudyRecord['direction'],
    metric: row.metric,
    sampler: row.sampler,
    pruner: row.pruner,
    seed: Number(row.seed),
    space: JSON.parse(row.space) as Record<string, unknown>,
    objective: JSON.parse(row.objective) as Record<string, unknown>,
    target_trials: Number(row.target_trials),
    status: row.status as StudyRecord['status'],
    best_trial: row.best_trial === null ? null : Number(row.best_trial),
    model_name: row.model_name,
    produced_version: row.produced_version === null ? null : Number(row.produced_version),
    created_at: row.created_at,
    updated_at: row.updated_at,
    created_by: row.created_by,
  };
}

function toTrial(row: Selectable<TuneTrialsTable>, steps: [number, number][]): StudyTrialRecord {
  return {
    number: Number(row.number),
    state: row.state as StudyTrialState,
    params: JSON.parse(row.params) as Record<string, unknown>,
    value: row.value === null ? null : Number(row.value),
    error: row.error,
    intermediate: steps,
    started_at: row.started_at,
    finished_at: row.finished_at,
    duration_ms: row.duration_ms === null ? null : Number(row.duration_ms),
  };
}

export class KyselyStudies implements StudyStore {
  constructor(
    private readonly db: Kysely<RegistryDatabase>,
    private readonly write: Write,
  ) {}

  async createStudy(input: NewStudy): Promise<StudyRecord> {
    assertStudyName(input.name);
    if (input.direction !== 'minimize' && input.direction !== 'maximize')
      throw errors.invalidArgument(`direction '${String(input.direction)}' must be minimize or maximize`);
    if (!Number.isSafeInteger(input.targetTrials) || input.targetTrials < 1)
      throw errors.invalidArgument('the number of trials must be a positive whole number');
    if (!Number.isSafeInteger(input.seed)) throw errors.invalidArgument('the seed must be a whole number');
    const at = now();
    const row = {
      name: input.name,
      direction: input.direction,
      metric: input.metric,
      sampler: input.sampler,
      pruner: input.pruner,
      seed: input.seed,
      space: objectJson('space', input.space),
      objective: objectJson('objective', input.objective),
      target_trials: input.targetTrials,
      status: 'running',
      best_trial: null,
      model_name: null,
      produced_version: null,
      created_at: at,
      updated_at: at,
      created_by: input.createdBy,
    };
    return this.write(async (trx) => {
      const taken = await trx
        .selectFrom('tune_studies')
        .select('name')
        .where('name', '=', input.name)
        .executeTakeFirst();
      if (taken !== undefined)
        throw errors.conflict(`study '${input.name}' exists`, {
          hint: 'pass --resume to continue it, or choose another --study name',
        });
      await trx.insertInto('tune_studies').values(row).execute();
      return toStudy(row);
    });
  }

  async findStudy(name: string): Promise<StudyRecord | null> {
    assertStudyName(name);
    const row = await this.db
      .selectFrom('tune_studies')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
    return row === undefined ? null : toStudy(row);
  }

  private async mustFind(name: string): Promise<StudyRecord> {
    const study = await this.findStudy(name);
    if (study === null)
      throw errors.notFound(`study '${name}' not found`, { hint: '`tend tune list` shows the studies' });
    return study;
  }

  async listStudies(): Promise<StudySummary[]> {
    const studies = await this.db
      .selectFrom('tune_studies')
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('name')
      .execute();
    const counts = await this.db
      .selectFrom('tune_trials')
      .select(['study', 'state'])
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .groupBy(['study', 'state'])
      .execute();
    const values = await this.db
      .selectFrom('tune_trials')
      .select(['study', 'value'])
      .where('state', '=', 'complete')
      .execute();
    return studies.map((row) => {
      const study = toStudy(row);
      const count: Record<StudyTrialState, number> = { running: 0, complete: 0, pruned: 0, failed: 0 };
      for (const c of counts) if (c.study === study.name) count[c.state as StudyTrialState] = Number(c.n);
      let best: number | null = null;
      for (const v of values) {
        if (v.study !== study.name || v.value === null) continue;
        const value = Number(v.value);
        if (best === null || (study.direction === 'minimize' ? value < best : value > best)) best = value;
      }
      return { ...study, counts: count, best_value: best };
    });
  }

  async reopenStudy(name: string, targetTrials: number): Promise<StudyRecord> {
    await this.mustFind(name);
    if (!Number.isSafeInteger(targetTrials) || targetTrials < 1)
      throw errors.invalidArgument('the number of trials must be a positive whole number');
    await this.write((trx) =>
      trx
        .updateTable('tune_studies')
        .set({ target_trials: targetTrials, status: 'running', updated_at: now() })
        .where('name', '=', name)
        .execute(),
    );
    return this.mustFind(name);
  }

  async listTrials(name: string): Promise<StudyTrialRecord[]> {
    await this.mustFind(name);
    const rows = await this.db
      .selectFrom('tune_trials')
      .selectAll()
      .where('study', '=', name)
      .orderBy('number')
      .execute();
    const steps = await this.db
      .selectFrom('tune_trial_steps')
      .select(['number', 'step', 'value'])
      .where('study', '=', name)
      .orderBy('number')
      .orderBy('step')
      .execute();
    const byTrial = new Map<number, [number, number][]>();
    for (const s of steps) {
      const list = byTrial.get(Number(s.number)) ?? [];
      list.push([Number(s.step), s.value === null ? Number.NaN : Number(s.value)]);
      byTrial.set(Number(s.number), list);
    }
    return rows.map((row) => toTrial(row, byTrial.get(Number(row.number)) ?? []));
  }

  async startTrial(name: string, number: number, params: Record<string, unknown>): Promise<void> {
    assertStudyName(name);
    assertTrialNumber(number);
    const paramsJson = objectJson('params', params);
    await this.write(async (trx) => {
      const existing = await trx
        .selectFrom('tune_trials')
        .select('state')
        .where('study', '=', name)
        .where('number', '=', number)
        .executeTakeFirst();
      if (existing !== undefined && existing.state !== 'running')
        throw errors.conflict(`trial ${number} of study '${name}' already ended (${existing.state})`);
      await trx
        .deleteFrom('tune_trial_steps')
        .where('study', '=', name)
        .where('number', '=', number)
        .execute();
      await trx.deleteFrom('tune_trials').where('study', '=', name).where('number', '=', number).execute();
      await trx
        .insertInto('tune_trials')
        .values({
          study: name,
          number,
          state: 'running',
          params: paramsJson,
          value: null,
          error: null,
          started_at: now(),
          finished_at: null,
          duration_ms: null,
        })
        .execute();
    });
  }

  async reportStep(name: string, number: number, step: number, value: number): Promise<void> {
    assertTrialNumber(number);
    assertTrialNumber(step);
    const stored = Number.isFinite(value) ? value : null;
    await this.write(async (trx) => {
      await trx
        .deleteFrom('tune_trial_steps')
        .where('study', '=', name)
        .where('number', '=', number)
        .where('step', '=', step)
        .execute();
      await trx.insertInto('tune_trial_steps').values({ study: name, number, step, value: stored }).execute();
    });
  }

  async finishTrial(name: string, number: number, finish: TrialFinish): Promise<void> {
    assertTrialNumber(number);
    if (!ENDED.includes(finish.state))
      throw errors.invalidArgument(`a trial ends complete, pruned or failed, not '${finish.state}'`);
    const value = finish.value !== null && Number.isFinite(finish.value) ? finish.value : null;
    await this.write(async (trx) => {
      const updated = await trx
        .updateTable('tune_trials')
        .set({
          state: finish.state,
          value,
          error: finish.error === null ? null : finish.error.slice(0, 65_536),
          finished_at: now(),
          duration_ms: Math.max(0, Math.round(finish.durationMs)),
        })
        .where('study', '=', name)
        .where('number', '=', number)
        .where('state', '=', 'running')
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0)
        throw errors.conflict(`trial ${number} of study '${name}' is not running`);
    });
  }

  async finishStudy(
    name: string,
    result: { bestTrial: number | null; modelName: string | null; producedVersion: number | null },
  ): Promise<StudyRecord> {
    await this.mustFind(name);
    if (result.modelName !== null) assertModelName(result.modelName);
    await this.write((trx) =>
      trx
        .updateTable('tune_studies')
        .set({
          status: 'finished',
          best_trial: result.bestTrial,
          model_name: result.modelName,
          produced_version: result.producedVersion,
          updated_at: now(),
        })
        .where('name', '=', name)
        .execute(),
    );
    return this.mustFind(name);
  }
}
