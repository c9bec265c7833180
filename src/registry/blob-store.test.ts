import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BlobStore, hashFile } from './blob-store.js';
import { rejectsWith } from './store.case.js';
import { tempDir } from '../core/test-support.test-helper.js';

function setup(t: { after(fn: () => void): void }): { dir: string; blobs: BlobStore } {
  const dir = tempDir('blobs');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return { dir, blobs: new BlobStore(join(dir, 'models')) };
}

/** Every file under a folder, relative paths. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

test('hashFile streams a file to its SHA-256 and size', async (t) => {
  const { dir } = setup(t);
  const small = join(dir, 'abc');
  writeFileSync(small, 'abc');
  assert.deepEqual(await hashFile(small), {
    sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    size_bytes: 3,
  });
  const big = Buffer.alloc(3 * 1024 * 1024 + 17, 7); // several read chunks
  big[12345] = 1;
  writeFileSync(join(dir, 'big'), big);
  assert.deepEqual(await hashFile(join(dir, 'big')), {
    sha256: createHash('sha256').update(big).digest('hex'),
    size_bytes: big.length,
  });
});

test('put stores content once under models/sha256/<2 hex>/<sha>.onnx', async (t) => {
  const { dir, blobs } = setup(t);
  const a = join(dir, 'a.onnx');
  const b = join(dir, 'b.onnx');
  writeFileSync(a, 'model bytes');
  writeFileSync(b, 'model bytes');
  const first = await blobs.put(a);
  const sha = createHash('sha256').update('model bytes').digest('hex');
  assert.equal(first.sha256, sha);
  assert.equal(first.size_bytes, 11);
  assert.equal(first.created, true);
  assert.equal(first.path, join(dir, 'models', 'sha256', sha.slice(0, 2), `${sha}.onnx`));
  assert.equal(blobs.pathFor(sha), first.path);
  assert.equal(readFileSync(first.path, 'utf8'), 'model bytes');
  assert.equal(statSync(first.path).mode & 0o222, 0, 'blobs are read-only');

  const second = await blobs.put(b);
  assert.deepEqual(second, { ...first, created: false });
  assert.deepEqual(filesUnder(join(dir, 'models')), [join('sha256', sha.slice(0, 2), `${sha}.onnx`)]);
  assert.equal(await blobs.has(sha), true);
  assert.equal(await blobs.has('0'.repeat(64)), false);
});

test('concurrent puts of the same content leave one blob and no temp files', async (t) => {
  const { dir, blobs } = setup(t);
  const file = join(dir, 'm.onnx');
  writeFileSync(file, Buffer.alloc(200_000, 3));
  const results = await Promise.all(Array.from({ length: 5 }, () => blobs.put(file)));
  assert.equal(new Set(results.map((r) => r.path)).size, 1);
  assert.deepEqual(filesUnder(join(dir, 'models')).length, 1);
  assert.ok(!filesUnder(join(dir, 'models')).some((f) => f.endsWith('.tmp')));
});

test('put of a missing or unreadable file writes nothing', async (t) => {
  const { dir, blobs } = setup(t);
  await rejectsWith(blobs.put(join(dir, 'missing.onnx')), 'TEND_INVALID_ARGUMENT');
  await rejectsWith(blobs.put(dir), 'TEND_INVALID_ARGUMENT');
  assert.deepEqual(filesUnder(dir), []);
});

test('pathFor rejects anything but a lowercase SHA-256', (t) => {
  const { blobs } = setup(t);
  for (const bad of ['', 'abc', 'A'.repeat(64), `${'a'.repeat(63)}g`, `../${'a'.repeat(61)}`]) {
    assert.throws(() => blobs.pathFor(bad), { code: 'TEND_INVALID_ARGUMENT' });
  }
});

test('verify recomputes the hash and detects tampering', async (t) => {
  const { dir, blobs } = setup(t);
  const file = join(dir, 'm.onnx');
  writeFileSync(file, 'original');
  const { sha256, path } = await blobs.put(file);
  assert.equal(await blobs.verify(sha256), true);
  chmodSync(path, 0o644);
  writeFileSync(path, 'tampered');
  assert.equal(await blobs.verify(sha256), false);
  rmSync(path);
  assert.equal(await blobs.verify(sha256), false, 'a missing blob does not verify');
  // Pushing the content again repairs the missing blob.
  assert.equal((await blobs.put(file)).created, true);
  assert.equal(await blobs.verify(sha256), true);
});
