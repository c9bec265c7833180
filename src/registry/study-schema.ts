/**
 * Tuning studies (`tend tune`): a study's definition, its trials (parameters, state, value, error,
 * timings) and each trial's intermediate values, one row per step so that a report is one small
 * insert. schema.ts lists the migration.
 */
import type { ColumnType, Kysely, Migration } from 'kysely';

export interface TuneStudiesTable {
  name: string;
  /** 'minimize' or 'maximize'. */
  direction: string;
  metric: string;
  sampler: string;
  pruner: string;
  seed: number;
  /** JSON of the search space (spaceToJson). */
  space: string;
  /** JSON object: what a trial runs (trainer and data, or the command). */
  objective: string;
  target_trials: number;
  /** 'running' or 'finished'. */
  status: string;
  best_trial: number | null;
  model_name: string | null;
  produced_version: number | null;
  created_at: string;
  updated_at: string;
  created_by: string;
}

export interface TuneTrialsTable {
  study: string;
  number: number;
  /** 'running', 'complete', 'pruned' or 'failed'. */
  state: string;
  /** JSON object of the active parameters. */
  params: string;
  value: number | null;
  error: string | null;
  started_at: string;
  finished_at: string | null;
  // PostgreSQL returns bigint as a string: the store converts.
  duration_ms: ColumnType<number | string | null, number | null, number | null>;
}

export interface TuneTrialStepsTable {
  study: string;
  number: number;
  step: number;
  /** Null stands for NaN. */
  value: number | null;
}

// Migrations take Kysely<any> by Kysely's design: they run against the schema before it exists.
/* eslint-disable @typescript-eslint/no-explicit-any */
export const tuneMigration: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('tune_studies')
      .addColumn('name', 'varchar(128)', (c) => c.primaryKey())
      .addColumn('direction', 'varchar(16)', (c) => c.notNull())
      .addColumn('metric', 'varchar(64)', (c) => c.notNull())
      .addColumn('sampler', 'varchar(32)', (c) => c.notNull())
      .addColumn('pruner', 'varchar(32)', (c) => c.notNull())
      .addColumn('seed', 'integer', (c) => c.notNull())
      .addColumn('space', 'text', (c) => c.notNull())
      .addColumn('objective', 'text', (c) => c.notNull())
      .addColumn('target_trials', 'integer', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('best_trial', 'integer')
      .addColumn('model_name', 'varchar(128)')
      .addColumn('produced_version', 'integer')
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('tune_trials')
      .addColumn('study', 'varchar(128)', (c) => c.notNull().references('tune_studies.name'))
      .addColumn('number', 'integer', (c) => c.notNull())
      .addColumn('state', 'varchar(16)', (c) => c.notNull())
      .addColumn('params', 'text', (c) => c.notNull())
      .addColumn('value', 'double precision')
      .addColumn('error', 'text')
      .addColumn('started_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('finished_at', 'varchar(32)')
      .addColumn('duration_ms', 'bigint')
      .addPrimaryKeyConstraint('tune_trials_pk', ['study', 'number'])
      .execute();
    await db.schema
      .createTable('tune_trial_steps')
      .addColumn('study', 'varchar(128)', (c) => c.notNull())
      .addColumn('number', 'integer', (c) => c.notNull())
      .addColumn('step', 'integer', (c) => c.notNull())
      .addColumn('value', 'double precision')
      .addPrimaryKeyConstraint('tune_trial_steps_pk', ['study', 'number', 'step'])
      .addForeignKeyConstraint('tune_trial_steps_trial_fk', ['study', 'number'], 'tune_trials', [
        'study',
        'number',
      ])
      .execute();
  },
  async down(db: Kysely<any>): Promise<void> {
    for (const table of ['tune_trial_steps', 'tune_trials', 'tune_studies'])
      await db.schema.dropTable(table).execute();
  },
};
/* eslint-enable @typescript-eslint/no-explicit-any */
