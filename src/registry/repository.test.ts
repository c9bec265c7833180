import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scanRepository } from './repository.js';
import { tempDir } from '../core/test-support.test-helper.js';

function repo(t: { after(fn: () => void): void }, files: Record<string, string | null>): string {
  const dir = tempDir('repo');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [path, content] of Object.entries(files)) {
    if (content === null) mkdirSync(join(dir, path), { recursive: true });
    else {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), content);
    }
  }
  return dir;
}

test('scanRepository lists models and numeric versions in order, warning about the rest', (t) => {
  // The model files are not ONNX: scanning must not read them.
  const dir = repo(t, {
    'digits/1/model.onnx': 'x',
    'digits/10/model.onnx': 'x',
    'digits/2/model.onnx': 'x',
    'digits/3/': null,
    'digits/latest/model.onnx': 'x',
    'digits/0/model.onnx': 'x',
    'digits/007/model.onnx': 'x',
    'digits/config.yaml': 'max_batch_size: 8\ndynamic_batching:\n  max_queue_delay_microseconds: 500\n',
    'digits/README.md': 'notes',
    'digits/config.pbtxt': 'platform: "onnxruntime_onnx"',
    'alpha/1/model.onnx': 'x',
    'README.md': 'repo notes',
    '.git/HEAD': 'ref',
    'bad..name/1/model.onnx': 'x',
  });
  const { models, warnings } = scanRepository(dir);
  assert.deepEqual(
    models.map((m) => m.name),
    ['alpha', 'digits'],
  );
  const digits = models[1];
  assert.ok(digits);
  assert.equal(digits.dir, join(dir, 'digits'));
  assert.equal(digits.error, undefined);
  assert.deepEqual(
    digits.versions.map(({ version, path }) => ({ version, path })),
    [
      { version: 1, path: join(dir, 'digits', '1', 'model.onnx') },
      { version: 2, path: join(dir, 'digits', '2', 'model.onnx') },
      { version: 10, path: join(dir, 'digits', '10', 'model.onnx') },
    ],
  );
  // Stamps: each file of the version folder with its size and modification time; '' without a config.yaml.
  assert.match(digits.versions[0]?.stamp ?? '', /^model\.onnx=1:\d+(\.\d+)?$/);
  assert.notEqual(digits.configStamp, '');
  assert.equal(models[0]?.configStamp, '');
  assert.equal(digits.config.max_batch_size, 8);
  assert.deepEqual(models[0]?.config, {});
  const warned = (fragment: string) => warnings.some((w) => w.includes(fragment));
  for (const f of [
    join('digits', 'latest'),
    join('digits', '3'),
    join('digits', '0'),
    join('digits', '007'),
    'config.pbtxt',
    'README.md',
    'bad..name',
  ]) {
    assert.ok(warned(f), `expected a warning about ${f}: ${JSON.stringify(warnings)}`);
  }
  assert.ok(!warned('.git'));
  assert.ok(!warned(join('digits', 'README.md')), 'plain files in a model folder are ignored silently');
});

test('an invalid config.yaml or no version marks that model only', (t) => {
  const dir = repo(t, {
    'good/1/model.onnx': 'x',
    'unknown-key/1/model.onnx': 'x',
    'unknown-key/config.yaml': 'max_batch_size: 8\nmax_batch: 4\n',
    'not-yaml/1/model.onnx': 'x',
    'not-yaml/config.yaml': 'max_batch_size: [8\n',
    'wrong-type/1/model.onnx': 'x',
    'wrong-type/config.yaml': 'max_batch_size: -1\n',
    'empty/': null,
  });
  const { models } = scanRepository(dir);
  const byName = new Map(models.map((m) => [m.name, m]));
  assert.equal(byName.get('good')?.error, undefined);
  for (const name of ['unknown-key', 'not-yaml', 'wrong-type']) {
    const m = byName.get(name);
    assert.ok(m?.error?.includes('config.yaml'), `${name}: ${m?.error}`);
    assert.deepEqual(
      m?.versions.map((v) => v.version),
      [1],
      'versions are still listed',
    );
  }
  assert.match(byName.get('empty')?.error ?? '', /no version/);
});

test('scanRepository on a missing folder or a file is TEND_INVALID_ARGUMENT', (t) => {
  const dir = repo(t, { 'file.txt': 'x' });
  assert.throws(() => scanRepository(join(dir, 'missing')), { code: 'TEND_INVALID_ARGUMENT' });
  assert.throws(() => scanRepository(join(dir, 'file.txt')), { code: 'TEND_INVALID_ARGUMENT' });
  assert.deepEqual(scanRepository(join(dir)).models, []);
});
