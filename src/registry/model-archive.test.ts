import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Registry } from './registry.js';
import { MANIFEST_FILE } from './model-archive.js';
import { rejectsWith } from './store.case.js';
import { listTar, readTarEntryBuffer, TarWriter } from './tar.js';
import { tempDir } from '../core/test-support.test-helper.js';

const DIGITS = resolve(import.meta.dirname, '../../fixtures/models/digits_mlp.onnx');
const CNN = resolve(import.meta.dirname, '../../fixtures/models/small_cnn.onnx');
const HAVE_TAR = spawnSync('tar', ['--version']).status === 0;

async function openRegistry(t: { after(fn: () => unknown): void }, dir: string, name: string): Promise<Registry> {
  const registry = await Registry.open(join(dir, name), { actor: 'tester' });
  t.after(() => registry.close());
  return registry;
}

/** digits: v1 (champion history), v2 (CNN, child of 1, metrics, tags), v3 archived, v4 deleted, v5 = v1's content. */
async function sampleModel(registry: Registry): Promise<void> {
  await registry.push(DIGITS, { name: 'digits', aliases: ['champion'], description: 'handwritten digits' });
  await registry.push(CNN, { name: 'digits', parentVersion: 1, runId: 'run-7', metrics: { accuracy: 0.97 }, tags: { stage: 'prod' } });
  await registry.push(CNN, { name: 'digits' });
  await registry.push(CNN, { name: 'digits' });
  await registry.push(DIGITS, { name: 'digits', aliases: ['candidate'] });
  await registry.setAlias('digits', 'champion', 2, 'alice');
  await registry.archiveVersion('digits', 3, { actor: 'bob' });
  await registry.deleteVersion('digits', 4);
  await registry.updateModel('digits', { tags: { team: 'vision' } });
}

function withoutName<T extends { name: string }>(list: T[]): Omit<T, 'name'>[] {
  return list.map(({ name: _n, ...rest }) => rest);
}

test('export then import into another registry gives the same model, version for version', async (t) => {
  const dir = tempDir('archive', t);
  const source = await openRegistry(t, dir, 'a');
  await sampleModel(source);
  const file = join(dir, 'digits.tar');
  const exported = await source.exportModel('digits', file);
  assert.deepEqual({ ...exported, size_bytes: 0 }, { name: 'digits', file, versions: 4, files: 2, size_bytes: 0 });

  const entries = await listTar(file);
  assert.equal(entries[0]?.name, MANIFEST_FILE);
  const manifest = JSON.parse((await readTarEntryBuffer(file, entries[0] as (typeof entries)[0])).toString()) as {
    model: { name: string; next_version: number };
    versions: { version: number; archived_at: string | null }[];
  };
  assert.equal(manifest.model.next_version, 6);
  assert.deepEqual(manifest.versions.map((v) => [v.version, v.archived_at !== null]), [[1, false], [2, false], [3, true], [5, false]]);
  if (HAVE_TAR) {
    const listed = execFileSync('tar', ['tf', file], { encoding: 'utf8' }).trim().split('\n');
    assert.equal(listed[0], MANIFEST_FILE);
    assert.equal(listed.length, 3);
    for (const name of listed.slice(1)) assert.match(name, /^models\/[0-9a-f]{64}\.onnx$/);
  }

  const target = await openRegistry(t, dir, 'b');
  const imported = await target.importModel(file);
  assert.deepEqual(imported, {
    name: 'digits',
    original_name: 'digits',
    versions: [1, 2, 3, 5],
    aliases: { candidate: 5, champion: 2 },
    files_written: 2,
  });
  const [before, after] = [await source.getModel('digits'), await target.getModel('digits')];
  assert.deepEqual({ ...after, updated_at: '' }, { ...before, updated_at: '' });
  assert.deepEqual(await target.listVersions('digits'), await source.listVersions('digits'));
  assert.deepEqual(await target.aliasHistory('digits', 'champion'), await source.aliasHistory('digits', 'champion'));
  for (const v of await target.listVersions('digits')) assert.equal(await target.verifyVersion(v), true);
  assert.equal((await target.push(DIGITS, { name: 'digits' })).version, 6, 'numbers continue past the deleted version');

  // Into the same registry: the name is taken unless renamed.
  await assert.rejects(source.importModel(file), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'TEND_CONFLICT');
    assert.match(err.message, /already exists.*--as/);
    return true;
  });
  const copy = await source.importModel(file, { as: 'digits-copy' });
  assert.equal(copy.files_written, 0, 'the content is already stored');
  assert.deepEqual(withoutName(await source.listVersions('digits-copy')), withoutName(await source.listVersions('digits')));
  await rejectsWith(source.importModel(file, { as: '../evil' }), 'TEND_INVALID_ARGUMENT');
});

