/**
 * The LifecycleStore on Kysely, in portable queries (SQLite and PostgreSQL). kysely-stores.ts gives
 * it the shared write transaction and the ModelStore's row readers.
 *
 * Blob leases and garbage collection serialize on one row of `registry_locks`: a lease is written
 * and a collection runs only while holding that row, so a collection either sees a lease or runs
 * wholly before it exists (and then the push writes its file after the collection is done).
 */
import { randomBytes } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { type TendError, errors, FIX_IN_MESSAGE } from '../core/errors.js';
import type { DeploymentReference } from './deployment-store.js';
import { findDeploymentReferences } from './kysely-deployments.js';
import { assertModelImport, insertModelImport, readModelSnapshot } from './kysely-model-snapshot.js';
import { BLOB_LOCK } from './lifecycle-schema.js';
import type { LifecycleStore, LiveBlobs, ModelImport, ModelSnapshot } from './lifecycle-store.js';
import { assertVersionNumber } from './names.js';
import type { RegistryDatabase } from './schema.js';
import type { ModelRecord, VersionRecord } from './store.js';
import { now } from './version-rows.js';

type Db = Kysely<RegistryDatabase> | Transaction<RegistryDatabase>;
type Write = <T>(fn: (trx: Transaction<RegistryDatabase>) => Promise<T>) => Promise<T>;

/** Readers of the owning store, usable inside a transaction. */
export interface LifecycleReads {
  readVersion(db: Db, name: string, version: number): Promise<VersionRecord>;
  readModel(db: Db, name: string): Promise<ModelRecord>;
}

function describeRoute(ref: DeploymentReference, version: number): string {
  const variant = ref.variant !== undefined ? ` variant ${ref.variant}` : '';
  const via = ref.ref !== String(version) ? ` (via '${ref.ref}')` : '';
  return `deployment '${ref.endpoint}' ${ref.route}${variant}${via}`;
}

/** What points at a version now, inside any transaction. */
async function referencesOf(db: Db, name: string, version: number): Promise<string[]> {
  const aliases = await db
    .selectFrom('model_aliases')
    .select('alias')
    .where('model_name', '=', name)
    .where('version', '=', version)
    .orderBy('alias')
    .execute();
  const routes = await findDeploymentReferences(db, name, version);
  return [...aliases.map((a) => `alias '${a.alias}'`), ...routes.map((r) => describeRoute(r, version))];
}

function referenced(what: string, refs: string[]): TendError {
  return errors.conflict(
    `cannot ${what}: ${refs.join(', ')} ${refs.length === 1 ? 'points' : 'point'} at it; move or remove ${refs.length === 1 ? 'that' : 'those'} first`,
    FIX_IN_MESSAGE,
  );
}

/** LifecycleStore over the registry database; `write` runs a write transaction of the owning store. */
export class KyselyLifecycle implements LifecycleStore {
  constructor(
    private readonly db: Kysely<RegistryDatabase>,
    private readonly write: Write,
    private readonly reads: LifecycleReads,
  ) {}

