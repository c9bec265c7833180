import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { listTar, readTarEntryBuffer, TarWriter } from './tar.js';
import { rejectsWith } from './store.case.js';
import { tempDir } from '../core/test-support.test-helper.js';

const HAVE_TAR = spawnSync('tar', ['--version']).status === 0;

async function* chunksOf(...parts: Buffer[]): AsyncGenerator<Buffer> {
  for (const part of parts) yield part;
}

const LONG_NAME = `${'deep/'.repeat(30)}file.bin`; // 158 bytes: needs the ustar prefix field

async function writeSample(path: string): Promise<Map<string, Buffer>> {
  const content = new Map<string, Buffer>([
    ['manifest.json', Buffer.from('{"hello": "world"}\n')],
    ['models/a.onnx', Buffer.concat([Buffer.alloc(700, 7), Buffer.from('end')])],
    ['empty', Buffer.alloc(0)],
    [LONG_NAME, Buffer.alloc(512, 1)], // exactly one block: no padding
  ]);
  const out = await open(path, 'w');
  const tar = new TarWriter(out);
  await tar.addBuffer('manifest.json', content.get('manifest.json') as Buffer);
  const model = content.get('models/a.onnx') as Buffer;
  await tar.addStream('models/a.onnx', model.length, chunksOf(model.subarray(0, 100), model.subarray(100)));
  await tar.addBuffer('empty', Buffer.alloc(0));
  await tar.addStream(LONG_NAME, 512, chunksOf(content.get(LONG_NAME) as Buffer));
  await tar.finish();
  await out.close();
  return content;
}

test('tar: what the writer writes, the reader lists and reads back in order', async (t) => {
  const dir = tempDir('tar', t);
  const path = join(dir, 'a.tar');
  const content = await writeSample(path);
  const entries = await listTar(path);
  assert.deepEqual(
    entries.map((e) => e.name),
    [...content.keys()],
  );
  for (const entry of entries) {
    assert.equal(entry.offset % 512, 0);
    assert.ok((await readTarEntryBuffer(path, entry)).equals(content.get(entry.name) as Buffer), entry.name);
  }
  assert.equal(readFileSync(path).length % 512, 0);
});

test(
  'tar: system tar lists and extracts our archives',
  { skip: !HAVE_TAR && 'no tar on this machine' },
  async (t) => {
    const dir = tempDir('tar', t);
    const path = join(dir, 'a.tar');
    const content = await writeSample(path);
    const listed = execFileSync('tar', ['tf', path], { encoding: 'utf8' }).trim().split('\n');
    assert.deepEqual(listed, [...content.keys()]);
    const out = join(dir, 'x');
    mkdirSync(out);
    execFileSync('tar', ['xf', path, '-C', out]);
    for (const [name, bytes] of content) assert.ok(readFileSync(join(out, name)).equals(bytes), name);
  },
);

test(
  'tar: archives repacked by system tar (gnu long names, pax, folders) still read',
  { skip: !HAVE_TAR && 'no tar on this machine' },
  async (t) => {
    const dir = tempDir('tar', t);
    const src = join(dir, 'src');
    const longFile = `${'n'.repeat(120)}.onnx`; // no '/': ustar cannot hold it, GNU and pax can
    mkdirSync(join(src, 'models'), { recursive: true });
    writeFileSync(join(src, 'manifest.json'), '{}');
    writeFileSync(join(src, 'models', longFile), Buffer.alloc(1500, 3));
    for (const format of ['gnu', 'pax']) {
      const path = join(dir, `${format}.tar`);
      execFileSync('tar', [`--format=${format}`, '-cf', path, '-C', src, 'manifest.json', 'models']);
      const entries = await listTar(path);
      assert.deepEqual(entries.map((e) => e.name).sort(), ['manifest.json', `models/${longFile}`], format);
      const model = entries.find((e) => e.name.endsWith('.onnx'));
      assert.ok(model !== undefined);
      assert.ok((await readTarEntryBuffer(path, model)).equals(Buffer.alloc(1500, 3)), format);
    }
  },
);

