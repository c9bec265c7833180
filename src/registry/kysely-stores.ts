/**
 * The one way to make the registry's stores: every store interface of RegistryStores on one Kysely
 * database, sharing its connection and its write queue. The SQLite opener (sqlite-store.ts) calls
 * this; a PostgreSQL opener would call it with its own Kysely instance, the queries being portable.
 */
import type { Kysely } from 'kysely';
import { KyselyArtifacts } from './kysely-artifacts.js';
import { KyselyAudit } from './kysely-audit.js';
import { KyselyDeployments } from './kysely-deployments.js';
import { KyselyLifecycle } from './kysely-lifecycle.js';
import { KyselyRuns } from './kysely-runs.js';
import { KyselyModelStore, type WriteTransaction } from './kysely-store.js';
import { KyselyStudies } from './kysely-studies.js';
import { KyselyTokens } from './kysely-tokens.js';
import type { RegistryStores } from './registry-stores.js';
import type { RegistryDatabase } from './schema.js';

export interface KyselyStoreOptions {
  /** Runs each write transaction; SQLite uses it to queue writers sharing one file in one process. */
  serializeWrites?: <T>(fn: () => Promise<T>) => Promise<T>;
}

/** The stores on a Kysely database, with the database itself (for tests and migrations). */
export interface KyselyRegistryStores extends RegistryStores {
  readonly db: Kysely<RegistryDatabase>;
}

/** Every registry store on `db` (already migrated: see migrateRegistry); close() destroys `db`. */
export function kyselyRegistryStores(
  db: Kysely<RegistryDatabase>,
  options: KyselyStoreOptions = {},
): KyselyRegistryStores {
  const serializeWrites = options.serializeWrites ?? ((fn) => fn());
  const write: WriteTransaction = (fn) => serializeWrites(() => db.transaction().execute(fn));
  const models = new KyselyModelStore(db, write);
  let closed = false;
  return {
    db,
    models,
    deployments: new KyselyDeployments(db, write),
    lifecycle: new KyselyLifecycle(db, write, models.reads),
    artifacts: new KyselyArtifacts(db, write),
    runs: new KyselyRuns(db, write),
    tokens: new KyselyTokens(db, write),
    audit: new KyselyAudit(db, write),
    studies: new KyselyStudies(db, write),
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}
