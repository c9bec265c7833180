import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { Registry } from './registry.js';
import { REGISTRY_MIGRATIONS } from './schema.js';
import type { RegistryDatabase } from './schema.js';
import { openSqliteStores } from './sqlite-store.js';
import type { RegistryStores } from './registry-stores.js';
import type { ModelStore } from './store.js';
import { newVersion, rejectsWith } from './store.case.js';
import { tempDir } from '../core/test-support.test-helper.js';

const DIGITS = resolve(import.meta.dirname, '../../fixtures/models/digits_mlp.onnx');
const CNN = resolve(import.meta.dirname, '../../fixtures/models/small_cnn.onnx');
const HOUR_AGO = new Date(Date.now() - 3600_000);

async function openTemp(
  t: { after(fn: () => unknown): void },
  options: Parameters<typeof Registry.open>[1] = {},
): Promise<{ home: string; registry: Registry }> {
  const home = join(tempDir('lifecycle'), 'home');
  const registry = await Registry.open(home, { actor: 'tester', ...options });
  t.after(async () => {
    await registry.close();
    rmSync(join(home, '..'), { recursive: true, force: true });
  });
  return { home, registry };
}

/** Make every stored file look old, as if pushed an hour ago. */
async function ageFiles(registry: Registry): Promise<void> {
  for (const f of await registry.files.blobs.list()) utimesSync(f.path, HOUR_AGO, HOUR_AGO);
}

test('archive: kept and resolvable by number, skipped by latest; refused while an alias points at it', async (t) => {
  const { registry } = await openTemp(t);
  await registry.models.push(DIGITS, { name: 'm', aliases: ['champion'] });
  await registry.models.push(CNN, { name: 'm' });
  const archived = await registry.models.archiveVersion('m', 2, { actor: 'alice' });
  assert.deepEqual([archived.archived, archived.archived_by], [true, 'alice']);
  assert.equal((await registry.models.resolveVersion('m', '2')).archived, true);
  assert.equal((await registry.models.resolveVersion('m', 'latest')).version, 1);
  assert.equal(await registry.files.verify(archived), true); // the file stays
  assert.equal((await registry.models.get('m')).latest_version, 1);

  await assert.rejects(registry.models.archiveVersion('m', 1), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'TEND_CONFLICT');
    assert.match(err.message, /alias 'champion'/);
    return true;
  });
  assert.deepEqual(await registry.models.referencesTo('m', 1), ["alias 'champion'"]);
  assert.equal((await registry.models.unarchiveVersion('m', 2)).archived, false);
  assert.equal((await registry.models.resolveVersion('m', 'latest')).version, 2);
  await rejectsWith(registry.models.archiveVersion('m', 5), 'TEND_VERSION_NOT_FOUND');
  await rejectsWith(registry.models.archiveVersion('nope', 1), 'TEND_MODEL_NOT_FOUND');
});

test('delete: a version and a model; numbers continue after both', async (t) => {
  const { registry } = await openTemp(t);
  await registry.models.push(DIGITS, { name: 'm', aliases: ['champion'] });
  await registry.models.push(CNN, { name: 'm' });
  await rejectsWith(registry.models.deleteVersion('m', 1), 'TEND_CONFLICT');
  const gone = await registry.models.deleteVersion('m', 2);
  assert.ok(existsSync(registry.files.path(gone)), 'the file stays until gc');
  assert.equal((await registry.models.push(CNN, { name: 'm' })).version, 3);
  await rejectsWith(registry.models.delete('m'), 'TEND_CONFLICT');
  await registry.models.removeAlias('m', 'champion');
  assert.equal((await registry.models.delete('m')).name, 'm');
  assert.deepEqual(await registry.models.list(), []);
  assert.equal((await registry.models.push(DIGITS, { name: 'm' })).version, 4);
});

test('gc removes unreferenced files and stray temp files, and keeps everything else', async (t) => {
  const { home, registry } = await openTemp(t);
  await registry.models.push(DIGITS, { name: 'a' });
  await registry.models.push(CNN, { name: 'b' });
  await registry.models.push(CNN, { name: 'b' }); // the same content twice
  await registry.models.push(DIGITS, { name: 'c' });
  await registry.models.archiveVersion('c', 1);
  const cnn = await registry.models.getVersion('b', 1);
  const digits = await registry.models.getVersion('a', 1);
  await registry.models.deleteVersion('b', 1); // version 2 still uses the CNN file
  await registry.models.delete('a'); // c@1 (archived) still uses the digits file
  const fanout = dirname(registry.files.path(cnn));
  const strayTemp = join(fanout, `.${cnn.sha256}.onnx.4242.abcdef.tmp`);
  writeFileSync(strayTemp, 'half a model');
  const unknown = join(home, 'models', 'sha256', 'notes.txt');
  writeFileSync(unknown, 'a file a person left here');
  await ageFiles(registry);

  let result = await registry.files.gc();
  assert.deepEqual(
    result.removed.map((f) => [f.kind, f.sha256]),
    [['temp', cnn.sha256]],
  );
  assert.equal(result.kept, 2);
  assert.equal(result.freed_bytes, 'half a model'.length);
  assert.ok(!existsSync(strayTemp));

  await registry.models.deleteVersion('b', 2);
  await registry.models.delete('c');
  const dry = await registry.files.gc({ dryRun: true });
  assert.equal(dry.dry_run, true);
  assert.deepEqual(dry.removed.map((f) => f.sha256).sort(), [cnn.sha256, digits.sha256].sort());
  assert.ok(
    existsSync(registry.files.path(cnn)) && existsSync(registry.files.path(digits)),
    'a dry run removes nothing',
  );

  result = await registry.files.gc();
  assert.deepEqual(result.removed.map((f) => f.sha256).sort(), [cnn.sha256, digits.sha256].sort());
  assert.equal(result.freed_bytes, cnn.size_bytes + digits.size_bytes);
  assert.equal(result.kept, 0);
  assert.ok(!existsSync(registry.files.path(cnn)) && !existsSync(registry.files.path(digits)));
  assert.ok(existsSync(unknown), 'files the store did not write are left alone');
  assert.deepEqual((await registry.files.gc()).removed, []);
  await rejectsWith(registry.files.gc({ minAgeSeconds: -1 }), 'TEND_INVALID_ARGUMENT');
});

