import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
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

async function openRegistry(
  t: { after(fn: () => unknown): void },
  dir: string,
  name: string,
): Promise<Registry> {
  const registry = await Registry.open(join(dir, name), { actor: 'tester' });
  t.after(() => registry.close());
  return registry;
}

/** digits: v1 (champion history), v2 (CNN, child of 1, metrics, tags), v3 archived, v4 deleted, v5 = v1's content. */
async function sampleModel(registry: Registry): Promise<void> {
  await registry.models.push(DIGITS, {
    name: 'digits',
    aliases: ['champion'],
    description: 'handwritten digits',
  });
  await registry.models.push(CNN, {
    name: 'digits',
    parentVersion: 1,
    runId: 'run-7',
    metrics: { accuracy: 0.97 },
    tags: { stage: 'prod' },
  });
  await registry.models.push(CNN, { name: 'digits' });
  await registry.models.push(CNN, { name: 'digits' });
  await registry.models.push(DIGITS, { name: 'digits', aliases: ['candidate'] });
  await registry.models.setAlias('digits', 'champion', 2, 'alice');
  await registry.models.archiveVersion('digits', 3, { actor: 'bob' });
  await registry.models.deleteVersion('digits', 4);
  await registry.models.update('digits', { tags: { team: 'vision' } });
}

function withoutName<T extends { name: string }>(list: T[]): Omit<T, 'name'>[] {
  return list.map(({ name: _n, ...rest }) => rest);
}

test('export then import into another registry gives the same model, version for version', async (t) => {
  const dir = tempDir('archive', t);
  const source = await openRegistry(t, dir, 'a');
  await sampleModel(source);
  const file = join(dir, 'digits.tar');
  const exported = await source.archives.export('digits', file);
  assert.deepEqual(
    { ...exported, size_bytes: 0 },
    { name: 'digits', file, versions: 4, files: 2, artifacts: 0, runs: 0, size_bytes: 0 },
  );

  const entries = await listTar(file);
  assert.equal(entries[0]?.name, MANIFEST_FILE);
  const manifest = JSON.parse(
    (await readTarEntryBuffer(file, entries[0] as (typeof entries)[0])).toString(),
  ) as {
    model: { name: string; next_version: number };
    versions: { version: number; archived_at: string | null }[];
  };
  assert.equal(manifest.model.next_version, 6);
  assert.deepEqual(
    manifest.versions.map((v) => [v.version, v.archived_at !== null]),
    [
      [1, false],
      [2, false],
      [3, true],
      [5, false],
    ],
  );
  if (HAVE_TAR) {
    const listed = execFileSync('tar', ['tf', file], { encoding: 'utf8' }).trim().split('\n');
    assert.equal(listed[0], MANIFEST_FILE);
    assert.equal(listed.length, 3);
    for (const name of listed.slice(1)) assert.match(name, /^models\/[0-9a-f]{64}\.onnx$/);
  }

  const target = await openRegistry(t, dir, 'b');
  const imported = await target.archives.import(file);
  assert.deepEqual(imported, {
    name: 'digits',
    original_name: 'digits',
    versions: [1, 2, 3, 5],
    aliases: { candidate: 5, champion: 2 },
    artifacts: 0,
    runs: 0,
    files_written: 2,
  });
  const [before, after] = [await source.models.get('digits'), await target.models.get('digits')];
  assert.deepEqual({ ...after, updated_at: '' }, { ...before, updated_at: '' });
  assert.deepEqual(await target.models.listVersions('digits'), await source.models.listVersions('digits'));
  assert.deepEqual(
    await target.models.aliasHistory('digits', 'champion'),
    await source.models.aliasHistory('digits', 'champion'),
  );
  for (const v of await target.models.listVersions('digits'))
    assert.equal(await target.files.verify(v), true);
  assert.equal(
    (await target.models.push(DIGITS, { name: 'digits' })).version,
    6,
    'numbers continue past the deleted version',
  );

  // Into the same registry: the name is taken unless renamed.
  await assert.rejects(source.archives.import(file), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'TEND_CONFLICT');
    assert.match(err.message, /already exists.*--as/);
    return true;
  });
  const copy = await source.archives.import(file, { as: 'digits-copy' });
  assert.equal(copy.files_written, 0, 'the content is already stored');
  assert.deepEqual(
    withoutName(await source.models.listVersions('digits-copy')),
    withoutName(await source.models.listVersions('digits')),
  );
  await rejectsWith(source.archives.import(file, { as: '../evil' }), 'TEND_INVALID_ARGUMENT');
});

