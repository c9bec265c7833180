import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync, utimesSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Registry } from './registry.js';
import { tempDir } from '../core/test-support.test-helper.js';

const DIGITS = resolve(import.meta.dirname, '../../fixtures/models/digits_mlp.onnx');
const HOUR_AGO = new Date(Date.now() - 3600_000);
const CSV = new TextEncoder().encode('a,b\n1,2\n3,4\n');

async function openTemp(t: { after(fn: () => unknown): void }): Promise<Registry> {
  const home = join(tempDir('artifacts'), 'home');
  const registry = await Registry.open(home, { actor: 'tester' });
  t.after(async () => {
    await registry.close();
    rmSync(join(home, '..'), { recursive: true, force: true });
  });
  return registry;
}

test('an artifact attached to a version reads back byte for byte; a new one of the same kind replaces it', async (t) => {
  const registry = await openTemp(t);
  await registry.models.push(DIGITS, { name: 'm' });
  const first = await registry.artifacts.attach('m', 1, 'reference', CSV, {
    mediaType: 'text/csv',
    meta: { rows: 2, columns: ['a', 'b'] },
  });
  assert.equal(first.kind, 'reference');
  assert.equal(first.created_by, 'tester');
  assert.deepEqual(first.meta, { rows: 2, columns: ['a', 'b'] });
  const read = await registry.artifacts.read('m', 1, 'reference');
  assert.deepEqual(new Uint8Array(read?.bytes ?? []), CSV);
  const other = new TextEncoder().encode('a,b\n5,6\n');
  await registry.artifacts.attach('m', 1, 'reference', other, { mediaType: 'text/csv' });
  assert.deepEqual(new Uint8Array((await registry.artifacts.read('m', 1, 'reference'))?.bytes ?? []), other);
  assert.equal((await registry.artifacts.list('m')).length, 1);
  assert.equal(await registry.artifacts.read('m', 1, 'report'), null);
});

test('bad artifacts are refused: unknown model or version, bad kind', async (t) => {
  const registry = await openTemp(t);
  await registry.models.push(DIGITS, { name: 'm' });
  await assert.rejects(registry.artifacts.attach('nope', 1, 'reference', CSV, { mediaType: 'text/csv' }), {
    code: 'TEND_MODEL_NOT_FOUND',
  });
  await assert.rejects(registry.artifacts.attach('m', 7, 'reference', CSV, { mediaType: 'text/csv' }), {
    code: 'TEND_VERSION_NOT_FOUND',
  });
  await assert.rejects(registry.artifacts.attach('m', 1, 'Bad Kind', CSV, { mediaType: 'text/csv' }), {
    code: 'TEND_INVALID_ARGUMENT',
  });
  await assert.rejects(registry.artifacts.read('m', 7, 'reference'), { code: 'TEND_VERSION_NOT_FOUND' });
});

test('gc keeps an attached file while its version exists and removes it after the version is deleted', async (t) => {
  const registry = await openTemp(t);
  await registry.models.push(DIGITS, { name: 'm' });
  await registry.models.push(DIGITS, { name: 'm' });
  const record = await registry.artifacts.attach('m', 2, 'reference', CSV, { mediaType: 'text/csv' });
  const path = registry.files.blobs.pathFor(record.sha256);
  for (const f of await registry.files.blobs.list()) utimesSync(f.path, HOUR_AGO, HOUR_AGO);
  await registry.files.gc();
  assert.ok(existsSync(path), 'kept: version 2 has it');
  await registry.models.deleteVersion('m', 2);
  assert.deepEqual(await registry.artifacts.list('m'), []);
  await registry.files.gc();
  assert.ok(!existsSync(path), 'collected once nothing refers to it');
});
