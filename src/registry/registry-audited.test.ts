/** Management actions of the Registry append themselves to the audit log, with the caller from the request context. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { runWithContext } from '../core/request-context.js';
import { Registry } from './registry.js';
import { newVersion } from './store.case.js';
import { tempDir } from '../core/test-support.test-helper.js';

const MODEL = resolve(import.meta.dirname, '..', '..', 'fixtures', 'models', 'digits_mlp.onnx');

test('push, alias moves, deployments, archive, delete and token changes are audited; failures too', async (t) => {
  const home = tempDir('audited');
  const registry = await Registry.open(home, { actor: 'tester' });
  t.after(async () => {
    await registry.close();
    rmSync(home, { recursive: true, force: true });
  });
  await registry.models.push(MODEL, { name: 'digits', aliases: ['champion'] });
  await registry.models.push(MODEL, { name: 'digits' });
  await runWithContext({ actor: 'a1b2c3d4e5f6', source: '10.1.2.3' }, () =>
    registry.models.setAlias('digits', 'champion', 2),
  );
  await registry.deployments.put(
    'digits',
    { champion: 2, canary: { version: 1, percent: 10 } },
    { action: 'canary' },
  );
  await registry.deployments.delete('digits');
  await registry.models.setAlias('digits', 'champion', 1);
  await registry.models.archiveVersion('digits', 2);
  await assert.rejects(registry.models.deleteVersion('digits', 1)); // the champion points at it
  await registry.tokens.create({
    id: 'tok000000001',
    name: 'ci',
    tokenSha256: 'a'.repeat(64),
    scopes: ['infer'],
    models: null,
  });
  await registry.tokens.revoke('tok000000001');

  const entries = (await registry.audit.list({ limit: 50 })).reverse();
  assert.deepEqual(
    entries.map((e) => `${e.action} ${e.target ?? ''} ${e.outcome}`),
    [
      'model.push digits ok',
      'model.push digits ok',
      'alias.move digits@champion ok',
      'deployment.canary digits ok',
      'deployment.delete digits ok',
      'alias.move digits@champion ok',
      'version.archive digits:2 ok',
      'version.delete digits:1 failed',
      'token.create tok000000001 ok',
      'token.revoke tok000000001 ok',
    ],
  );
  const moved = entries[2];
  assert.equal(moved?.actor, 'a1b2c3d4e5f6');
  assert.equal(moved?.source, '10.1.2.3');
  assert.deepEqual(moved?.before, { version: 1 });
  assert.deepEqual(moved?.after, { version: 2 });
  assert.equal(entries[0]?.actor, 'tester');
  assert.equal(entries[0]?.source, 'cli');
  assert.match(entries[7]?.detail ?? '', /champion/);
  // The alias history records the caller too.
  const history = await registry.models.aliasHistory('digits', 'champion');
  assert.equal(history.find((h) => h.to_version === 2)?.actor, 'a1b2c3d4e5f6');
});

test('a push commits its version, every alias move and its ok entry together, or none of them', async (t) => {
  const home = tempDir('audited');
  const registry = await Registry.open(home, { actor: 'tester' });
  t.after(async () => {
    await registry.close();
    rmSync(home, { recursive: true, force: true });
  });
  const pushed = await registry.models.push(MODEL, { name: 'digits', aliases: ['champion', 'staging'] });
  const [entry] = await registry.audit.list({ action: 'model.push' });
  assert.equal(entry?.outcome, 'ok');
  assert.deepEqual(entry?.after, { version: 1, sha256: pushed.sha256, aliases: ['champion', 'staging'] });
  assert.deepEqual(await registry.models.listAliases('digits'), { champion: 1, staging: 1 });

  // A failure after the version row and its alias moves were written, before the commit (where a
  // kill -9 would land): the transaction rolls back whole, so no version, no move, no ok entry.
  const template = await registry.models.getVersion('digits', 1);
  const failing = registry.stores.models.createVersion({
    ...newVersion('digits', { sha256: template.sha256, size_bytes: template.size_bytes }),
    aliases: ['champion', 'canary'],
    audit: () => {
      throw new Error('cut before the commit');
    },
  });
  await assert.rejects(failing, /cut before the commit/);
  // An entry the audit log refuses (an action it does not accept) fails the push the same way.
  await assert.rejects(
    registry.stores.models.createVersion({
      ...newVersion('digits'),
      aliases: ['canary'],
      audit: () => ({ actor: 'x', source: 'cli', action: 'Not An Action' }),
    }),
    (err: Error & { code?: string }) => err.code === 'TEND_INVALID_ARGUMENT',
  );
  assert.deepEqual(
    (await registry.models.listVersions('digits')).map((v) => v.version),
    [1],
  );
  assert.deepEqual(await registry.models.listAliases('digits'), { champion: 1, staging: 1 });
  assert.deepEqual((await registry.models.aliasHistory('digits', 'canary')).length, 0);
  assert.deepEqual(
    (await registry.audit.list({ action: 'model.push' })).map((e) => e.outcome),
    ['ok'],
  );

  // A push refused before its transaction is recorded as failed, and leaves no version.
  await assert.rejects(
    registry.models.push(MODEL, { name: 'digits', aliases: ['champion'], parentVersion: 9 }),
    (err: Error & { code?: string }) => err.code === 'TEND_VERSION_NOT_FOUND',
  );
  assert.deepEqual(
    (await registry.audit.list({ action: 'model.push' })).map((e) => e.outcome),
    ['failed', 'ok'],
  );
  assert.deepEqual(
    (await registry.models.listVersions('digits')).map((v) => v.version),
    [1],
  );
  // Numbers are never reused: the rolled-back transactions took none.
  assert.equal((await registry.models.push(MODEL, { name: 'digits', aliases: ['champion'] })).version, 2);
  assert.deepEqual(await registry.models.listAliases('digits'), { champion: 2, staging: 1 });
});
