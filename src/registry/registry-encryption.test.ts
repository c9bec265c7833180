import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ENVELOPE_OVERHEAD_BYTES, envelopeKeyId } from '../core/encryption.js';
import { ENCRYPTION_KEY_FILE_ENV, KeyringSource } from '../core/encryption-env.js';
import {
  generateEncryptionKey,
  keyringOf,
  rotateKeyring,
  writeKeyringFile,
  type Keyring,
} from '../core/keyring.js';
import { readModelFile } from '../onnx/index.js';
import { Registry } from './registry.js';
import { tempDir } from '../core/test-support.test-helper.js';

const DIGITS = resolve(import.meta.dirname, '../../fixtures/models/digits_mlp.onnx');
const PLAIN = readFileSync(DIGITS);
const CSV = new TextEncoder().encode('a,b\n1,2\n3,4\n');

async function open(
  t: { after(fn: () => unknown): void },
  home: string,
  keys: KeyringSource,
): Promise<Registry> {
  const registry = await Registry.open(home, { actor: 'tester', keys });
  t.after(() => registry.close());
  return registry;
}

/** 32-byte runs of the first initializer's raw bytes (every 16 bytes), which a plaintext copy of the model contains. */
function initializerRuns(): Buffer[] {
  const raw = readModelFile(DIGITS).graph?.initializer[0]?.rawData ?? new Uint8Array(0);
  assert.ok(raw.length >= 1024, 'the fixture keeps its weights as raw bytes');
  const runs: Buffer[] = [];
  for (let at = 0; at + 32 <= raw.length; at += 16) runs.push(Buffer.from(raw.subarray(at, at + 32)));
  return runs;
}

function leaks(file: Buffer): number {
  return initializerRuns().filter((run) => file.includes(run)).length;
}

function fresh(): Keyring {
  return keyringOf([generateEncryptionKey()]);
}

test('with a keyring, a pushed model is sealed on disk: no initializer bytes, named by the plaintext sha256, read back in memory', async (t) => {
  const keyring = fresh();
  const registry = await open(t, join(tempDir('sealed', t), 'home'), KeyringSource.of(keyring));
  assert.ok(leaks(PLAIN) > 0, 'the scan finds the weights in the plaintext model');
  const pushed = await registry.models.push(DIGITS, { name: 'digits' });
  const record = await registry.models.getVersion('digits', pushed.version);
  const onDisk = readFileSync(registry.files.path(record));
  assert.equal(onDisk.subarray(0, 8).toString('ascii'), 'TENDENC1');
  assert.equal(envelopeKeyId(onDisk), keyring.active.id);
  assert.equal(onDisk.length, PLAIN.length + ENVELOPE_OVERHEAD_BYTES);
  assert.equal(leaks(onDisk), 0, 'no 32-byte run of the weights is on disk');
  assert.equal(record.size_bytes, PLAIN.length);
  assert.equal(record.signature.inputs[0]?.name, 'pixels');
  assert.ok(await registry.files.isSealed(record));
  assert.deepEqual(await registry.files.read(record), PLAIN);
  assert.ok(await registry.files.verify(record));

  // Same content again: deduplicated, same sha256 as a plaintext push would give.
  const again = await registry.models.push(DIGITS, { name: 'digits' });
  assert.equal(again.sha256, pushed.sha256);
  assert.equal((await registry.files.blobs.list()).length, 1);
});