test('tar: broken archives are TEND_INVALID_ARCHIVE naming what is wrong, a missing file TEND_INVALID_ARGUMENT', async (t) => {
  const dir = tempDir('tar', t);
  const good = join(dir, 'good.tar');
  await writeSample(good);
  const bytes = readFileSync(good);
  const refused = async (path: string, message: RegExp): Promise<void> => {
    await assert.rejects(listTar(path), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'TEND_INVALID_ARCHIVE', err.message);
      assert.match(err.message, message);
      return true;
    });
  };

  const truncated = join(dir, 'truncated.tar');
  writeFileSync(truncated, bytes);
  truncateSync(truncated, 1536 + 100); // inside the second entry's data (header at 1024, data from 1536)
  await refused(
    truncated,
    /^a truncated tar archive: it ends in the middle of an entry \(100 of its 703 bytes are there\)$/,
  );
  truncateSync(truncated, 1024 + 100); // inside the second entry's header
  await refused(truncated, /^a truncated tar archive: it ends in the middle of the header at byte 1024$/);

  const noEnd = join(dir, 'no-end.tar');
  writeFileSync(noEnd, bytes.subarray(0, bytes.length - 1024));
  await refused(
    noEnd,
    /^a truncated tar archive: it ends after \d+ bytes without the end-of-archive blocks$/,
  );

  const badSum = join(dir, 'bad-sum.tar');
  const flipped = Buffer.from(bytes);
  flipped[0] = 'M'.charCodeAt(0) + 1; // the first name byte: the checksum no longer matches
  writeFileSync(badSum, flipped);
  await refused(badSum, /^not a tar archive: its first block is not a tar header \(bad checksum\)$/);
  const laterSum = join(dir, 'later-sum.tar');
  const second = Buffer.from(bytes);
  second[1024] = (second[1024] ?? 0) ^ 1; // the second entry's header (the first holds 1 block of data)
  writeFileSync(laterSum, second);
  await refused(laterSum, /^a damaged tar archive: the header at byte 1024 has a bad checksum$/);

  const text = join(dir, 'text.tar');
  writeFileSync(text, 'hello, this is not an archive\n'.repeat(40));
  await refused(text, /^not a tar archive: its first block is not a tar header/);
  const empty = join(dir, 'empty.tar');
  writeFileSync(empty, '');
  await refused(empty, /^not a tar archive: it is empty or shorter than one 512-byte block$/);
  await rejectsWith(listTar(join(dir, 'missing.tar')), 'TEND_INVALID_ARGUMENT');
});

test('tar: a stream that does not give the declared size is an error', async (t) => {
  const dir = tempDir('tar', t);
  for (const [declared, actual] of [
    [10, 12],
    [10, 8],
  ] as const) {
    const out = await open(join(dir, `s${actual}.tar`), 'w');
    await assert.rejects(
      new TarWriter(out).addStream('f', declared, chunksOf(Buffer.alloc(actual))),
      /longer|shorter/,
    );
    await out.close();
  }
  const out = await open(join(dir, 'long.tar'), 'w');
  await rejectsWith(new TarWriter(out).addBuffer('x'.repeat(300), Buffer.alloc(1)), 'TEND_INVALID_ARGUMENT');
  await out.close();
});

test('tar: sizes in base-256 (past the 8 GiB octal limit) are read', async (t) => {
  const dir = tempDir('tar', t);
  const path = join(dir, 'b256.tar');
  await writeSample(path);
  const model = (await listTar(path))[1];
  assert.ok(model !== undefined);
  const bytes = readFileSync(path);
  const header = bytes.subarray(model.offset - 512, model.offset);
  header.fill(0, 124, 136);
  header[124] = 0x80;
  header.writeUIntBE(model.size, 130, 6);
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  writeFileSync(path, bytes);
  const again = (await listTar(path))[1];
  assert.deepEqual(again, model);
});