  /** First statement of a write: takes the model's write lock (as KyselyModelStore's writes do). */
  private async lockModel(trx: Transaction<RegistryDatabase>, name: string, at: string): Promise<void> {
    const result = await trx
      .updateTable('models')
      .set({ updated_at: at })
      .where('name', '=', name)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) throw errors.modelNotFound(name);
  }

  private async setArchived(
    name: string,
    version: number,
    archived: { at: string; by: string } | null,
  ): Promise<VersionRecord> {
    assertVersionNumber(version);
    return this.write(async (trx) => {
      const at = now();
      await this.lockModel(trx, name, at);
      const current = await this.reads.readVersion(trx, name, version);
      if (current.archived === (archived !== null)) return current;
      if (archived !== null) {
        const refs = await referencesOf(trx, name, version);
        if (refs.length > 0) throw referenced(`archive version ${version} of model '${name}'`, refs);
      }
      await trx
        .updateTable('model_versions')
        .set({
          status: archived === null ? 'ready' : 'archived',
          archived_at: archived?.at ?? null,
          archived_by: archived?.by ?? null,
        })
        .where('model_name', '=', name)
        .where('version', '=', version)
        .execute();
      return this.reads.readVersion(trx, name, version);
    });
  }

  archiveVersion(name: string, version: number, actor: string): Promise<VersionRecord> {
    if (typeof actor !== 'string' || actor === '')
      throw errors.invalidArgument('actor must be a non-empty string');
    return this.setArchived(name, version, { at: now(), by: actor });
  }

  unarchiveVersion(name: string, version: number): Promise<VersionRecord> {
    return this.setArchived(name, version, null);
  }

  async deleteVersion(name: string, version: number): Promise<VersionRecord> {
    assertVersionNumber(version);
    return this.write(async (trx) => {
      await this.lockModel(trx, name, now());
      const current = await this.reads.readVersion(trx, name, version);
      const refs = await referencesOf(trx, name, version);
      if (refs.length > 0) throw referenced(`delete version ${version} of model '${name}'`, refs);
      await trx
        .deleteFrom('version_artifacts')
        .where('model_name', '=', name)
        .where('version', '=', version)
        .execute();
      await trx
        .deleteFrom('model_versions')
        .where('model_name', '=', name)
        .where('version', '=', version)
        .execute();
      return current;
    });
  }

  async deleteModel(name: string, actor: string): Promise<ModelRecord> {
    if (typeof actor !== 'string' || actor === '')
      throw errors.invalidArgument('actor must be a non-empty string');
    return this.write(async (trx) => {
      const at = now();
      await this.lockModel(trx, name, at);
      const model = await this.reads.readModel(trx, name);
      const refs = Object.entries(model.aliases).map(
        ([alias, version]) => `alias '${alias}' (version ${version})`,
      );
      const deployment = await trx
        .selectFrom('deployments')
        .select('endpoint')
        .where('endpoint', '=', name)
        .executeTakeFirst();
      if (deployment !== undefined) refs.push(`deployment '${name}'`);
      if (refs.length > 0) {
        throw errors.conflict(
          `cannot delete model '${name}': ${refs.join(', ')} still ${refs.length === 1 ? 'points' : 'point'} at its versions; remove ${refs.length === 1 ? 'it' : 'them'} first`,
          FIX_IN_MESSAGE,
        );
      }
      const row = await trx
        .selectFrom('models')
        .select('next_version')
        .where('name', '=', name)
        .executeTakeFirstOrThrow();
      // Children before the parent row: the foreign keys point at models.name.
      await trx.deleteFrom('alias_history').where('model_name', '=', name).execute();
      await trx.deleteFrom('deployment_history').where('endpoint', '=', name).execute();
      await trx.deleteFrom('version_artifacts').where('model_name', '=', name).execute();
      await trx.deleteFrom('model_versions').where('model_name', '=', name).execute();
      await trx.deleteFrom('models').where('name', '=', name).execute();
      const retired = { next_version: Number(row.next_version), deleted_at: at, deleted_by: actor };
      await trx
        .insertInto('retired_models')
        .values({ name, ...retired })
        .onConflict((oc) => oc.column('name').doUpdateSet(retired))
        .execute();
      return model;
    });
  }

  async versionReferences(name: string, version: number): Promise<string[]> {
    assertVersionNumber(version);
    await this.reads.readVersion(this.db, name, version);
    return referencesOf(this.db, name, version);
  }

  async snapshotModel(name: string): Promise<ModelSnapshot> {
    // Through the write queue so that no write lands between the reads (a consistent snapshot).
    return this.write((trx) => readModelSnapshot(trx, name, (db, n) => this.reads.readModel(db, n)));
  }

  async importModel(input: ModelImport): Promise<ModelRecord> {
    assertModelImport(input);
    return this.write((trx) => insertModelImport(trx, input, (db, n) => this.reads.readModel(db, n)));
  }

  /** First statement of a lease or a collection: the blob lock row (see the module comment). */
  private async lockBlobs(trx: Transaction<RegistryDatabase>, at: string): Promise<void> {
    const result = await trx
      .updateTable('registry_locks')
      .set({ at })
      .where('name', '=', BLOB_LOCK)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0)
      await trx.insertInto('registry_locks').values({ name: BLOB_LOCK, at }).execute();
  }

  async leaseBlob(sha256: string, ttlMs: number): Promise<string> {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw errors.invalidArgument(`invalid sha256 '${sha256}'`);
    if (!(Number.isFinite(ttlMs) && ttlMs > 0))
      throw errors.invalidArgument(`a lease needs a positive ttl, not ${ttlMs}`);
    const id = randomBytes(12).toString('hex');
    await this.write(async (trx) => {
      const at = new Date();
      await this.lockBlobs(trx, at.toISOString());
      await trx
        .insertInto('blob_leases')
        .values({
          id,
          sha256,
          created_at: at.toISOString(),
          expires_at: new Date(at.getTime() + ttlMs).toISOString(),
        })
        .execute();
    });
    return id;
  }

  async releaseBlobLease(id: string): Promise<void> {
    await this.write((trx) => trx.deleteFrom('blob_leases').where('id', '=', id).execute());
  }

  withLiveBlobs<T>(fn: (live: LiveBlobs) => Promise<T>): Promise<T> {
    return this.write(async (trx) => {
      const at = now();
      await this.lockBlobs(trx, at);
      await trx.deleteFrom('blob_leases').where('expires_at', '<=', at).execute();
      // Leases before versions: a push registers its row before it drops its lease, so reading in
      // this order never misses both (this matters on PostgreSQL, where each statement sees the
      // latest commits; SQLite's write transaction sees one snapshot anyway).
      const leases = await trx.selectFrom('blob_leases').select('sha256').execute();
      const versions = await trx.selectFrom('model_versions').select('sha256').distinct().execute();
      const artifacts = await trx.selectFrom('version_artifacts').select('sha256').distinct().execute();
      const referenced = new Set([...versions, ...artifacts].map((v) => v.sha256));
      return fn({ leased: new Set(leases.map((l) => l.sha256)), referenced });
    });
  }
}