/** A tar of these entries, in order. */
async function writeTar(path: string, entries: [string, Buffer][]): Promise<void> {
  const out = await open(path, 'w');
  const tar = new TarWriter(out);
  for (const [name, bytes] of entries) await tar.addBuffer(name, bytes);
  await tar.finish();
  await out.close();
}

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

/** Assert an import is refused with `code`, a message matching `message` and (when given) this hint. */
async function refused(work: Promise<unknown>, code: string, message: RegExp, hint?: RegExp): Promise<void> {
  await assert.rejects(work, (err: Error & { code?: string; hint?: string }) => {
    assert.equal(err.code, code, err.message);
    assert.match(err.message, message);
    if (hint !== undefined) assert.match(err.hint ?? '', hint, err.message);
    assert.doesNotMatch(
      `${err.message} ${err.hint ?? ''}`,
      code === 'TEND_INVALID_MODEL' ? /^$/ : /ONNX model/,
      'only an ONNX problem speaks of ONNX models',
    );
    return true;
  });
}

test('a broken or tampered archive is refused naming what is wrong, and nothing is imported', async (t) => {
  const dir = tempDir('archive', t);
  const source = await openRegistry(t, dir, 'a');
  await sampleModel(source);
  const good = join(dir, 'good.tar');
  await source.archives.export('digits', good);
  const target = await openRegistry(t, dir, 'b');

  // Checksum mismatch: which file, the sha256 the manifest expects and the one it has.
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
  const expected = /models\/([0-9a-f]{64})\.onnx/.exec(victim)?.[1] ?? '';
  const tamperedBytes = (await listTar(tampered)).find((e) => e.name === victim);
  assert.ok(tamperedBytes !== undefined);
  const actual = createHash('sha256')
    .update(await readTarEntryBuffer(tampered, tamperedBytes))
    .digest('hex');
  await refused(
    target.archives.import(tampered),
    'TEND_INVALID_ARCHIVE',
    new RegExp(
      `^${victim} in .*tampered\\.tar does not match its sha256: the manifest expects ${expected}, the file hashes to ${actual}; nothing was imported$`,
    ),
    /damaged or altered/,
  );

  const cases: [string, Parameters<typeof rewrite>[2], RegExp, RegExp][] = [
    [
      'missing-file',
      { manifest: (m) => ((m['versions'] as { file: string }[])[0]!.file = `models/${'0'.repeat(64)}.onnx`) },
      /version 1 names file 'models\/0{64}\.onnx', expected/,
      /export the model again/,
    ],
    [
      'bad-format',
      { manifest: (m) => (m['format'] = 'zip') },
      /manifest\.json is invalid: field format: /,
      /export the model again/,
    ],
    [
      'bad-field',
      { manifest: (m) => ((m['versions'] as { sha256: string }[])[1]!.sha256 = 'xyz') },
      /manifest\.json is invalid: field versions\[1\]\.sha256: /,
      /export the model again/,
    ],
    [
      'no-versions-field',
      { manifest: (m) => delete m['versions'] },
      /manifest\.json is invalid: field versions: /,
      /export the model again/,
    ],
    [
      'bad-alias',
      { manifest: (m) => (m['aliases'] = { champion: 3 }) },
      /alias 'champion' points at archived version 3/,
      /export the model again/,
    ],
    [
      'bad-size',
      { manifest: (m) => ((m['versions'] as { size_bytes: number }[])[0]!.size_bytes = 5) },
      /has \d+ bytes, the manifest says 5/,
      /copy or export it again/,
    ],
    [
      'bad-name',
      { manifest: (m) => ((m['model'] as { name: string }).name = 'a b') },
      /its model name 'a b' \(manifest field model\.name\) is not a valid model name/,
      /--as NAME/,
    ],
  ];
  for (const [name, edit, message, hint] of cases) {
    const file = join(dir, `${name}.tar`);
    await rewrite(good, file, edit);
    await refused(target.archives.import(file), 'TEND_INVALID_ARCHIVE', message, hint);
  }

  // The manifest missing, or not JSON.
  const noManifest = join(dir, 'no-manifest.tar');
  await writeTar(noManifest, [['models/x.onnx', readFileSync(DIGITS)]]);
  await refused(
    target.archives.import(noManifest),
    'TEND_INVALID_ARCHIVE',
    /manifest\.json is missing \(the tar holds 1 other file\(s\)\)/,
    /export the model again/,
  );
  const notJson = join(dir, 'not-json.tar');
  await writeTar(notJson, [[MANIFEST_FILE, Buffer.from('{"format": ')]]);
  await refused(
    target.archives.import(notJson),
    'TEND_INVALID_ARCHIVE',
    /manifest\.json is not JSON/,
    /export the model again/,
  );

  // Not a tar at all (an ONNX file given to import), and a truncated copy.
  const notArchive = join(dir, 'model.onnx.tar');
  writeFileSync(notArchive, readFileSync(DIGITS));
  await refused(
    target.archives.import(notArchive),
    'TEND_INVALID_ARCHIVE',
    /model\.onnx\.tar is not a tar archive: .*; nothing was imported$/,
    /tend push FILE --name NAME/,
  );
  const truncated = join(dir, 'truncated.tar');
  writeFileSync(truncated, readFileSync(good).subarray(0, 4096));
  await refused(
    target.archives.import(truncated),
    'TEND_INVALID_ARCHIVE',
    /truncated\.tar is a truncated tar archive: it ends in the middle of an entry/,
    /copy or export it again/,
  );

  // A name already taken is a conflict with its way out, not an archive problem.
  await target.models.push(DIGITS, { name: 'digits' });
  await refused(
    target.archives.import(good),
    'TEND_CONFLICT',
    /model 'digits' already exists; import it under another name \(--as NAME\)/,
  );
  await target.models.delete('digits');

  await rejectsWith(target.archives.import(join(dir, 'missing.tar')), 'TEND_INVALID_ARGUMENT');
  assert.deepEqual(await target.models.list(), []);
  // Nothing registered; files copied before a late failure are only collectable garbage.
  assert.equal((await target.files.gc({ minAgeSeconds: 0 })).kept, 0);
});

