/**
 * Tables of the model lifecycle (archive, delete, garbage collection): who archived a version and
 * when, the version numbers of deleted models, and the leases that keep a push's file from being
 * collected before its version row exists. schema.ts lists the migration.
 */
import type { Kysely, Migration } from 'kysely';

export interface BlobLeasesTable {
  /** Random id: two pushes of the same content hold two leases. */
  id: string;
  sha256: string;
  created_at: string;
  /** A lease left by a crashed push stops protecting its file after this time. */
  expires_at: string;
}

export interface RetiredModelsTable {
  name: string;
  /** The model's next version number when it was deleted: a model of the same name continues from it. */
  next_version: number;
  deleted_at: string;
  deleted_by: string;
}

export interface RegistryLocksTable {
  /** 'blobs': the row lease writers and the garbage collector both update, so they never overlap. */
  name: string;
  at: string;
}

/** The row that serializes blob leases with garbage collection (see kysely-lifecycle.ts). */
export const BLOB_LOCK = 'blobs';

// Migrations take Kysely<any> by Kysely's design: they run against the schema before it exists.
/* eslint-disable @typescript-eslint/no-explicit-any */
export const lifecycleMigration: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    // One column per statement: SQLite's ALTER TABLE adds one at a time.
    await db.schema.alterTable('model_versions').addColumn('archived_at', 'varchar(32)').execute();
    await db.schema.alterTable('model_versions').addColumn('archived_by', 'text').execute();
    await db.schema
      .createTable('blob_leases')
      .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
      .addColumn('sha256', 'varchar(64)', (c) => c.notNull())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('expires_at', 'varchar(32)', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('retired_models')
      .addColumn('name', 'varchar(128)', (c) => c.primaryKey())
      .addColumn('next_version', 'integer', (c) => c.notNull())
      .addColumn('deleted_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('deleted_by', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('registry_locks')
      .addColumn('name', 'varchar(32)', (c) => c.primaryKey())
      .addColumn('at', 'varchar(32)', (c) => c.notNull())
      .execute();
    await db.insertInto('registry_locks').values({ name: BLOB_LOCK, at: new Date().toISOString() }).execute();
  },
  async down(db: Kysely<any>): Promise<void> {
    for (const table of ['registry_locks', 'retired_models', 'blob_leases'])
      await db.schema.dropTable(table).execute();
    await db.schema.alterTable('model_versions').dropColumn('archived_by').execute();
    await db.schema.alterTable('model_versions').dropColumn('archived_at').execute();
  },
};
/* eslint-enable @typescript-eslint/no-explicit-any */
