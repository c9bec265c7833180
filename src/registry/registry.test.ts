import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { inspectModelFile } from '../onnx/index.js';
import { Registry } from './registry.js';
import { rejectsWith } from './store.case.js';
import { tempDir } from '../core/test-support.test-helper.js';

const DIGITS = resolve(import.meta.dirname, '../../fixtures/models/digits_mlp.onnx');
const CNN = resolve(import.meta.dirname, '../../fixtures/models/small_cnn.onnx');

async function openTemp(
  t: { after(fn: () => unknown): void },
  options: Parameters<typeof Registry.open>[1] = {},
): Promise<{ home: string; registry: Registry }> {
  const home = join(tempDir('registry'), 'home');
  const registry = await Registry.open(home, { actor: 'tester', ...options });
  t.after(async () => {
    await registry.close();
    rmSync(join(home, '..'), { recursive: true, force: true });
  });
  return { home, registry };
}

function blobCount(home: string): number {
  return readdirSync(join(home, 'models'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
    .length;
}

test('push stores the file by content and its signature', async (t) => {
  const { home, registry } = await openTemp(t);
  assert.ok(existsSync(join(home, 'registry.db')));
  const pushed = await registry.models.push(DIGITS, { name: 'digits' });
  const sha256sum = execFileSync('sha256sum', [DIGITS], { encoding: 'utf8' }).split(' ')[0];
  assert.deepEqual(pushed, {
    name: 'digits',
    version: 1,
    sha256: sha256sum,
    size_bytes: statSync(DIGITS).size,
  });

  const v = await registry.models.getVersion('digits', 1);
  const info = inspectModelFile(DIGITS);
  assert.deepEqual(v.signature, info.signature);
  assert.deepEqual(v.model_info.opset_import, info.opset_import);
  assert.equal(v.model_info.producer_name, info.producer_name);
  assert.equal('signature' in v.model_info || 'external_data' in v.model_info, false);
  assert.equal(v.source, DIGITS);
  assert.equal(v.created_by, 'tester');
  const file = registry.files.path(v);
  assert.equal(file, join(home, 'models', 'sha256', v.sha256.slice(0, 2), `${v.sha256}.onnx`));
  assert.ok(readFileSync(file).equals(readFileSync(DIGITS)));
  assert.equal(await registry.files.verify(v), true);

  // The same file again: a new version, the same blob.
  const again = await registry.models.push(DIGITS, { name: 'digits' });
  assert.equal(again.version, 2);
  assert.equal(again.sha256, pushed.sha256);
  assert.equal(blobCount(home), 1);
});

test('push records aliases, tags, metrics, lineage and the model description', async (t) => {
  const { registry } = await openTemp(t);
  await registry.models.push(DIGITS, { name: 'digits', aliases: ['champion'] });
  const second = await registry.models.push(DIGITS, {
    name: 'digits',
    aliases: ['champion', 'candidate'],
    tags: { stage: 'prod', team: 'ml' },
    description: 'digits classifier',
    createdBy: 'ci-bot',
    source: 'train:run-7',
    parentVersion: 1,
    runId: 'run-7',
    metrics: { accuracy: 0.97 },
  });
  const v = await registry.models.getVersion('digits', second.version);
  assert.deepEqual(v.tags, { stage: 'prod', team: 'ml' });
  assert.deepEqual(v.metrics, { accuracy: 0.97 });
  assert.equal(v.parent_version, 1);
  assert.equal(v.run_id, 'run-7');
  assert.equal(v.source, 'train:run-7');
  assert.equal(v.created_by, 'ci-bot');
  assert.deepEqual(v.aliases, ['candidate', 'champion']);
  const model = await registry.models.get('digits');
  assert.equal(model.description, 'digits classifier');
  assert.deepEqual(model.aliases, { candidate: 2, champion: 2 });
  const history = await registry.models.aliasHistory('digits', 'champion');
  assert.deepEqual(
    history.map((h) => [h.from_version, h.to_version, h.actor]),
    [
      [null, 1, 'tester'],
      [1, 2, 'ci-bot'],
    ],
  );
});

test('an invalid model is TEND_INVALID_MODEL and writes nothing', async (t) => {
  const { home, registry } = await openTemp(t);
  const bad = join(home, 'bad.onnx');
  writeFileSync(bad, Buffer.from('definitely not a protobuf model \x00\xff\x10'));
  await rejectsWith(registry.models.push(bad, { name: 'bad' }), 'TEND_INVALID_MODEL');
  await rejectsWith(registry.models.get('bad'), 'TEND_MODEL_NOT_FOUND');
  assert.deepEqual(await registry.models.list(), []);
  assert.equal(blobCount(home), 0);
});

test('push refuses models with external data, and wraps inspector crashes', async (t) => {
  const withExternal = await openTemp(t, {
    inspect: (path) => ({ ...inspectModelFile(path), external_data: ['/somewhere/weights.bin'] }),
  });
  await assert.rejects(
    withExternal.registry.models.push(DIGITS, { name: 'big' }),
    (err: Error & { code?: string }) => {
      assert.equal(err.code, 'TEND_INVALID_MODEL');
      assert.match(err.message, /external data is not supported by push yet; serve the folder with --repo/);
      return true;
    },
  );
  assert.equal(blobCount(withExternal.home), 0);

  const crashing = await openTemp(t, {
    inspect: () => {
      throw new RangeError('premature end of buffer');
    },
  });
  await rejectsWith(crashing.registry.models.push(DIGITS, { name: 'x' }), 'TEND_INVALID_MODEL');
  assert.deepEqual(await crashing.registry.models.list(), []);
});

test('bad arguments are rejected before anything is written', async (t) => {
  const { home, registry } = await openTemp(t);
  await rejectsWith(registry.models.push(join(home, 'missing.onnx'), { name: 'm' }), 'TEND_INVALID_ARGUMENT');
  await rejectsWith(registry.models.push(home, { name: 'm' }), 'TEND_INVALID_ARGUMENT');
  await rejectsWith(registry.models.push(DIGITS, { name: '../escape' }), 'TEND_INVALID_ARGUMENT');
  await rejectsWith(
    registry.models.push(DIGITS, { name: 'm', aliases: ['latest'] }),
    'TEND_INVALID_ARGUMENT',
  );
  await rejectsWith(registry.models.push(DIGITS, { name: 'm', aliases: ['2'] }), 'TEND_INVALID_ARGUMENT');
  await rejectsWith(registry.models.push(DIGITS, { name: 'm', tags: { '': 'x' } }), 'TEND_INVALID_ARGUMENT');
  await rejectsWith(registry.models.push(DIGITS, { name: 'm', parentVersion: 0 }), 'TEND_INVALID_ARGUMENT');
  await rejectsWith(registry.models.push(DIGITS, { name: 'm', runId: '' }), 'TEND_INVALID_ARGUMENT');
  const cyclic: Record<string, unknown> = {};
  cyclic['self'] = cyclic;
  await rejectsWith(registry.models.push(DIGITS, { name: 'm', metrics: cyclic }), 'TEND_INVALID_ARGUMENT');
  // A parent that does not exist: 404, and no blob left behind.
  await rejectsWith(registry.models.push(DIGITS, { name: 'm', parentVersion: 1 }), 'TEND_VERSION_NOT_FOUND');
  assert.deepEqual(await registry.models.list(), []);
  assert.equal(blobCount(home), 0);
});

test('resolveVersion: numbers, aliases, latest, and the 404s', async (t) => {
  const { registry } = await openTemp(t);
  await registry.models.push(DIGITS, { name: 'm', aliases: ['champion'] });
  await registry.models.push(CNN, { name: 'm' });
  assert.equal((await registry.models.resolveVersion('m', '1')).version, 1);
  assert.equal((await registry.models.resolveVersion('m', '2')).version, 2);
  assert.equal((await registry.models.resolveVersion('m', 'latest')).version, 2);
  assert.equal((await registry.models.resolveVersion('m', 'champion')).version, 1);
  assert.deepEqual(await registry.models.setAlias('m', 'champion', 2), { from: 1, to: 2 });
  const resolved = await registry.models.resolveVersion('m', 'champion');
  assert.equal(resolved.version, 2);
  assert.deepEqual(resolved.aliases, ['champion']);
  await rejectsWith(registry.models.resolveVersion('m', 'nope'), 'TEND_ALIAS_NOT_FOUND');
  await rejectsWith(registry.models.resolveVersion('m', '9'), 'TEND_VERSION_NOT_FOUND');
  await rejectsWith(registry.models.resolveVersion('m', '0'), 'TEND_VERSION_NOT_FOUND');
  await rejectsWith(registry.models.resolveVersion('other', 'latest'), 'TEND_MODEL_NOT_FOUND');
  await rejectsWith(registry.models.resolveVersion('other', 'champion'), 'TEND_MODEL_NOT_FOUND');
  await rejectsWith(registry.models.resolveVersion('m', '1.5'), 'TEND_INVALID_ARGUMENT');
});

test('the registry persists across reopen', async (t) => {
  const { home, registry } = await openTemp(t);
  await registry.models.push(DIGITS, { name: 'digits', aliases: ['champion'], tags: { a: 'b' } });
  await registry.models.push(CNN, { name: 'cnn' });
  await registry.models.setAlias('digits', 'stable', 1, 'alice');
  await registry.models.removeAlias('digits', 'stable');
  const before = {
    models: await registry.models.list(),
    versions: await registry.models.listVersions('digits'),
  };
  await registry.close();
  await registry.close(); // idempotent

  const reopened = await Registry.open(home);
  t.after(() => reopened.close());
  assert.deepEqual(await reopened.models.list(), before.models);
  assert.deepEqual(await reopened.models.listVersions('digits'), before.versions);
  assert.deepEqual(await reopened.models.listAliases('digits'), { champion: 1 });
  assert.deepEqual(
    (await reopened.models.aliasHistory('digits', 'stable')).map((h) => [
      h.from_version,
      h.to_version,
      h.actor,
    ]),
    [
      [null, 1, 'alice'],
      [1, null, 'tester'],
    ],
  );
  assert.equal((await reopened.models.push(DIGITS, { name: 'digits' })).version, 2);
});

test('verifyVersion notices a tampered blob', async (t) => {
  const { registry } = await openTemp(t);
  await registry.models.push(DIGITS, { name: 'm' });
  const v = await registry.models.getVersion('m', 1);
  const file = registry.files.path(v);
  chmodSync(file, 0o644);
  writeFileSync(file, 'garbage');
  assert.equal(await registry.files.verify(v), false);
});

test('open on a path that is a file is TEND_INVALID_ARGUMENT', async (t) => {
  const dir = tempDir('registry');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'file'), 'x');
  await rejectsWith(Registry.open(join(dir, 'file')), 'TEND_INVALID_ARGUMENT');
});