test('a wrong key, a missing key, no keyring or a changed byte are clear errors', async (t) => {
  const home = join(tempDir('sealed', t), 'home');
  const keyring = fresh();
  const writer = await open(t, home, KeyringSource.of(keyring));
  const record = await writer.models.getVersion(
    'digits',
    (await writer.models.push(DIGITS, { name: 'digits' })).version,
  );

  const other = await open(t, home, KeyringSource.of(fresh()));
  await assert.rejects(other.files.read(record), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'TEND_INVALID_CONFIG');
    assert.match(
      err.message,
      new RegExp(
        `model file of digits:1 is encrypted with key ${keyring.active.id}, which the keyring does not hold`,
      ),
    );
    return true;
  });
  assert.equal(await other.files.verify(record), false);

  const none = await open(t, home, KeyringSource.of(null));
  await assert.rejects(none.files.read(record), {
    code: 'TEND_INVALID_CONFIG',
    message: /digits:1 is encrypted, but no key is configured; set TEND_ENCRYPTION_KEY_FILE/,
  });

  // Same key id, other key material: GCM cannot tell a wrong key from tampering.
  const impostor = await open(
    t,
    home,
    KeyringSource.of(keyringOf([{ id: keyring.active.id, key: generateEncryptionKey().key }])),
  );
  await assert.rejects(impostor.files.read(record), {
    code: 'TEND_INVALID_MODEL',
    message: /decryption failed/,
  });

  const path = writer.files.path(record);
  const bytes = readFileSync(path);
  bytes[bytes.length - 100] = (bytes[bytes.length - 100] ?? 0) ^ 1;
  chmodSync(path, 0o644);
  writeFileSync(path, bytes);
  await assert.rejects(writer.files.read(record), {
    code: 'TEND_INVALID_MODEL',
    message: /model file of digits:1: decryption failed: the file was changed or the key is wrong/,
  });
  assert.equal(await writer.files.verify(record), false);
});

test('a key the loaded keyring lacks is looked up again in the key file (rotated by another process)', async (t) => {
  const dir = tempDir('sealed', t);
  const keyFile = join(dir, 'keys');
  const first = fresh();
  writeKeyringFile(keyFile, first);
  const server = await open(
    t,
    join(dir, 'home'),
    KeyringSource.fromEnvironment({ [ENCRYPTION_KEY_FILE_ENV]: keyFile }),
  );
  await server.models.push(DIGITS, { name: 'digits' });
  assert.equal(server.files.sealed.keys.activeKey()?.id, first.active.id);

  const rotated = rotateKeyring(first);
  writeKeyringFile(keyFile, rotated);
  const cli = await open(t, join(dir, 'home'), KeyringSource.of(rotated));
  await cli.files.reseal(rotated);
  const record = await server.models.getVersion('digits', 1);
  assert.equal(envelopeKeyId(readFileSync(server.files.path(record))), rotated.active.id);
  assert.deepEqual(await server.files.read(record), PLAIN, 'the server read the new key from the file');
  assert.equal(server.files.sealed.keys.activeKey()?.id, rotated.active.id);
});

test('without a keyring nothing changes: plaintext files, read by path or through modelBytes', async (t) => {
  const registry = await open(t, join(tempDir('sealed', t), 'home'), KeyringSource.of(null));
  const record = await registry.models.getVersion(
    'digits',
    (await registry.models.push(DIGITS, { name: 'digits' })).version,
  );
  assert.deepEqual(readFileSync(registry.files.path(record)), PLAIN);
  assert.equal(await registry.files.isSealed(record), false);
  assert.deepEqual(await registry.files.read(record), PLAIN);
  assert.ok(await registry.files.verify(record));
});

test('artifacts are sealed too and read back as plaintext', async (t) => {
  const registry = await open(t, join(tempDir('sealed', t), 'home'), KeyringSource.of(fresh()));
  await registry.models.push(DIGITS, { name: 'm' });
  const artifact = await registry.artifacts.attach('m', 1, 'reference', CSV, { mediaType: 'text/csv' });
  const onDisk = readFileSync(registry.files.blobs.pathFor(artifact.sha256));
  assert.equal(onDisk.subarray(0, 8).toString('ascii'), 'TENDENC1');
  assert.ok(!onDisk.includes(Buffer.from('1,2\n3,4')));
  assert.deepEqual(new Uint8Array((await registry.artifacts.read('m', 1, 'reference'))?.bytes ?? []), CSV);
});