test('gc keeps files written in the last minAgeSeconds and files under a lease', async (t) => {
  const { registry } = await openTemp(t);
  await registry.models.push(DIGITS, { name: 'm' });
  await registry.models.push(CNN, { name: 'm' });
  const [digits, cnn] = await registry.models.listVersions('m');
  assert.ok(digits !== undefined && cnn !== undefined);
  await registry.models.delete('m');
  // Fresh files: kept by the default minimum age.
  assert.deepEqual((await registry.files.gc()).removed, []);
  // Old but leased (a push or import in progress): kept.
  await ageFiles(registry);
  const lease = await registry.stores.lifecycle.leaseBlob(cnn.sha256, 60_000);
  const result = await registry.files.gc();
  assert.deepEqual(
    result.removed.map((f) => f.sha256),
    [digits.sha256],
  );
  assert.equal(result.kept, 1);
  await registry.stores.lifecycle.releaseBlobLease(lease);
  assert.deepEqual(
    (await registry.files.gc()).removed.map((f) => f.sha256),
    [cnn.sha256],
  );
});

/** Stores whose createVersion first runs a collection: a gc landing between a push's file and its row. */
function gcBeforeEachRow(stores: RegistryStores, registry: () => Registry, seen: string[][]): RegistryStores {
  const models = new Proxy(stores.models, {
    get(target, prop, receiver) {
      if (prop === 'createVersion') {
        return async (...args: Parameters<ModelStore['createVersion']>) => {
          seen.push((await registry().files.gc({ minAgeSeconds: 0 })).removed.map((f) => f.sha256));
          return target.createVersion(...args);
        };
      }
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { ...stores, models };
}

test('a gc between a push writing its file and registering it does not lose the file', async (t) => {
  const dir = tempDir('lifecycle-race');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const seen: string[][] = [];
  const holder: { registry?: Registry } = {};
  const stores = gcBeforeEachRow(
    await openSqliteStores(join(dir, 'registry.db')),
    () => holder.registry as Registry,
    seen,
  );
  const registry = await Registry.open(join(dir), { actor: 'tester', stores });
  holder.registry = registry;
  t.after(() => registry.close());

  // A new file, and then a file whose content is already stored but no longer referenced (old).
  const first = await registry.models.push(DIGITS, { name: 'm' });
  await registry.models.delete('m');
  await ageFiles(registry);
  const second = await registry.models.push(DIGITS, { name: 'm' });
  assert.deepEqual(seen, [[], []], 'the collections ran and removed nothing');
  assert.equal(second.sha256, first.sha256);
  assert.equal(await registry.files.verify(await registry.models.getVersion('m', second.version)), true);

  // Control: the same old unreferenced file with no lease is collected.
  await registry.stores.lifecycle.deleteModel('m', 'x');
  await ageFiles(registry);
  assert.deepEqual(
    (await registry.files.gc({ minAgeSeconds: 0 })).removed.map((f) => f.sha256),
    [first.sha256],
  );
});

test('a database made before the lifecycle migration gains it on open; its versions are not archived', async (t) => {
  const dir = tempDir('lifecycle-upgrade');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'registry.db');
  const old = new Kysely<RegistryDatabase>({ dialect: new SqliteDialect({ database: new Database(path) }) });
  const before = {
    getMigrations: () =>
      Promise.resolve({
        '0001_initial': REGISTRY_MIGRATIONS['0001_initial']!,
        '0002_deployments': REGISTRY_MIGRATIONS['0002_deployments']!,
      }),
  };
  assert.equal((await new Migrator({ db: old, provider: before }).migrateToLatest()).error, undefined);
  await old.destroy();
  const first = await openSqliteStores(path);
  await first.db.deleteFrom('registry_locks').execute(); // also copes with a lock row gone missing
  await first.close();

  const store = await openSqliteStores(path);
  t.after(() => store.close());
  const v = await store.models.createVersion(newVersion('m'));
  assert.deepEqual([v.archived, v.archived_at], [false, null]);
  const lease = await store.lifecycle.leaseBlob('a'.repeat(64), 1000);
  assert.deepEqual(await store.lifecycle.withLiveBlobs(async (live) => [...live.leased]), ['a'.repeat(64)]);
  await store.lifecycle.releaseBlobLease(lease);
});