test('an archive whose file is not an ONNX model keeps the ONNX hint', async (t) => {
  const dir = tempDir('archive', t);
  const source = await openRegistry(t, dir, 'a');
  await source.models.push(DIGITS, { name: 'm' });
  const good = join(dir, 'good.tar');
  await source.archives.export('m', good);
  const junk = Buffer.from('these bytes are no ONNX model\n');
  const sha256 = createHash('sha256').update(junk).digest('hex');
  const [first] = await listTar(good);
  assert.ok(first !== undefined);
  const manifest = JSON.parse((await readTarEntryBuffer(good, first)).toString()) as {
    versions: { file: string; sha256: string; size_bytes: number }[];
  };
  Object.assign(manifest.versions[0] as object, {
    file: `models/${sha256}.onnx`,
    sha256,
    size_bytes: junk.length,
  });
  const file = join(dir, 'junk.tar');
  await writeTar(file, [
    [MANIFEST_FILE, Buffer.from(JSON.stringify(manifest))],
    [`models/${sha256}.onnx`, junk],
  ]);
  const target = await openRegistry(t, dir, 'b');
  await refused(
    target.archives.import(file),
    'TEND_INVALID_MODEL',
    new RegExp(`models/${sha256}\\.onnx in .*junk\\.tar is not a valid ONNX model`),
  );
  assert.deepEqual(await target.models.list(), []);
});

test('export: unknown model, unusable output path', async (t) => {
  const dir = tempDir('archive', t);
  const registry = await openRegistry(t, dir, 'a');
  await registry.models.push(DIGITS, { name: 'm' });
  await rejectsWith(registry.archives.export('nope', join(dir, 'x.tar')), 'TEND_MODEL_NOT_FOUND');
  await rejectsWith(
    registry.archives.export('m', join(dir, 'no-such-folder', 'x.tar')),
    'TEND_INVALID_ARGUMENT',
  );
  await rejectsWith(registry.archives.export('m', dir), 'TEND_INVALID_ARGUMENT'); // a folder
  // A damaged registry file stops the export, and no partial archive is left.
  const v = await registry.models.getVersion('m', 1);
  rmSync(registry.files.path(v));
  await rejectsWith(registry.archives.export('m', join(dir, 'm.tar')), 'TEND_INTERNAL');
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.includes('m.tar')),
    [],
  );
});