/** Copy an archive, letting `edit` change the manifest and each file's bytes. */
async function rewrite(
  from: string,
  to: string,
  edit: { manifest?: (m: Record<string, unknown>) => void; file?: (name: string, bytes: Buffer) => Buffer },
): Promise<void> {
  const out = await open(to, 'w');
  const tar = new TarWriter(out);
  for (const entry of await listTar(from)) {
    let bytes = await readTarEntryBuffer(from, entry);
    if (entry.name === MANIFEST_FILE) {
      const manifest = JSON.parse(bytes.toString()) as Record<string, unknown>;
      edit.manifest?.(manifest);
      bytes = Buffer.from(JSON.stringify(manifest));
    } else if (edit.file) {
      bytes = edit.file(entry.name, bytes);
    }
    await tar.addBuffer(entry.name, bytes);
  }
  await tar.finish();
  await out.close();
}

test('a tampered or broken archive is refused with TEND_INVALID_MODEL and nothing is imported', async (t) => {
  const dir = tempDir('archive', t);
  const source = await openRegistry(t, dir, 'a');
  await sampleModel(source);
  const good = join(dir, 'good.tar');
  await source.exportModel('digits', good);
  const target = await openRegistry(t, dir, 'b');

  const tampered = join(dir, 'tampered.tar');
  let victim = '';
  await rewrite(good, tampered, {
    file: (name, bytes) => {
      if (victim !== '') return bytes;
      victim = name;
      const copy = Buffer.from(bytes);
      copy[copy.length - 1] = (copy[copy.length - 1] ?? 0) ^ 0xff;
      return copy;
    },
  });
  await assert.rejects(target.importModel(tampered), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'TEND_INVALID_MODEL');
    assert.ok(err.message.includes(victim), err.message);
    assert.match(err.message, /does not match its sha256.*nothing was imported/);
    return true;
  });

  const cases: [string, Parameters<typeof rewrite>[2], RegExp][] = [
    ['missing-file', { manifest: (m) => ((m['versions'] as { file: string }[])[0]!.file = `models/${'0'.repeat(64)}.onnx`) }, /names file/],
    ['bad-format', { manifest: (m) => (m['format'] = 'zip') }, /format/],
    ['bad-alias', { manifest: (m) => (m['aliases'] = { champion: 3 }) }, /archived version 3/],
    ['bad-size', { manifest: (m) => ((m['versions'] as { size_bytes: number }[])[0]!.size_bytes = 5) }, /manifest says 5/],
    ['bad-name', { manifest: (m) => ((m['model'] as { name: string }).name = 'a b') }, /'a b' is not a valid name; import it with --as/],
  ];
  for (const [name, edit, message] of cases) {
    const file = join(dir, `${name}.tar`);
    await rewrite(good, file, edit);
    await assert.rejects(target.importModel(file), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'TEND_INVALID_MODEL', `${name}: ${err.message}`);
      assert.match(err.message, message, name);
      return true;
    });
  }

  const notArchive = join(dir, 'model.onnx.tar');
  writeFileSync(notArchive, readFileSync(DIGITS));
  await rejectsWith(target.importModel(notArchive), 'TEND_INVALID_MODEL');
  await rejectsWith(target.importModel(join(dir, 'missing.tar')), 'TEND_INVALID_ARGUMENT');
  assert.deepEqual(await target.listModels(), []);
  // Nothing registered; files copied before a late failure are only collectable garbage.
  assert.equal((await target.gc({ minAgeSeconds: 0 })).kept, 0);
});

test('export: unknown model, unusable output path', async (t) => {
  const dir = tempDir('archive', t);
  const registry = await openRegistry(t, dir, 'a');
  await registry.push(DIGITS, { name: 'm' });
  await rejectsWith(registry.exportModel('nope', join(dir, 'x.tar')), 'TEND_MODEL_NOT_FOUND');
  await rejectsWith(registry.exportModel('m', join(dir, 'no-such-folder', 'x.tar')), 'TEND_INVALID_ARGUMENT');
  await rejectsWith(registry.exportModel('m', dir), 'TEND_INVALID_ARGUMENT'); // a folder
  // A damaged registry file stops the export, and no partial archive is left.
  const v = await registry.getVersion('m', 1);
  rmSync(registry.modelFile(v));
  await rejectsWith(registry.exportModel('m', join(dir, 'm.tar')), 'TEND_INTERNAL');
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('m.tar')), []);
});
