/**
 * Files attached to a model version besides the model itself — the monitoring reference data set
 * first (later: evaluation reports, explainer backgrounds). The bytes live in the blob store like
 * model files; this table says which version a blob belongs to and what it is. schema.ts lists the
 * migration.
 */
import type { ColumnType, Kysely, Migration } from 'kysely';

export interface VersionArtifactsTable {
  model_name: string;
  version: number;
  /** What the file is for, e.g. 'reference'; one file per kind and version (a new one replaces it). */
  kind: string;
  sha256: string;
  size_bytes: ColumnType<number | string, number, number>;
  /** e.g. 'text/csv'. */
  media_type: string;
  /** JSON object: facts about the file (rows, columns, where it came from). */
  meta: string;
  created_at: string;
  created_by: string;
}

// Migrations take Kysely<any> by Kysely's design: they run against the schema before it exists.
/* eslint-disable @typescript-eslint/no-explicit-any */
export const artifactsMigration: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('version_artifacts')
      .addColumn('model_name', 'varchar(255)', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('kind', 'varchar(64)', (c) => c.notNull())
      .addColumn('sha256', 'varchar(64)', (c) => c.notNull())
      .addColumn('size_bytes', 'bigint', (c) => c.notNull())
      .addColumn('media_type', 'varchar(255)', (c) => c.notNull())
      .addColumn('meta', 'text', (c) => c.notNull())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('version_artifacts_pk', ['model_name', 'version', 'kind'])
      .addForeignKeyConstraint('version_artifacts_version_fk', ['model_name', 'version'], 'model_versions', [
        'model_name',
        'version',
      ])
      .execute();
  },
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.dropTable('version_artifacts').execute();
  },
};
/* eslint-enable @typescript-eslint/no-explicit-any */
