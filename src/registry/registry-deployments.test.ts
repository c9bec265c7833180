import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import Database from 'better-sqlite3';
import { TendError } from '../core/errors.js';
import { findDeploymentReferences } from './kysely-deployments.js';
import { Registry } from './registry.js';
import { REGISTRY_MIGRATIONS } from './schema.js';
import type { RegistryDatabase } from './schema.js';
import { openSqliteStores } from './sqlite-store.js';
import { newVersion, rejectsWith } from './store.case.js';
import { tempDir } from '../core/test-support.test-helper.js';

const DIGITS = resolve(import.meta.dirname, '../../fixtures/models/digits_mlp.onnx');
const CNN = resolve(import.meta.dirname, '../../fixtures/models/small_cnn.onnx');

async function openRegistry(t: { after(fn: () => unknown): void }): Promise<Registry> {
  const registry = await Registry.open(join(tempDir('deployments', t), 'home'), { actor: 'tester' });
  t.after(() => registry.close());
  return registry;
}

test('Registry deployments: put, status, history and delete through the facade', async (t) => {
  const registry = await openRegistry(t);
  await registry.models.push(DIGITS, { name: 'digits', aliases: ['champion'] });
  await registry.models.push(DIGITS, { name: 'digits' });

  assert.equal(await registry.deployments.get('digits'), null);
  const canary = await registry.deployments.put(
    'digits',
    { champion: 'champion', canary: { version: 2, percent: 10 } },
    { action: 'canary', reason: 'new training data' },
  );
  assert.deepEqual(canary.routes, { champion: 'champion', canary: { version: '2', percent: 10 } });
  assert.equal(canary.updated_by, 'tester'); // the registry's actor when the call names nobody
  const promoted = await registry.deployments.put(
    'digits',
    { champion: 2 },
    { action: 'promote', actor: 'alice', expectedRevision: canary.revision },
  );
  await rejectsWith(
    registry.deployments.put(
      'digits',
      { champion: 1 },
      { action: 'rollback', expectedRevision: canary.revision },
    ),
    'TEND_CONFLICT',
  );
  assert.deepEqual(
    (await registry.deployments.list()).map((d) => d.routes),
    [{ champion: '2' }],
  );
  assert.deepEqual(await registry.deployments.references('digits', 2), [
    { endpoint: 'digits', route: 'champion', ref: '2' },
  ]);

  const removed = await registry.deployments.delete('digits', { reason: 'back to the version policy' });
  assert.deepEqual(removed, promoted);
  const history = await registry.deployments.history('digits');
  assert.deepEqual(
    history.map((h) => [h.action, h.actor, h.reason]),
    [
      ['delete', 'tester', 'back to the version policy'],
      ['promote', 'alice', null],
      ['canary', 'tester', 'new training data'],
    ],
  );
  assert.equal((await registry.deployments.history('digits', { limit: 1 })).length, 1);
});

test('Registry deployments: a version with another signature cannot take the champion’s traffic', async (t) => {
  const registry = await openRegistry(t);
  await registry.models.push(DIGITS, { name: 'm' });
  await registry.models.push(CNN, { name: 'm' });
  await assert.rejects(
    registry.deployments.put('m', { champion: 1, shadow: { version: 2 } }, { action: 'shadow' }),
    (err: unknown) => {
      assert.ok(err instanceof TendError);
      assert.equal(err.code, 'TEND_INVALID_ARGUMENT');
      assert.match(
        err.message,
        /^shadow\.version: version 2 cannot take the traffic of champion version 1: /,
      );
      return true;
    },
  );
  assert.equal(await registry.deployments.get('m'), null);
  await rejectsWith(
    registry.deployments.put('ghost', { champion: 1 }, { action: 'put' }),
    'TEND_MODEL_NOT_FOUND',
  );
});

test('an archived version cannot be routed to, directly or through an alias', async (t) => {
  const store = await openSqliteStores(join(tempDir('deployments', t), 'registry.db'));
  t.after(() => store.close());
  for (let i = 0; i < 3; i++) await store.models.createVersion(newVersion('m'));
  await store.models.setAlias('m', 'old', 2, 'ci');
  await store.db.updateTable('model_versions').set({ status: 'archived' }).where('version', '=', 2).execute();
  const change = { actor: 'a', action: 'put' } as const;
  await assert.rejects(
    store.deployments.putDeployment('m', { champion: 1, canary: { version: 2, percent: 5 } }, change),
    (err: unknown) => {
      assert.ok(err instanceof TendError);
      assert.equal(err.code, 'TEND_CONFLICT');
      assert.match(err.message, /canary\.version: version 2 of model 'm' is archived/);
      return true;
    },
  );
  await rejectsWith(store.deployments.putDeployment('m', { champion: 'old' }, change), 'TEND_CONFLICT');
  await store.deployments.putDeployment('m', { champion: 1, canary: { version: 3, percent: 5 } }, change);
});

test('findDeploymentReferences works inside a write transaction', async (t) => {
  const store = await openSqliteStores(join(tempDir('deployments', t), 'registry.db'));
  t.after(() => store.close());
  await store.models.createVersion(newVersion('m'));
  await store.models.createVersion(newVersion('m'));
  await store.deployments.putDeployment(
    'm',
    { champion: 1, shadow: { version: 2 } },
    { actor: 'a', action: 'shadow' },
  );
  const found = await store.db.transaction().execute((trx) => findDeploymentReferences(trx, 'm', 2));
  assert.deepEqual(found, [{ endpoint: 'm', route: 'shadow', ref: '2' }]);
  assert.deepEqual(await findDeploymentReferences(store.db, 'other', 2), []);
});

test('a database made before deployments existed gains the tables on open; rows need a model', async (t) => {
  const path = join(tempDir('deployments', t), 'registry.db');
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  const old = new Kysely<RegistryDatabase>({ dialect: new SqliteDialect({ database: sqlite }) });
  const initialOnly = {
    getMigrations: () => Promise.resolve({ '0001_initial': REGISTRY_MIGRATIONS['0001_initial']! }),
  };
  const { error } = await new Migrator({ db: old, provider: initialOnly }).migrateToLatest();
  assert.equal(error, undefined);
  await old.destroy();

  const store = await openSqliteStores(path);
  t.after(() => store.close());
  await store.models.createVersion(newVersion('m'));
  const put = await store.deployments.putDeployment('m', { champion: 1 }, { actor: 'a', action: 'config' });
  assert.equal(put.revision, 1);
  await assert.rejects(
    store.db
      .insertInto('deployments')
      .values({ endpoint: 'ghost', routes: '{}', revision: 1, updated_at: '', updated_by: '' })
      .execute(),
    /FOREIGN KEY/,
  );
});