test('export writes plaintext (importable anywhere); import into an encrypted registry seals', async (t) => {
  const dir = tempDir('sealed', t);
  const sealed = await open(t, join(dir, 'a'), KeyringSource.of(fresh()));
  await sealed.models.push(DIGITS, { name: 'digits', aliases: ['champion'] });
  const archive = join(dir, 'digits.tar');
  await sealed.archives.export('digits', archive);
  assert.ok(leaks(readFileSync(archive)) > 0, 'the archive carries the model in plaintext');

  const plain = await open(t, join(dir, 'b'), KeyringSource.of(null));
  await plain.archives.import(archive);
  assert.deepEqual(readFileSync(plain.files.path(await plain.models.getVersion('digits', 1))), PLAIN);

  const other = fresh();
  const resealed = await open(t, join(dir, 'c'), KeyringSource.of(other));
  const imported = await resealed.archives.import(archive);
  assert.deepEqual(imported.aliases, { champion: 1 });
  const record = await resealed.models.getVersion('digits', 1);
  const onDisk = readFileSync(resealed.files.path(record));
  assert.equal(envelopeKeyId(onDisk), other.active.id);
  assert.equal(leaks(onDisk), 0);
  assert.equal(record.signature.inputs[0]?.name, 'pixels', 'signature read from the decrypted bytes');
  assert.deepEqual(await resealed.files.read(record), PLAIN);
});

test('resealBlobs seals a plaintext registry, then re-seals under a rotated key; a push with keys replaces a plaintext copy', async (t) => {
  const home = join(tempDir('sealed', t), 'home');
  const plain = await open(t, home, KeyringSource.of(null));
  await plain.models.push(DIGITS, { name: 'digits' });
  await plain.artifacts.attach('digits', 1, 'reference', CSV, { mediaType: 'text/csv' });

  const first = fresh();
  const registry = await open(t, home, KeyringSource.of(first));
  const sealedOnce = await registry.files.reseal(first);
  assert.deepEqual(
    { ...sealedOnce, failed: sealedOnce.failed.length },
    { files: 2, resealed: 0, encrypted: 2, unchanged: 0, failed: 0 },
  );
  const rotated = rotateKeyring(first);
  const again = await registry.files.reseal(rotated);
  assert.deepEqual(
    { ...again, failed: again.failed.length },
    { files: 2, resealed: 2, encrypted: 0, unchanged: 0, failed: 0 },
  );
  for (const f of await registry.files.blobs.list())
    assert.equal(envelopeKeyId(readFileSync(f.path)), rotated.active.id);
  assert.equal((await registry.files.reseal(rotated)).unchanged, 2);
  const reader = await open(t, home, KeyringSource.of(rotated));
  assert.deepEqual(await reader.files.read(await reader.models.getVersion('digits', 1)), PLAIN);
  assert.deepEqual(new Uint8Array((await reader.artifacts.read('digits', 1, 'reference'))?.bytes ?? []), CSV);
  const audit = await registry.audit.list({ action: 'keys.reseal' });
  assert.equal(audit.length, 3);

  // A second home: plaintext first, then a push with keys seals the shared content in place.
  const other = join(tempDir('sealed', t), 'home');
  const before = await open(t, other, KeyringSource.of(null));
  const pushed = await before.models.push(DIGITS, { name: 'digits' });
  const after = await open(t, other, KeyringSource.of(first));
  await after.models.push(DIGITS, { name: 'digits' });
  const onDisk = readFileSync(after.files.blobs.pathFor(pushed.sha256));
  assert.equal(envelopeKeyId(onDisk), first.active.id);
  // A push without keys leaves the sealed copy alone rather than writing plaintext back.
  await before.models.push(DIGITS, { name: 'digits' });
  assert.equal(envelopeKeyId(readFileSync(after.files.blobs.pathFor(pushed.sha256))), first.active.id);
});

test('a damaged file is reported by resealBlobs and left as it is', async (t) => {
  const keyring = fresh();
  const registry = await open(t, join(tempDir('sealed', t), 'home'), KeyringSource.of(keyring));
  const pushed = await registry.models.push(DIGITS, { name: 'digits' });
  const path = registry.files.blobs.pathFor(pushed.sha256);
  chmodSync(path, 0o644);
  writeFileSync(path, Buffer.concat([PLAIN.subarray(0, 100), Buffer.from([1, 2, 3])]));
  const result = await registry.files.reseal(rotateKeyring(keyring));
  assert.equal(result.failed.length, 1);
  assert.match(result.failed[0]?.reason ?? '', /no longer matches its sha256/);
  await assert.rejects(registry.files.read(await registry.models.getVersion('digits', 1)), {
    code: 'TEND_INVALID_MODEL',
    message: /does not match the sha256 recorded at push/,
  });
});
