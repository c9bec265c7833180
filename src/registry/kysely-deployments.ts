/**
 * The DeploymentStore on Kysely, in portable queries (SQLite and PostgreSQL). kysely-stores.ts
 * gives it the shared write transaction, so deployment writes queue behind the same
 * lock as every other write of the model (see kysely-store.ts).
 *
 * Refs are validated at write time (the version exists, is not archived and takes the champion's
 * inputs) but stored as written: an alias is resolved again each time traffic is routed.
 */
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { DeploymentRoutes, RouteRef } from '../core/deployment.js';
import {
  isDeploymentAction,
  parseDeploymentRoutes,
  routeRefs,
  signatureMismatch,
} from '../core/deployment.js';
import { errors, FIX_IN_MESSAGE } from '../core/errors.js';
import type { ModelSignature } from '../core/signature.js';
import type { DeploymentsTable } from './deployment-schema.js';
import type {
  DeploymentChange,
  DeploymentHistoryEntry,
  DeploymentHistoryOptions,
  DeploymentRecord,
  DeploymentReference,
  DeploymentStore,
} from './deployment-store.js';
import { parseVersionRef } from './names.js';
import type { RegistryDatabase } from './schema.js';

type Db = Kysely<RegistryDatabase> | Transaction<RegistryDatabase>;
type Write = <T>(fn: (trx: Transaction<RegistryDatabase>) => Promise<T>) => Promise<T>;

const MAX_REASON_CHARS = 2000;

const now = (): string => new Date().toISOString();

/** JSON with object keys sorted, so that equal routes compare equal whatever their key order. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

function toRecord(row: Selectable<DeploymentsTable>): DeploymentRecord {
  return {
    endpoint: row.endpoint,
    routes: JSON.parse(row.routes) as DeploymentRoutes,
    revision: Number(row.revision),
    updated_at: row.updated_at,
    updated_by: row.updated_by,
  };
}

/** Where a ref sits in the routes, in the same notation as validation messages. */
function placeOf(ref: RouteRef): string {
  if (ref.route === 'champion') return 'champion';
  if (ref.route === 'experiment') return `experiment.variants.${ref.variant ?? 0}.version`;
  return `${ref.route}.version`;
}

function assertChange(change: DeploymentChange): void {
  if (typeof change.actor !== 'string' || change.actor === '')
    throw errors.invalidArgument('actor must be a non-empty string');
  if (!isDeploymentAction(change.action)) {
    throw errors.invalidArgument(`unknown deployment action '${String(change.action)}'`);
  }
  if (
    change.reason !== undefined &&
    (typeof change.reason !== 'string' || change.reason.length > MAX_REASON_CHARS)
  ) {
    throw errors.invalidArgument(`reason must be a string of at most ${MAX_REASON_CHARS} characters`);
  }
  const expected = change.expected_revision;
  if (expected !== undefined && expected !== null && !(Number.isSafeInteger(expected) && expected >= 1)) {
    throw errors.invalidArgument(
      `expected_revision must be a positive integer or null, not ${String(expected)}`,
    );
  }
}

async function requireModel(db: Db, name: string): Promise<void> {
  const row = await db.selectFrom('models').select('name').where('name', '=', name).executeTakeFirst();
  if (row === undefined) throw errors.modelNotFound(name);
}

/** The version a ref points at now, or null when it points nowhere. */
async function versionOfRef(db: Db, name: string, ref: string): Promise<number | null> {
  const parsed = parseVersionRef(ref);
  if (parsed.kind === 'number') return parsed.version;
  if (parsed.kind === 'alias') {
    const row = await db
      .selectFrom('model_aliases')
      .select('version')
      .where('model_name', '=', name)
      .where('alias', '=', parsed.alias)
      .executeTakeFirst();
    return row === undefined ? null : Number(row.version);
  }
  // 'latest' skips archived versions, as Registry.resolveVersion does.
  const row = await db
    .selectFrom('model_versions')
    .select((eb) => eb.fn.max('version').as('latest'))
    .where('model_name', '=', name)
    .where('status', '!=', 'archived')
    .executeTakeFirst();
  return row?.latest == null ? null : Number(row.latest);
}

interface ResolvedRef {
  ref: RouteRef;
  version: number;
  signature: ModelSignature;
}

