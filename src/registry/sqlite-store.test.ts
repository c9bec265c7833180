import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { newVersion, rejectsWith, runStoreSuite } from './store.case.js';
import { openSqliteStores } from './sqlite-store.js';
import { runDeploymentStoreSuite } from './deployment-store.case.js';
import { runLifecycleStoreSuite } from './lifecycle-store.case.js';
import { REGISTRY_MIGRATIONS } from './schema.js';
import { tempDir } from '../core/test-support.test-helper.js';

runStoreSuite('sqlite', async () => {
  const dir = tempDir('sqlite-store');
  const store = await openSqliteStores(join(dir, 'registry.db'));
  return { stores: store, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
});

runDeploymentStoreSuite('sqlite', async () => {
  const dir = tempDir('sqlite-store');
  const store = await openSqliteStores(join(dir, 'registry.db'));
  return { stores: store, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
});

runLifecycleStoreSuite('sqlite', async () => {
  const dir = tempDir('sqlite-store');
  const store = await openSqliteStores(join(dir, 'registry.db'));
  return { stores: store, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
});

test('sqlite: WAL, foreign keys and the migration table', async (t) => {
  const dir = tempDir('sqlite-store');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'registry.db');
  const store = await openSqliteStores(path);
  await store.models.createVersion(newVersion('m'));
  await store.close();
  // Opening again runs no migration twice and keeps the data.
  const again = await openSqliteStores(path);
  assert.equal((await again.models.getModel('m')).latest_version, 1);
  await again.close();

  const raw = new Database(path, { readonly: true });
  try {
    assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
    const migrations = raw.prepare('select name from kysely_migration order by name').all() as {
      name: string;
    }[];
    assert.deepEqual(
      migrations.map((m) => m.name),
      Object.keys(REGISTRY_MIGRATIONS).sort(),
    );
    assert.deepEqual(migrations.map((m) => m.name).slice(0, 2), ['0001_initial', '0002_deployments']);
  } finally {
    raw.close();
  }
  const fk = await openSqliteStores(path);
  try {
    // Foreign keys are enforced: an alias cannot point at a version that does not exist.
    await assert.rejects(
      fk.db
        .insertInto('model_aliases')
        .values({ model_name: 'm', alias: 'x', version: 9, updated_at: '', updated_by: '' })
        .execute(),
      /FOREIGN KEY/,
    );
  } finally {
    await fk.close();
  }
});

test('sqlite: a deleted version number is never given out again', async (t) => {
  const dir = tempDir('sqlite-store');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = await openSqliteStores(join(dir, 'registry.db'));
  t.after(() => store.close());
  await store.models.createVersion(newVersion('m'));
  await store.models.createVersion(newVersion('m'));
  await store.db
    .deleteFrom('model_versions')
    .where('model_name', '=', 'm')
    .where('version', '=', 2)
    .execute();
  assert.equal((await store.models.createVersion(newVersion('m'))).version, 3);
  await rejectsWith(store.models.getVersion('m', 2), 'TEND_VERSION_NOT_FOUND');
});

test('sqlite: an unusable database path is TEND_INVALID_ARGUMENT', async (t) => {
  const dir = tempDir('sqlite-store');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await rejectsWith(openSqliteStores(join(dir, 'missing-folder', 'registry.db')), 'TEND_INVALID_ARGUMENT');
  const notDb = join(dir, 'not.db');
  writeFileSync(notDb, 'this is not a database, just text that is long enough to have a header'.repeat(10));
  await rejectsWith(openSqliteStores(notDb), 'TEND_INVALID_ARGUMENT');
});

test('sqlite: two stores on one file in one process push concurrently', async (t) => {
  const dir = tempDir('sqlite-store');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'registry.db');
  const [a, b] = await Promise.all([openSqliteStores(path), openSqliteStores(path)]);
  t.after(async () => {
    await a.close();
    await b.close();
  });
  const made = await Promise.all(
    Array.from({ length: 6 }, (_, i) =>
      (i % 2 === 0 ? a : b).models.createVersion(newVersion('m', { aliases: ['champion'] })),
    ),
  );
  assert.deepEqual(
    made.map((v) => v.version).sort((x, y) => x - y),
    [1, 2, 3, 4, 5, 6],
  );
  assert.equal((await b.models.aliasHistory('m', 'champion')).length, 6);
});

test('sqlite: processes pushing to one database get distinct versions', async (t) => {
  const dir = tempDir('sqlite-store');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'registry.db');
  const store = await openSqliteStores(path);
  t.after(() => store.close());
  const script = join(dir, 'push.mjs');
  writeFileSync(
    script,
    `const { openSqliteStores } = await import(process.argv[2]);
const { newVersion } = await import(process.argv[3]);
const store = await openSqliteStores(process.argv[4]);
for (let i = 0; i < 10; i++) await store.models.createVersion(newVersion('m', { aliases: ['champion'], actor: 'child' }));
await store.close();
`,
  );
  const here = (file: string) => pathToFileURL(join(import.meta.dirname, file)).href;
  const child = () =>
    promisify(execFile)(process.execPath, [
      '--import',
      'tsx',
      script,
      here('sqlite-store.ts'),
      here('store.case.ts'),
      path,
    ]);
  const mine = (async () => {
    for (let i = 0; i < 10; i++)
      await store.models.createVersion(newVersion('m', { aliases: ['champion'], actor: 'parent' }));
  })();
  await Promise.all([child(), child(), mine]);
  const versions = (await store.models.listVersions('m')).map((v) => v.version);
  assert.deepEqual(
    versions,
    Array.from({ length: 30 }, (_, i) => i + 1),
  );
  const history = await store.models.aliasHistory('m', 'champion');
  assert.equal(history.length, 30);
  for (let i = 1; i < history.length; i++) assert.equal(history[i]?.from_version, history[i - 1]?.to_version);
});
