/** Management actions of the Registry append themselves to the audit log, with the caller from the request context. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { runWithContext } from '../core/request-context.js';
import { Registry } from './registry.js';
import { tempDir } from '../core/test-support.test-helper.js';

const MODEL = resolve(import.meta.dirname, '..', '..', 'fixtures', 'models', 'digits_mlp.onnx');

test('push, alias moves, deployments, archive, delete and token changes are audited; failures too', async (t) => {
  const home = tempDir('audited');
  const registry = await Registry.open(home, { actor: 'tester' });
  t.after(async () => {
    await registry.close();
    rmSync(home, { recursive: true, force: true });
  });
  await registry.push(MODEL, { name: 'digits', aliases: ['champion'] });
  await registry.push(MODEL, { name: 'digits' });
  await runWithContext({ actor: 'a1b2c3d4e5f6', source: '10.1.2.3' }, () => registry.setAlias('digits', 'champion', 2));
  await registry.putDeployment('digits', { champion: 2, canary: { version: 1, percent: 10 } }, { action: 'canary' });
  await registry.deleteDeployment('digits');
  await registry.setAlias('digits', 'champion', 1);
  await registry.archiveVersion('digits', 2);
  await assert.rejects(registry.deleteVersion('digits', 1)); // the champion points at it
  await registry.createToken({ id: 'tok000000001', name: 'ci', tokenSha256: 'a'.repeat(64), scopes: ['infer'], models: null });
  await registry.revokeToken('tok000000001');

  const entries = (await registry.listAudit({ limit: 50 })).reverse();
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
  const history = await registry.aliasHistory('digits', 'champion');
  assert.equal(history.find((h) => h.to_version === 2)?.actor, 'a1b2c3d4e5f6');
});