/** Resolve one ref for a write, with errors that name where in the routes it sits. */
async function resolveForWrite(db: Db, endpoint: string, ref: RouteRef): Promise<ResolvedRef> {
  const place = placeOf(ref);
  const version = await versionOfRef(db, endpoint, ref.ref);
  if (version === null) {
    const parsed = parseVersionRef(ref.ref);
    if (parsed.kind === 'alias') {
      throw errors.aliasNotFound(endpoint, parsed.alias, place);
    }
    throw errors.noServableVersion(`${place}: model '${endpoint}' has no versions yet`);
  }
  const row = await db
    .selectFrom('model_versions')
    .select(['signature', 'status'])
    .where('model_name', '=', endpoint)
    .where('version', '=', version)
    .executeTakeFirst();
  const via = ref.ref === String(version) ? '' : ` ('${ref.ref}')`;
  if (row === undefined) {
    throw errors.noServableVersion(`${place}: model '${endpoint}' has no version '${version}'${via}`);
  }
  if (row.status === 'archived') {
    throw errors.conflict(
      `${place}: version ${version}${via} of model '${endpoint}' is archived and cannot take traffic; name another version`,
      FIX_IN_MESSAGE,
    );
  }
  return { ref, version, signature: JSON.parse(row.signature) as ModelSignature };
}

/** Every ref resolves, no two routes land on one version, and every version takes the champion's inputs. */
async function validateRefs(db: Db, endpoint: string, routes: DeploymentRoutes): Promise<void> {
  const resolved: ResolvedRef[] = [];
  for (const ref of routeRefs(routes)) resolved.push(await resolveForWrite(db, endpoint, ref));
  const [champion, ...others] = resolved as [ResolvedRef, ...ResolvedRef[]];
  const seenVariants = new Map<number, string>();
  for (const other of others) {
    const place = placeOf(other.ref);
    if (other.version === champion.version && other.ref.route !== 'experiment') {
      throw errors.invalidArgument(
        `${place}: '${other.ref.ref}' is version ${other.version}, the champion's version; name another version`,
      );
    }
    if (other.ref.route === 'experiment') {
      const earlier = seenVariants.get(other.version);
      if (earlier !== undefined) {
        throw errors.invalidArgument(
          `${place}: '${other.ref.ref}' is version ${other.version}, like variant '${earlier}'; give each version one variant`,
        );
      }
      seenVariants.set(other.version, other.ref.ref);
    }
    const mismatch = signatureMismatch(champion.signature, other.signature);
    if (mismatch !== null) {
      throw errors.invalidArgument(
        `${place}: version ${other.version} cannot take the traffic of champion version ${champion.version}: ${mismatch}`,
      );
    }
  }
}

/**
 * The routes of `name`'s deployment that point at `version` now, usable inside a transaction (a
 * version delete or archive checks it in the same transaction that removes the version).
 */
export async function findDeploymentReferences(
  db: Db,
  name: string,
  version: number,
): Promise<DeploymentReference[]> {
  const row = await db.selectFrom('deployments').selectAll().where('endpoint', '=', name).executeTakeFirst();
  if (row === undefined) return [];
  const found: DeploymentReference[] = [];
  for (const ref of routeRefs(toRecord(row).routes)) {
    if ((await versionOfRef(db, name, ref.ref)) === version) found.push({ endpoint: name, ...ref });
  }
  return found;
}

/** DeploymentStore over the registry database; `write` runs a write transaction of the owning store. */
export class KyselyDeployments implements DeploymentStore {
  constructor(
    private readonly db: Kysely<RegistryDatabase>,
    private readonly write: Write,
  ) {}

  private async current(db: Db, endpoint: string): Promise<DeploymentRecord | null> {
    const row = await db
      .selectFrom('deployments')
      .selectAll()
      .where('endpoint', '=', endpoint)
      .executeTakeFirst();
    return row === undefined ? null : toRecord(row);
  }

