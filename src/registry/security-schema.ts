/**
 * Security tables: API tokens (only their SHA-256 is stored; the token itself is shown once) and
 * the audit log of management actions. schema.ts lists the migration.
 *
 * The audit log is append-only: the store offers no update or delete, and on SQLite triggers make
 * the database itself refuse UPDATE and DELETE on audit_log, whoever connects. A PostgreSQL store
 * needs the equivalent (a BEFORE UPDATE OR DELETE trigger whose function raises an exception, or
 * REVOKE UPDATE, DELETE from the application role); this migration only creates the table there.
 */
import type { Generated, Kysely, Migration } from 'kysely';
import { SqliteAdapter, sql } from 'kysely';

export interface ApiTokensTable {
  id: string;
  name: string;
  /** Hex SHA-256 of the token: the token itself is never stored. */
  token_sha256: string;
  /** JSON array of scope names. */
  scopes: string;
  /** JSON array of model-name globs, or null for every model. */
  models: string | null;
  created_at: string;
  created_by: string;
  revoked_at: string | null;
  revoked_by: string | null;
  last_used_at: string | null;
}

export interface AuditLogTable {
  /** Assigned by the database, never reused: orders entries without relying on clocks. */
  seq: Generated<number>;
  at: string;
  /** A token id, 'local' for the CLI, 'tend' for automatic actions. */
  actor: string;
  /** The client's address, or 'cli'. */
  source: string;
  /** e.g. 'model.push', 'alias.move', 'token.revoke'. */
  action: string;
  /** e.g. 'digits:3'; null when the action has no single target (gc). */
  target: string | null;
  /** JSON text, or null. */
  before: string | null;
  /** JSON text, or null. */
  after: string | null;
  /** 'ok', 'denied' or 'failed'. */
  outcome: string;
  detail: string | null;
}

export const AUDIT_APPEND_ONLY_MESSAGE = 'audit_log is append-only';

// Migrations take Kysely<any> by Kysely's design: they run against the schema before it exists.
/* eslint-disable @typescript-eslint/no-explicit-any */
function isSqlite(db: Kysely<any>): boolean {
  return db.getExecutor().adapter instanceof SqliteAdapter;
}

export const securityMigration: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('api_tokens')
      .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
      .addColumn('name', 'varchar(64)', (c) => c.notNull())
      .addColumn('token_sha256', 'varchar(64)', (c) => c.notNull())
      .addColumn('scopes', 'text', (c) => c.notNull())
      .addColumn('models', 'text')
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('revoked_at', 'varchar(32)')
      .addColumn('revoked_by', 'text')
      .addColumn('last_used_at', 'varchar(32)')
      .execute();
    await db.schema
      .createIndex('api_tokens_sha256')
      .on('api_tokens')
      .column('token_sha256')
      .unique()
      .execute();
    // A partial unique index (SQLite and PostgreSQL both have them): a revoked token's name can be reused.
    await db.schema
      .createIndex('api_tokens_live_name')
      .on('api_tokens')
      .column('name')
      .unique()
      .where(sql.ref('revoked_at'), 'is', null)
      .execute();

    const sqlite = isSqlite(db);
    await db.schema
      .createTable('audit_log')
      // SQLite's AUTOINCREMENT never hands out a number twice; elsewhere an identity column does the same.
      .addColumn('seq', 'integer', (c) =>
        sqlite ? c.primaryKey().autoIncrement() : c.primaryKey().generatedByDefaultAsIdentity(),
      )
      .addColumn('at', 'varchar(32)', (c) => c.notNull())
      .addColumn('actor', 'varchar(128)', (c) => c.notNull())
      .addColumn('source', 'varchar(256)', (c) => c.notNull())
      .addColumn('action', 'varchar(64)', (c) => c.notNull())
      .addColumn('target', 'text')
      .addColumn('before', 'text')
      .addColumn('after', 'text')
      .addColumn('outcome', 'varchar(16)', (c) => c.notNull())
      .addColumn('detail', 'text')
      .execute();
    await db.schema.createIndex('audit_log_at').on('audit_log').column('at').execute();
    if (sqlite) {
      for (const event of ['UPDATE', 'DELETE']) {
        const trigger = sql.id(`audit_log_no_${event.toLowerCase()}`);
        await sql`CREATE TRIGGER ${trigger} BEFORE ${sql.raw(event)} ON audit_log BEGIN SELECT RAISE(ABORT, ${sql.lit(AUDIT_APPEND_ONLY_MESSAGE)}); END`.execute(
          db,
        );
      }
    }
  },
  async down(db: Kysely<any>): Promise<void> {
    // Dropping the table drops its triggers.
    await db.schema.dropTable('audit_log').execute();
    await db.schema.dropTable('api_tokens').execute();
  },
};
/* eslint-enable @typescript-eslint/no-explicit-any */
