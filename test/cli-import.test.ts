/**
 * `tend import` as a user runs it: a bad archive is one line on stderr that says what is wrong with
 * the archive (not a tar, truncated, manifest missing, a file whose sha256 does not match, a name
 * taken) and how to fix it, exit code 1; the ONNX hint only when a file in it is not an ONNX model.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { Registry, TarWriter, listTar, readTarEntryBuffer } from '../src/registry/index.js';
import { FIXTURE_MODELS, ROOT, runCli, tempDir } from './helpers.js';

const CLI = join(ROOT, 'src', 'cli', 'bin.ts');
const DIGITS = join(FIXTURE_MODELS, 'digits_mlp.onnx');
const ONNX_HINT = /check that the file is an ONNX model/;

function tend(args: string[], home: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args, '--home', home], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', TEND_ACTOR: 'tester' },
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Rewrite an archive entry by entry, changing what `edit` returns for an entry's name. */
async function rewrite(
  from: string,
  to: string,
  edit: (name: string, bytes: Buffer) => Buffer | null,
): Promise<void> {
  const out = await open(to, 'w');
  const tar = new TarWriter(out);
  for (const entry of await listTar(from)) {
    const bytes = edit(entry.name, await readTarEntryBuffer(from, entry));
    if (bytes !== null) await tar.addBuffer(entry.name, bytes);
  }
  await tar.finish();
  await out.close();
}

/** One line on stderr matching `message`, exit 1, and the ONNX hint only when `onnx`. */
function refused(r: ReturnType<typeof tend>, message: RegExp, onnx = false): void {
  assert.equal(r.status, 1, r.stderr);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0] ?? '', /^error: /);
  assert.match(lines[0] ?? '', message);
  if (onnx) assert.match(r.stderr, ONNX_HINT);
  else assert.doesNotMatch(r.stderr, ONNX_HINT);
}

let work: string;
let source: string;
let target: string;
let good: string;

before(async () => {
  work = tempDir('cli-import');
  source = join(work, 'source');
  target = join(work, 'target');
  const registry = await Registry.open(source, { actor: 'tester' });
  try {
    await registry.models.push(DIGITS, { name: 'digits', aliases: ['champion'] });
    good = join(work, 'digits.tar');
    await registry.archives.export('digits', good);
  } finally {
    await registry.close();
  }
});
after(() => rmSync(work, { recursive: true, force: true }));

test('import of an ONNX file: not a tar archive, use tend push', () => {
  refused(
    tend(['import', DIGITS], target),
    /digits_mlp\.onnx is not a tar archive: .*nothing was imported — `tend import` takes the tar archive `tend export` writes \(an \.onnx file is added with `tend push FILE --name NAME`\)$/,
  );
});

test('import of a truncated archive says so', () => {
  const cut = join(work, 'cut.tar');
  writeFileSync(cut, readFileSync(good).subarray(0, 2048));
  refused(
    tend(['import', cut], target),
    /cut\.tar is a truncated tar archive: it ends in the middle of an entry .*— the archive was damaged or altered after `tend export`; copy or export it again$/,
  );
});

test('import without manifest.json names it', async () => {
  const bare = join(work, 'bare.tar');
  await rewrite(good, bare, (name, bytes) => (name === 'manifest.json' ? null : bytes));
  refused(
    tend(['import', bare], target),
    /bare\.tar is not a valid tend model archive: manifest\.json is missing .*— `tend import` takes the tar archive `tend export` writes; export the model again$/,
  );
});

test('import of an invalid manifest names the field', async () => {
  const bad = join(work, 'bad-manifest.tar');
  await rewrite(good, bad, (name, bytes) => {
    if (name !== 'manifest.json') return bytes;
    const manifest = JSON.parse(bytes.toString()) as { versions: { size_bytes: unknown }[] };
    (manifest.versions[0] as { size_bytes: unknown }).size_bytes = 'big';
    return Buffer.from(JSON.stringify(manifest));
  });
  refused(tend(['import', bad], target), /manifest\.json is invalid: field versions\[0\]\.size_bytes: /);
});

