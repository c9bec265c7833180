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
import { BLOB_LOCK } from './lifecycle-schema.js';
import type { LifecycleStore, LiveBlobs, ModelImport, ModelSnapshot } from './lifecycle-store.js';
import { assertAliasName, assertModelName, assertTags, assertVersionNumber } from './names.js';
import type { RegistryDatabase } from './schema.js';
import type { AliasMove, ModelRecord, VersionRecord } from './store.js';
import { now, toVersionRecord } from './version-rows.js';

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

/** A model created under the name of a deleted one continues its version numbers. */
export async function continueRetiredNumbers(
  trx: Transaction<RegistryDatabase>,
  name: string,
): Promise<void> {
  const retired = await trx
    .selectFrom('retired_models')
    .select('next_version')
    .where('name', '=', name)
    .executeTakeFirst();
  if (retired === undefined) return;
  await trx
    .updateTable('models')
    .set((eb) => ({
      next_version: eb
        .case()
        .when('next_version', '<', Number(retired.next_version))
        .then(Number(retired.next_version))
        .else(eb.ref('next_version'))
        .end(),
    }))
    .where('name', '=', name)
    .execute();
  await trx.deleteFrom('retired_models').where('name', '=', name).execute();
}

function toAliasMove(r: {
  alias: string;
  from_version: number | null;
  to_version: number | null;
  actor: string;
  at: string;
}): AliasMove {
  return {
    alias: r.alias,
    from_version: r.from_version === null ? null : Number(r.from_version),
    to_version: r.to_version === null ? null : Number(r.to_version),
    actor: r.actor,
    at: r.at,
  };
}

function assertImport(input: ModelImport): void {
  assertModelName(input.name);
  assertTags(input.tags);
  const numbers = new Set<number>();
  for (const v of input.versions) {
    assertVersionNumber(v.version);
    if (numbers.has(v.version)) throw errors.invalidArgument(`version ${v.version} appears twice`);
    numbers.add(v.version);
    assertTags(v.tags);
  }
  for (const [alias, version] of Object.entries(input.aliases)) {
    assertAliasName(alias);
    const target = input.versions.find((v) => v.version === version);
    if (target === undefined)
      throw errors.invalidArgument(`alias '${alias}' points at version ${version}, which is not imported`);
    if (target.archived_at !== null)
      throw errors.invalidArgument(`alias '${alias}' points at archived version ${version}`);
  }
  if (!Number.isSafeInteger(input.next_version) || input.next_version < 1) {
    throw errors.invalidArgument(
      `next_version must be a positive integer, not ${String(input.next_version)}`,
    );
  }
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
    return this.write(async (trx) => {
      const model = await this.reads.readModel(trx, name);
      const row = await trx
        .selectFrom('models')
        .select('next_version')
        .where('name', '=', name)
        .executeTakeFirstOrThrow();
      const versionRows = await trx
        .selectFrom('model_versions')
        .selectAll()
        .where('model_name', '=', name)
        .orderBy('version')
        .execute();
      const history = await trx
        .selectFrom('alias_history')
        .select(['alias', 'from_version', 'to_version', 'actor', 'at'])
        .where('model_name', '=', name)
        .orderBy('alias')
        .orderBy('seq')
        .execute();
      const byVersion = new Map<number, string[]>();
      for (const [alias, version] of Object.entries(model.aliases))
        byVersion.set(version, [...(byVersion.get(version) ?? []), alias]);
      return {
        name,
        description: model.description,
        tags: model.tags,
        created_at: model.created_at,
        next_version: Number(row.next_version),
        versions: versionRows.map((v) => toVersionRecord(v, (byVersion.get(Number(v.version)) ?? []).sort())),
        aliases: model.aliases,
        alias_history: history.map(toAliasMove),
      };
    });
  }

  async importModel(input: ModelImport): Promise<ModelRecord> {
    assertImport(input);
    const { name } = input;
    return this.write(async (trx) => {
      const at = now();
      const maxVersion = Math.max(0, ...input.versions.map((v) => v.version));
      const created = await trx
        .insertInto('models')
        .values({
          name,
          description: input.description,
          tags: JSON.stringify(input.tags),
          next_version: Math.max(input.next_version, maxVersion + 1),
          created_at: input.created_at,
          updated_at: at,
        })
        .onConflict((oc) => oc.column('name').doNothing())
        .executeTakeFirst();
      if (Number(created.numInsertedOrUpdatedRows ?? 0) === 0) {
        throw errors.conflict(
          `model '${name}' already exists; import it under another name (--as NAME)`,
          FIX_IN_MESSAGE,
        );
      }
      await continueRetiredNumbers(trx, name);
      for (const v of input.versions) {
        await trx
          .insertInto('model_versions')
          .values({
            model_name: name,
            version: v.version,
            sha256: v.sha256,
            size_bytes: v.size_bytes,
            signature: JSON.stringify(v.signature),
            model_info: JSON.stringify(v.model_info),
            source: v.source,
            created_at: v.created_at,
            created_by: v.created_by,
            metrics: JSON.stringify(v.metrics),
            tags: JSON.stringify(v.tags),
            parent_version: v.parent_version,
            run_id: v.run_id,
            status: v.archived_at === null ? 'ready' : 'archived',
            archived_at: v.archived_at,
            archived_by: v.archived_at === null ? null : (v.archived_by ?? input.actor),
          })
          .execute();
      }
      const seqs = new Map<string, number>();
      const lastMove = new Map<string, AliasMove>();
      for (const move of input.alias_history) {
        const seq = (seqs.get(move.alias) ?? 0) + 1;
        seqs.set(move.alias, seq);
        lastMove.set(move.alias, move);
        await trx
          .insertInto('alias_history')
          .values({
            model_name: name,
            alias: move.alias,
            seq,
            from_version: move.from_version,
            to_version: move.to_version,
            actor: move.actor,
            at: move.at,
          })
          .execute();
      }
      for (const [alias, version] of Object.entries(input.aliases)) {
        const last = lastMove.get(alias);
        const fromHistory = last?.to_version === version;
        await trx
          .insertInto('model_aliases')
          .values({
            model_name: name,
            alias,
            version,
            updated_at: fromHistory ? last.at : at,
            updated_by: fromHistory ? last.actor : input.actor,
          })
          .execute();
      }
      return this.reads.readModel(trx, name);
    });
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
