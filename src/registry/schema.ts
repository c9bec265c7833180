/**
 * The registry's tables and their migrations, defined in code (not files) so they ship inside
 * dist/. Only portable Kysely schema builder calls: the same migrations run on SQLite and PostgreSQL.
 * Timestamps are ISO-8601 UTC strings and JSON columns are text, for the same reason.
 */
import type { ColumnType, Kysely, Migration, MigrationProvider } from 'kysely';
import type { DeploymentHistoryTable, DeploymentsTable } from './deployment-schema.js';
import { deploymentsMigration } from './deployment-schema.js';
import type { BlobLeasesTable, RegistryLocksTable, RetiredModelsTable } from './lifecycle-schema.js';
import { lifecycleMigration } from './lifecycle-schema.js';
import type { VersionArtifactsTable } from './artifact-schema.js';
import { artifactsMigration } from './artifact-schema.js';
import type { TrainingRunsTable } from './run-schema.js';
import { runsMigration } from './run-schema.js';
import type { ApiTokensTable, AuditLogTable } from './security-schema.js';
import { securityMigration } from './security-schema.js';
import type { TuneStudiesTable, TuneTrialStepsTable, TuneTrialsTable } from './study-schema.js';
import { tuneMigration } from './study-schema.js';

export interface ModelsTable {
  name: string;
  description: string;
  /** JSON object of strings. */
  tags: string;
  /** The number the next version gets; only ever grows, so deleted numbers are never reused. */
  next_version: number;
  created_at: string;
  updated_at: string;
}

export interface ModelVersionsTable {
  model_name: string;
  version: number;
  sha256: string;
  // PostgreSQL returns bigint as a string: the store converts.
  size_bytes: ColumnType<number | string, number, number>;
  signature: string;
  model_info: string;
  source: string;
  created_at: string;
  created_by: string;
  metrics: string;
  tags: string;
  parent_version: number | null;
  run_id: string | null;
  /** 'ready' or 'archived' (kept with archived_at and archived_by). */
  status: string;
  archived_at: string | null;
  archived_by: string | null;
}

export interface ModelAliasesTable {
  model_name: string;
  alias: string;
  version: number;
  updated_at: string;
  updated_by: string;
}

export interface AliasHistoryTable {
  model_name: string;
  alias: string;
  /** 1, 2, ... per (model, alias): orders the moves without relying on timestamps. */
  seq: number;
  from_version: number | null;
  to_version: number | null;
  actor: string;
  at: string;
}

export interface RegistryDatabase {
  models: ModelsTable;
  model_versions: ModelVersionsTable;
  model_aliases: ModelAliasesTable;
  alias_history: AliasHistoryTable;
  deployments: DeploymentsTable;
  deployment_history: DeploymentHistoryTable;
  blob_leases: BlobLeasesTable;
  retired_models: RetiredModelsTable;
  registry_locks: RegistryLocksTable;
  version_artifacts: VersionArtifactsTable;
  training_runs: TrainingRunsTable;
  api_tokens: ApiTokensTable;
  audit_log: AuditLogTable;
  tune_studies: TuneStudiesTable;
  tune_trials: TuneTrialsTable;
  tune_trial_steps: TuneTrialStepsTable;
}

// Migrations take Kysely<any> by Kysely's design: they run against the schema before it exists.
/* eslint-disable @typescript-eslint/no-explicit-any */
const initial: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('models')
      .addColumn('name', 'varchar(128)', (c) => c.primaryKey())
      .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('tags', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('next_version', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('model_versions')
      .addColumn('model_name', 'varchar(128)', (c) => c.notNull().references('models.name'))
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('sha256', 'varchar(64)', (c) => c.notNull())
      .addColumn('size_bytes', 'bigint', (c) => c.notNull())
      .addColumn('signature', 'text', (c) => c.notNull())
      .addColumn('model_info', 'text', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('metrics', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('tags', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('parent_version', 'integer')
      .addColumn('run_id', 'text')
      .addColumn('status', 'varchar(16)', (c) => c.notNull().defaultTo('ready'))
      .addPrimaryKeyConstraint('model_versions_pk', ['model_name', 'version'])
      .execute();
    await db.schema.createIndex('model_versions_sha256').on('model_versions').column('sha256').execute();
    await db.schema
      .createTable('model_aliases')
      .addColumn('model_name', 'varchar(128)', (c) => c.notNull())
      .addColumn('alias', 'varchar(64)', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('updated_by', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('model_aliases_pk', ['model_name', 'alias'])
      // An alias always points at a version that exists (and keeps that version from being deleted).
      .addForeignKeyConstraint('model_aliases_version_fk', ['model_name', 'version'], 'model_versions', [
        'model_name',
        'version',
      ])
      .execute();
    await db.schema
      .createTable('alias_history')
      .addColumn('model_name', 'varchar(128)', (c) => c.notNull().references('models.name'))
      .addColumn('alias', 'varchar(64)', (c) => c.notNull())
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('from_version', 'integer')
      .addColumn('to_version', 'integer')
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('at', 'varchar(32)', (c) => c.notNull())
      .addPrimaryKeyConstraint('alias_history_pk', ['model_name', 'alias', 'seq'])
      .execute();
  },
  async down(db: Kysely<any>): Promise<void> {
    for (const table of ['alias_history', 'model_aliases', 'model_versions', 'models']) {
      await db.schema.dropTable(table).execute();
    }
  },
};
/* eslint-enable @typescript-eslint/no-explicit-any */

/** Migrations by name; names sort in the order they apply. */
export const REGISTRY_MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001_initial': initial,
  '0002_deployments': deploymentsMigration,
  '0003_lifecycle': lifecycleMigration,
  '0004_artifacts': artifactsMigration,
  '0005_runs': runsMigration,
  '0006_security': securityMigration,
  '0007_tune': tuneMigration,
};

/** The provider Kysely's Migrator reads the migrations from. */
export const registryMigrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve({ ...REGISTRY_MIGRATIONS }),
};
