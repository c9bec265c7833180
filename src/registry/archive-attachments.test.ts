/** Model archives carry the files attached to versions and the model's runs (archive-attachments.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Registry } from './registry.js';
import { listTar } from './tar.js';
import { tempDir } from '../core/test-support.test-helper.js';

const DIGITS = resolve(import.meta.dirname, '../../fixtures/models/digits_mlp.onnx');
const CNN = resolve(import.meta.dirname, '../../fixtures/models/small_cnn.onnx');

async function openRegistry(
  t: { after(fn: () => unknown): void },
  dir: string,
  name: string,
): Promise<Registry> {
  const registry = await Registry.open(join(dir, name), { actor: 'tester' });
  t.after(() => registry.close());
  return registry;
}

test('attached files (reference data, reports, signatures) and runs travel with the model', async (t) => {
  const dir = tempDir('archive-extras', t);
  const source = await openRegistry(t, dir, 'a');
  await source.models.push(DIGITS, { name: 'digits' });
  const run = await source.runs.start({
    modelName: 'digits',
    kind: 'train',
    parameters: { model: 'mlp' },
    datasetSha256: 'a'.repeat(64),
    datasetRows: 150,
    datasetSource: '/data/digits.csv',
    codeVersion: 'tend test',
  });
  await source.models.push(CNN, { name: 'digits', parentVersion: 1 });
  await source.runs.finish(run.run_id, {
    metrics: { accuracy: 0.9, converged: 1 },
    epochs: [{ epoch: 1, loss: 0.5 }],
    producedVersion: 2,
    durationMs: 12,
  });
  const reference = Buffer.from('a,b\n1,2\n3,4\n');
  await source.artifacts.attach('digits', 1, 'reference', reference, { mediaType: 'text/csv' });
  await source.artifacts.attach('digits', 2, 'reference', reference, { mediaType: 'text/csv' });
  await source.artifacts.attach('digits', 2, 'signature', Buffer.from('{"key_id":"k1"}'), {
    mediaType: 'application/json',
    meta: { key_id: 'k1', algorithm: 'ed25519' },
  });
  const file = join(dir, 'digits.tar');
  const exported = await source.archives.export('digits', file);
  assert.equal(exported.artifacts, 3);
  assert.equal(exported.runs, 1);
  // One tar entry per distinct content: two model files and two attached files.
  assert.equal((await listTar(file)).filter((e) => e.name.startsWith('artifacts/')).length, 2);

  const target = await openRegistry(t, dir, 'b');
  const imported = await target.archives.import(file);
  assert.equal(imported.artifacts, 3);
  assert.equal(imported.runs, 1);
  assert.deepEqual(await target.artifacts.list('digits'), await source.artifacts.list('digits'));
  for (const [version, kind] of [
    [1, 'reference'],
    [2, 'reference'],
    [2, 'signature'],
  ] as const) {
    const [a, b] = [
      await source.artifacts.read('digits', version, kind),
      await target.artifacts.read('digits', version, kind),
    ];
    assert.ok(a && b);
    assert.ok(b.bytes.equals(a.bytes), `${kind} of version ${version}`);
  }
  assert.deepEqual(await target.runs.list({ model: 'digits' }), await source.runs.list({ model: 'digits' }));
  assert.equal((await target.models.getVersion('digits', 2)).run_id, run.run_id);

  // Under another name in the same registry: the attached files follow, the run id stays the original's.
  const copy = await source.archives.import(file, { as: 'digits-copy' });
  assert.equal(copy.artifacts, 3);
  assert.equal((await source.artifacts.list('digits-copy')).length, 3);
  assert.equal((await source.runs.list({ model: 'digits' })).length, 1);
});

test('an attached file altered in the archive is refused, and nothing is imported', async (t) => {
  const dir = tempDir('archive-extras-bad', t);
  const source = await openRegistry(t, dir, 'a');
  await source.models.push(DIGITS, { name: 'digits' });
  await source.artifacts.attach('digits', 1, 'reference', Buffer.from('a,b\n1,2\n'), {
    mediaType: 'text/csv',
  });
  const file = join(dir, 'digits.tar');
  await source.archives.export('digits', file);
  const entry = (await listTar(file)).find((e) => e.name.startsWith('artifacts/'));
  assert.ok(entry);
  // Flip one byte of the attached file inside the tar (same size: only the hash can tell).
  const bytes = readFileSync(file);
  bytes[entry.offset] = (bytes[entry.offset] ?? 0) ^ 1;
  writeFileSync(file, bytes);
  const target = await openRegistry(t, dir, 'b');
  await assert.rejects(target.archives.import(file), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'TEND_INVALID_ARCHIVE');
    assert.match(
      err.message,
      /artifacts\/[0-9a-f]{64} in .* does not match its sha256.*nothing was imported/,
    );
    return true;
  });
  assert.deepEqual(await target.models.list(), []);
});
