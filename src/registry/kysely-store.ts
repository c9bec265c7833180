/**
 * The ModelStore (models, versions, aliases) on a Kysely database, in portable queries only: SQLite
 * and PostgreSQL differ in how the Kysely instance is made (see sqlite-store.ts), not here.
 *
 * Every write transaction starts by writing the model row. On SQLite that takes the database write
 * lock before anything is read (a deferred transaction that reads first can fail with SQLITE_BUSY
 * when another process commits); on PostgreSQL it takes the row lock. Either way writers of one
 * model queue behind each other, which is what makes version numbers and alias history safe.
 */
import type { Kysely, Transaction } from 'kysely';
import { Migrator } from 'kysely';
import { errors, FIX_IN_MESSAGE } from '../core/errors.js';
import type { LifecycleReads } from './kysely-lifecycle.js';
import { continueRetiredNumbers } from './kysely-model-snapshot.js';
import { aliasVersion, appendHistory, moveAlias } from './alias-moves.js';
import { auditRow, insertAuditRow } from './kysely-audit.js';
import { assertAliasName, assertModelName, assertTags, assertVersionNumber } from './names.js';
import type { RegistryDatabase } from './schema.js';
import { registryMigrationProvider } from './schema.js';
import type {
  AliasChange,
  AliasMove,
  ModelRecord,
  ModelStore,
  ModelUpdate,
  NewVersion,
  VersionRecord,
} from './store.js';
import { now, parseJson, toVersionRecord } from './version-rows.js';

type Db = Kysely<RegistryDatabase> | Transaction<RegistryDatabase>;

/** Runs a write transaction queued behind the database's other writers (kysely-stores.ts). */
export type WriteTransaction = <T>(fn: (trx: Transaction<RegistryDatabase>) => Promise<T>) => Promise<T>;

/** Bring the registry schema up to date. @throws TendError TEND_INTERNAL when a migration fails. */
export async function migrateRegistry(db: Kysely<RegistryDatabase>): Promise<void> {
  const migrator = new Migrator({ db, provider: registryMigrationProvider });
  const { error } = await migrator.migrateToLatest();
  if (error !== undefined) {
    if (error instanceof Error && 'code' in error) throw error; // driver errors keep their code (callers retry SQLITE_BUSY)
    throw errors.internal(`registry database migration failed: ${String(error)}`, { cause: error });
  }
}

/** ModelStore over any Kysely dialect whose migrations and queries are portable. */
export class KyselyModelStore implements ModelStore {
  constructor(
    private readonly db: Kysely<RegistryDatabase>,
    private readonly write: WriteTransaction,
  ) {}

  /** The row readers the lifecycle store uses inside its own transactions. */
  readonly reads: LifecycleReads = {
    readVersion: (db, name, version) => this.readVersion(db, name, version),
    readModel: (db, name) => this.readModel(db, name),
  };

