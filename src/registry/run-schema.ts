/**
 * Training runs: what every training or update of a model did (parameters, metrics per epoch, the
 * data set's sha256 and row count, duration, code version) and which version it produced.
 * model_versions.run_id points here. schema.ts lists the migration.
 */
import type { ColumnType, Kysely, Migration } from 'kysely';

export interface TrainingRunsTable {
  run_id: string;
  /** No foreign key: a first training starts before its model exists, and runs outlive deleted models. */
  model_name: string;
  /** e.g. 'train', 'update:minibatch', 'update:online'. */
  kind: string;
  /** 'running', 'finished' or 'failed'. */
  status: string;
  /** JSON object. */
  parameters: string;
  /** JSON array of per-epoch metric objects. */
  epochs: string;
  /** JSON object of the final metrics. */
  metrics: string;
  dataset_sha256: string | null;
  // PostgreSQL returns bigint as a string: the store converts.
  dataset_rows: ColumnType<number | string | null, number | null, number | null>;
  /** A path, or 'stream' for online updates. */
  dataset_source: string;
  parent_version: number | null;
  produced_version: number | null;
  code_version: string;
  error: string | null;
  started_at: string;
  finished_at: string | null;
  duration_ms: ColumnType<number | string | null, number | null, number | null>;
  created_by: string;
}

// Migrations take Kysely<any> by Kysely's design: they run against the schema before it exists.
/* eslint-disable @typescript-eslint/no-explicit-any */
export const runsMigration: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('training_runs')
      .addColumn('run_id', 'varchar(32)', (c) => c.primaryKey())
      .addColumn('model_name', 'varchar(128)', (c) => c.notNull())
      .addColumn('kind', 'varchar(64)', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('parameters', 'text', (c) => c.notNull())
      .addColumn('epochs', 'text', (c) => c.notNull())
      .addColumn('metrics', 'text', (c) => c.notNull())
      .addColumn('dataset_sha256', 'varchar(64)')
      .addColumn('dataset_rows', 'bigint')
      .addColumn('dataset_source', 'text', (c) => c.notNull())
      .addColumn('parent_version', 'integer')
      .addColumn('produced_version', 'integer')
      .addColumn('code_version', 'text', (c) => c.notNull())
      .addColumn('error', 'text')
      .addColumn('started_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('finished_at', 'varchar(32)')
      .addColumn('duration_ms', 'bigint')
      .addColumn('created_by', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('training_runs_model')
      .on('training_runs')
      .columns(['model_name', 'started_at'])
      .execute();
  },
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.dropTable('training_runs').execute();
  },
};
/* eslint-enable @typescript-eslint/no-explicit-any */