test('import of an altered file gives expected and actual sha256', async () => {
  const altered = join(work, 'altered.tar');
  let expected = '';
  let actual = '';
  await rewrite(good, altered, (name, bytes) => {
    if (name === 'manifest.json') return bytes;
    expected = /([0-9a-f]{64})\.onnx$/.exec(name)?.[1] ?? '';
    const copy = Buffer.from(bytes);
    copy[10] = (copy[10] ?? 0) ^ 0x55;
    actual = createHash('sha256').update(copy).digest('hex');
    return copy;
  });
  refused(
    tend(['import', altered], target),
    new RegExp(
      `models/${expected}\\.onnx in .*altered\\.tar does not match its sha256: the manifest expects ${expected}, the file hashes to ${actual}; nothing was imported — the archive was damaged or altered`,
    ),
  );
});

test('import under a taken name: a conflict with --as as the way out; then --as works', () => {
  refused(
    tend(['import', good], source),
    /model 'digits' already exists; import it under another name \(--as NAME\)$/,
  );
  const done = tend(['import', good, '--as', 'digits-copy'], source);
  assert.equal(done.status, 0, done.stderr);
  assert.match(done.stdout, /imported digits \(as digits-copy\)/);
});

test('import of an archive whose file is not ONNX keeps the ONNX hint', async () => {
  const junk = Buffer.from('not a model\n');
  const sha256 = createHash('sha256').update(junk).digest('hex');
  const [manifestEntry] = await listTar(good);
  assert.ok(manifestEntry !== undefined);
  const manifest = JSON.parse((await readTarEntryBuffer(good, manifestEntry)).toString()) as {
    versions: Record<string, unknown>[];
  };
  Object.assign(manifest.versions[0] as object, {
    file: `models/${sha256}.onnx`,
    sha256,
    size_bytes: junk.length,
  });
  const file = join(work, 'junk.tar');
  const out = await open(file, 'w');
  const tar = new TarWriter(out);
  await tar.addBuffer('manifest.json', Buffer.from(JSON.stringify(manifest)));
  await tar.addBuffer(`models/${sha256}.onnx`, junk);
  await tar.finish();
  await out.close();
  refused(
    tend(['import', file], target),
    new RegExp(`models/${sha256}\\.onnx in .*junk\\.tar is not a valid ONNX model`),
    true,
  );
});

test('export → import into a new home keeps the model, its runs, its reference data and its signature', () => {
  const from = join(work, 'round-from');
  const to = join(work, 'round-to');
  const json = (args: string[], home: string): Record<string, unknown> => {
    const r = tend([...args, '--json'], home);
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  };
  const iris = join(ROOT, 'fixtures', 'train', 'iris.csv');
  json(['train', '--data', iris, '--target', 'species', '--model', 'softmax', '--name', 'iris'], from);
  const keys = join(work, 'keys');
  assert.equal(runCli(['keygen', '--out', keys]).status, 0);
  json(['sign', 'iris@1', '--key', join(keys, 'tend-signing.key')], from);
  const archive = join(work, 'iris.tar');
  const exported = json(['export', 'iris', '--out', archive], from);
  assert.equal(exported['runs'], 1);
  assert.equal(exported['artifacts'], 2, 'the reference data set and the signature');

  const imported = json(['import', archive], to);
  assert.deepEqual([imported['artifacts'], imported['runs']], [2, 1]);
  const shown = (home: string) => ({ ...json(['models', 'show', 'iris'], home), updated_at: '' });
  assert.deepEqual(shown(to), shown(from));
  assert.deepEqual(json(['runs', 'list'], to), json(['runs', 'list'], from));
  const reference = (home: string) => json(['monitor', 'show', 'iris'], home)['reference'];
  assert.deepEqual(reference(to), reference(from));
  assert.equal((reference(to) as { rows: number }).rows, 150);
  const verified = tend(['verify', 'iris@1', '--keys', keys], to);
  assert.equal(verified.status, 0, `the signature travelled: ${verified.stdout}${verified.stderr}`);
});