  /** The first statement of a write transaction: see the module comment. */
  private async touchModel(trx: Transaction<RegistryDatabase>, name: string, at: string): Promise<void> {
    const result = await trx
      .updateTable('models')
      .set({ updated_at: at })
      .where('name', '=', name)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) throw errors.modelNotFound(name);
  }

  private async requireModel(db: Db, name: string): Promise<void> {
    const row = await db.selectFrom('models').select('name').where('name', '=', name).executeTakeFirst();
    if (row === undefined) throw errors.modelNotFound(name);
  }

  private async aliasesByVersion(db: Db, name: string): Promise<Map<number, string[]>> {
    const rows = await db
      .selectFrom('model_aliases')
      .select(['alias', 'version'])
      .where('model_name', '=', name)
      .orderBy('alias')
      .execute();
    const byVersion = new Map<number, string[]>();
    for (const row of rows) {
      const list = byVersion.get(Number(row.version)) ?? [];
      list.push(row.alias);
      byVersion.set(Number(row.version), list);
    }
    return byVersion;
  }

  private async readModels(db: Db, name?: string): Promise<ModelRecord[]> {
    let models = db.selectFrom('models').selectAll().orderBy('name');
    let stats = db
      .selectFrom('model_versions')
      .select((eb) => [
        'model_name',
        // 'latest' is the highest version not archived; the count includes archived ones.
        eb.fn.max(eb.case().when('status', '!=', 'archived').then(eb.ref('version')).end()).as('latest'),
        eb.fn.countAll().as('count'),
      ])
      .groupBy('model_name');
    let aliases = db.selectFrom('model_aliases').select(['model_name', 'alias', 'version']).orderBy('alias');
    if (name !== undefined) {
      models = models.where('name', '=', name);
      stats = stats.where('model_name', '=', name);
      aliases = aliases.where('model_name', '=', name);
    }
    const [modelRows, statRows, aliasRows] = [
      await models.execute(),
      await stats.execute(),
      await aliases.execute(),
    ];
    const statsByModel = new Map(statRows.map((s) => [s.model_name, s]));
    const aliasesByModel = new Map<string, Record<string, number>>();
    for (const a of aliasRows) {
      const map = aliasesByModel.get(a.model_name) ?? {};
      map[a.alias] = Number(a.version);
      aliasesByModel.set(a.model_name, map);
    }
    return modelRows.map((m) => {
      const s = statsByModel.get(m.name);
      return {
        name: m.name,
        description: m.description,
        tags: parseJson<Record<string, string>>(m.tags),
        created_at: m.created_at,
        updated_at: m.updated_at,
        latest_version: s?.latest == null ? null : Number(s.latest),
        version_count: s === undefined ? 0 : Number(s.count),
        aliases: aliasesByModel.get(m.name) ?? {},
      };
    });
  }

  private async readModel(db: Db, name: string): Promise<ModelRecord> {
    const [model] = await this.readModels(db, name);
    if (model === undefined) throw errors.modelNotFound(name);
    return model;
  }

  private async readVersion(db: Db, name: string, version: number): Promise<VersionRecord> {
    const row = await db
      .selectFrom('model_versions')
      .selectAll()
      .where('model_name', '=', name)
      .where('version', '=', version)
      .executeTakeFirst();
    if (row === undefined) {
      await this.requireModel(db, name);
      throw errors.versionNotFound(name, version);
    }
    return toVersionRecord(row, (await this.aliasesByVersion(db, name)).get(version) ?? []);
  }

  listModels(): Promise<ModelRecord[]> {
    return this.readModels(this.db);
  }

  getModel(name: string): Promise<ModelRecord> {
    return this.readModel(this.db, name);
  }

  async updateModel(name: string, update: ModelUpdate): Promise<ModelRecord> {
    if (update.tags !== undefined) assertTags(update.tags);
    return this.write(async (trx) => {
      await this.touchModel(trx, name, now());
      const changes: { description?: string; tags?: string } = {};
      if (update.description !== undefined) changes.description = update.description;
      if (update.tags !== undefined) changes.tags = JSON.stringify(update.tags);
      if (Object.keys(changes).length > 0)
        await trx.updateTable('models').set(changes).where('name', '=', name).execute();
      return this.readModel(trx, name);
    });
  }

  async createVersion(input: NewVersion): Promise<VersionRecord> {
    const { name } = input;
    assertModelName(name);
    assertTags(input.tags);
    const aliases = [...new Set(input.aliases ?? [])];
    for (const alias of aliases) assertAliasName(alias);
    if (input.parent_version !== null) assertVersionNumber(input.parent_version);
    return this.write(async (trx) => {
      const at = now();
      const created = await trx
        .insertInto('models')
        .values({
          name,
          description: input.description ?? '',
          tags: '{}',
          next_version: 1,
          created_at: at,
          updated_at: at,
        })
        .onConflict((oc) => oc.column('name').doNothing())
        .executeTakeFirst();
      if (Number(created.numInsertedOrUpdatedRows ?? 0) > 0) await continueRetiredNumbers(trx, name);
      const counter = await trx
        .updateTable('models')
        .set((eb) => ({
          next_version: eb('next_version', '+', 1),
          updated_at: at,
          ...(input.description !== undefined ? { description: input.description } : {}),
        }))
        .where('name', '=', name)
        .returning('next_version')
        .executeTakeFirstOrThrow();
      const version = Number(counter.next_version) - 1;
      if (input.parent_version !== null) await this.readVersion(trx, name, input.parent_version);
      await trx
        .insertInto('model_versions')
        .values({
          model_name: name,
          version,
          sha256: input.sha256,
          size_bytes: input.size_bytes,
          signature: JSON.stringify(input.signature),
          model_info: JSON.stringify(input.model_info),
          source: input.source,
          created_at: at,
          created_by: input.created_by,
          metrics: JSON.stringify(input.metrics),
          tags: JSON.stringify(input.tags),
          parent_version: input.parent_version,
          run_id: input.run_id,
          status: 'ready',
        })
        .execute();
      for (const alias of aliases) await moveAlias(trx, name, alias, version, input.actor, at);
      const record = await this.readVersion(trx, name, version);
      // Last, so that 'ok' is written only with everything it vouches for (one commit).
      if (input.audit !== undefined) await insertAuditRow(trx, auditRow(input.audit(record)));
      return record;
    });
  }

  async listVersions(name: string): Promise<VersionRecord[]> {
    await this.requireModel(this.db, name);
    const rows = await this.db
      .selectFrom('model_versions')
      .selectAll()
      .where('model_name', '=', name)
      .orderBy('version')
      .execute();
    const aliases = await this.aliasesByVersion(this.db, name);
    return rows.map((row) => toVersionRecord(row, aliases.get(Number(row.version)) ?? []));
  }

  getVersion(name: string, version: number): Promise<VersionRecord> {
    return this.readVersion(this.db, name, version);
  }

  async latestVersion(name: string): Promise<VersionRecord> {
    await this.requireModel(this.db, name);
    const row = await this.db
      .selectFrom('model_versions')
      .select('version')
      .where('model_name', '=', name)
      .where('status', '!=', 'archived')
      .orderBy('version', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (row === undefined) {
      const any = await this.db
        .selectFrom('model_versions')
        .select('version')
        .where('model_name', '=', name)
        .executeTakeFirst();
      if (any === undefined) throw errors.versionNotFound(name, 'latest');
      throw errors.noServableVersion(
        `model '${name}' has no version for 'latest': every version is archived`,
      );
    }
    return this.readVersion(this.db, name, Number(row.version));
  }

  async setAlias(name: string, alias: string, version: number, actor: string): Promise<AliasChange> {
    assertAliasName(alias);
    assertVersionNumber(version);
    return this.write(async (trx) => {
      const at = now();
      await this.touchModel(trx, name, at);
      if ((await this.readVersion(trx, name, version)).archived) {
        throw errors.conflict(
          `version ${version} of model '${name}' is archived and cannot take an alias; unarchive it first`,
          FIX_IN_MESSAGE,
        );
      }
      return moveAlias(trx, name, alias, version, actor, at);
    });
  }

  async removeAlias(name: string, alias: string, actor: string): Promise<void> {
    await this.write(async (trx) => {
      const at = now();
      await this.touchModel(trx, name, at);
      const from = await aliasVersion(trx, name, alias);
      if (from === null) throw errors.aliasNotFound(name, alias);
      await trx
        .deleteFrom('model_aliases')
        .where('model_name', '=', name)
        .where('alias', '=', alias)
        .execute();
      await appendHistory(trx, name, alias, { from, to: null, actor, at });
    });
  }

  async getAlias(name: string, alias: string): Promise<number> {
    const version = await aliasVersion(this.db, name, alias);
    if (version !== null) return version;
    await this.requireModel(this.db, name);
    throw errors.aliasNotFound(name, alias);
  }

  async listAliases(name: string): Promise<Record<string, number>> {
    return (await this.readModel(this.db, name)).aliases;
  }

  async aliasHistory(name: string, alias: string): Promise<AliasMove[]> {
    await this.requireModel(this.db, name);
    const rows = await this.db
      .selectFrom('alias_history')
      .select(['alias', 'from_version', 'to_version', 'actor', 'at'])
      .where('model_name', '=', name)
      .where('alias', '=', alias)
      .orderBy('seq')
      .execute();
    return rows.map((r) => ({
      alias: r.alias,
      from_version: r.from_version === null ? null : Number(r.from_version),
      to_version: r.to_version === null ? null : Number(r.to_version),
      actor: r.actor,
      at: r.at,
    }));
  }
}