  /** First statement of a write: takes the model's write lock (as KyselyModelStore's writes do). */
  private async lockModel(trx: Transaction<RegistryDatabase>, endpoint: string, at: string): Promise<void> {
    const result = await trx
      .updateTable('models')
      .set({ updated_at: at })
      .where('name', '=', endpoint)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) throw errors.modelNotFound(endpoint);
  }

  private async appendHistory(
    trx: Transaction<RegistryDatabase>,
    entry: Omit<DeploymentHistoryEntry, 'id'>,
  ): Promise<number> {
    const last = await trx
      .selectFrom('deployment_history')
      .select((eb) => eb.fn.max('id').as('id'))
      .where('endpoint', '=', entry.endpoint)
      .executeTakeFirst();
    const id = Number(last?.id ?? 0) + 1;
    await trx
      .insertInto('deployment_history')
      .values({
        endpoint: entry.endpoint,
        id,
        at: entry.at,
        actor: entry.actor,
        action: entry.action,
        before: entry.before === null ? null : JSON.stringify(entry.before),
        after: entry.after === null ? null : JSON.stringify(entry.after),
        reason: entry.reason,
      })
      .execute();
    return id;
  }

  private static checkRevision(
    endpoint: string,
    current: DeploymentRecord | null,
    change: DeploymentChange,
  ): void {
    const expected = change.expected_revision;
    if (expected === undefined) return;
    const actual = current?.revision ?? null;
    if (actual !== expected) {
      throw errors.conflict(
        `the deployment of '${endpoint}' changed meanwhile (revision ${actual ?? 'none'}, expected ${expected ?? 'none'}); read it again and retry`,
        FIX_IN_MESSAGE,
      );
    }
  }

  async getDeployment(endpoint: string): Promise<DeploymentRecord | null> {
    const record = await this.current(this.db, endpoint);
    if (record === null) await requireModel(this.db, endpoint);
    return record;
  }

  async listDeployments(): Promise<DeploymentRecord[]> {
    const rows = await this.db.selectFrom('deployments').selectAll().orderBy('endpoint').execute();
    return rows.map(toRecord);
  }

  async putDeployment(endpoint: string, input: unknown, change: DeploymentChange): Promise<DeploymentRecord> {
    const routes = parseDeploymentRoutes(input);
    assertChange(change);
    return this.write(async (trx) => {
      const at = now();
      await this.lockModel(trx, endpoint, at);
      const before = await this.current(trx, endpoint);
      KyselyDeployments.checkRevision(endpoint, before, change);
      await validateRefs(trx, endpoint, routes);
      // No change, no entry.
      if (before !== null && canonicalJson(before.routes) === canonicalJson(routes)) return before;
      const revision = await this.appendHistory(trx, {
        endpoint,
        at,
        actor: change.actor,
        action: change.action,
        before: before?.routes ?? null,
        after: routes,
        reason: change.reason ?? null,
      });
      const row = { routes: JSON.stringify(routes), revision, updated_at: at, updated_by: change.actor };
      if (before === null)
        await trx
          .insertInto('deployments')
          .values({ endpoint, ...row })
          .execute();
      else await trx.updateTable('deployments').set(row).where('endpoint', '=', endpoint).execute();
      return { endpoint, routes, revision, updated_at: at, updated_by: change.actor };
    });
  }

  async deleteDeployment(endpoint: string, change: DeploymentChange): Promise<DeploymentRecord> {
    assertChange(change);
    return this.write(async (trx) => {
      const at = now();
      await this.lockModel(trx, endpoint, at);
      const before = await this.current(trx, endpoint);
      KyselyDeployments.checkRevision(endpoint, before, change);
      if (before === null) throw errors.notFound(`endpoint '${endpoint}' has no deployment`);
      await this.appendHistory(trx, {
        endpoint,
        at,
        actor: change.actor,
        action: change.action,
        before: before.routes,
        after: null,
        reason: change.reason ?? null,
      });
      await trx.deleteFrom('deployments').where('endpoint', '=', endpoint).execute();
      return before;
    });
  }

  async deploymentHistory(
    endpoint: string,
    options: DeploymentHistoryOptions = {},
  ): Promise<DeploymentHistoryEntry[]> {
    const { limit } = options;
    if (limit !== undefined && !(Number.isSafeInteger(limit) && limit >= 1)) {
      throw errors.invalidArgument(`limit must be a positive integer, not ${String(limit)}`);
    }
    await requireModel(this.db, endpoint);
    let query = this.db
      .selectFrom('deployment_history')
      .selectAll()
      .where('endpoint', '=', endpoint)
      .orderBy('id', 'desc');
    if (limit !== undefined) query = query.limit(limit);
    const rows = await query.execute();
    return rows.map((r) => ({
      id: Number(r.id),
      endpoint: r.endpoint,
      at: r.at,
      actor: r.actor,
      action: r.action as DeploymentHistoryEntry['action'],
      before: r.before === null ? null : (JSON.parse(r.before) as DeploymentRoutes),
      after: r.after === null ? null : (JSON.parse(r.after) as DeploymentRoutes),
      reason: r.reason,
    }));
  }

  async deploymentReferences(name: string, version: number): Promise<DeploymentReference[]> {
    await requireModel(this.db, name);
    return findDeploymentReferences(this.db, name, version);
  }
}
