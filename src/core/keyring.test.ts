import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TendError } from './errors.js';
import {
  deriveKeyId,
  generateEncryptionKey,
  keyringOf,
  loadKeyring,
  parseKeyring,
  rotateKeyring,
  serializeKeyring,
  writeKeyringFile,
} from './keyring.js';
import { tempDir } from './test-support.test-helper.js';

const KEY_A = Buffer.alloc(32, 1);
const KEY_B = Buffer.alloc(32, 2);
const ID_A = '00112233445566aa';

function configError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof TendError, String(err));
    assert.equal(err.code, 'TEND_INVALID_CONFIG');
    assert.match(err.message, pattern);
    return true;
  });
}

test('generateEncryptionKey: 32 random bytes and a 16-hex id derived from them', () => {
  const k = generateEncryptionKey();
  assert.equal(k.key.length, 32);
  assert.match(k.id, /^[0-9a-f]{16}$/);
  assert.equal(k.id, deriveKeyId(k.key));
  assert.notDeepEqual(generateEncryptionKey().key, k.key);
});

test('parseKeyring: id:key lines or bare keys, comments, commas; the first key is active', () => {
  const text = `# keys\n${ID_A}:${KEY_A.toString('base64')}\n\n  ${KEY_B.toString('base64url')}  \r\n`;
  const ring = parseKeyring(text, 'keys.txt');
  assert.equal(ring.active.id, ID_A);
  assert.deepEqual(ring.active.key, KEY_A);
  assert.deepEqual([...ring.keys.keys()], [ID_A, deriveKeyId(KEY_B)]);
  assert.deepEqual(ring.keys.get(deriveKeyId(KEY_B)), KEY_B);
  const env = parseKeyring(
    `${KEY_B.toString('base64')},${ID_A}:${KEY_A.toString('base64')}`,
    'TEND_ENCRYPTION_KEYS',
  );
  assert.equal(env.active.id, deriveKeyId(KEY_B));
  assert.equal(env.keys.size, 2);
});

test('parseKeyring errors name the source and line, never the key material', () => {
  const secret = KEY_A.toString('base64');
  configError(() => parseKeyring('', 'keys.txt'), /^keys\.txt holds no encryption key/);
  configError(() => parseKeyring('# only a comment', 'k'), /holds no encryption key/);
  configError(
    () => parseKeyring(`${ID_A}:${secret.slice(0, 20)}`, 'k'),
    /^k line 1: not a key: expected the base64 of 32 bytes/,
  );
  configError(() => parseKeyring(`${ID_A}:${Buffer.alloc(16).toString('base64')}`, 'k'), /line 1: not a key/);
  configError(() => parseKeyring(`ABCDEF:${secret}`, 'k'), /line 1: the key id must be 16 lowercase hex/);
  configError(
    () => parseKeyring(`${ID_A}:${secret}\n${ID_A}:${KEY_B.toString('base64')}`, 'k'),
    /^k: key id 00112233445566aa appears twice/,
  );
  configError(() => parseKeyring(`${secret},oops`, 'ENV'), /^ENV line 1, entry 2: not a key/);
  for (const bad of [`x:${secret}x`, `${ID_A}:${secret} extra`, `${secret}:${ID_A}`]) {
    assert.throws(
      () => parseKeyring(bad, 'k'),
      (err: Error) => !err.message.includes(secret.slice(0, 12)),
    );
  }
});

test('rotateKeyring puts a fresh key first and keeps every old key', () => {
  const ring = keyringOf([{ id: ID_A, key: KEY_A }]);
  const rotated = rotateKeyring(ring);
  assert.notEqual(rotated.active.id, ID_A);
  assert.deepEqual([...rotated.keys.keys()], [rotated.active.id, ID_A]);
  const twice = rotateKeyring(rotated, { id: deriveKeyId(KEY_B), key: KEY_B });
  assert.deepEqual([...twice.keys.keys()], [deriveKeyId(KEY_B), rotated.active.id, ID_A]);
  assert.equal(ring.keys.size, 1); // the original is unchanged
});

test('serializeKeyring round-trips through parseKeyring', () => {
  const ring = rotateKeyring(keyringOf([{ id: ID_A, key: KEY_A }]));
  const back = parseKeyring(serializeKeyring(ring), 'k');
  assert.equal(back.active.id, ring.active.id);
  assert.deepEqual([...back.keys.entries()], [...ring.keys.entries()]);
});

test('keyringOf refuses empty rings and bad keys', () => {
  configError(() => keyringOf([]), /at least one key/);
  configError(() => keyringOf([{ id: 'nothex', key: KEY_A }]), /16 lowercase hex/);
  configError(() => keyringOf([{ id: ID_A, key: Buffer.alloc(31) }]), /must be 32 bytes/);
});

test('loadKeyring reads a file or an environment value, exactly one of them', () => {
  const dir = tempDir('keyring');
  try {
    const path = join(dir, 'keys');
    writeKeyringFile(path, keyringOf([{ id: ID_A, key: KEY_A }]));
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir), ['keys']); // no temporary file left behind
    assert.equal(loadKeyring({ file: path }).active.id, ID_A);
    writeKeyringFile(path, rotateKeyring(loadKeyring({ file: path })));
    assert.equal(loadKeyring({ file: path }).keys.size, 2);
    assert.match(readFileSync(path, 'utf8'), /^# tend encryption keys/);
    assert.equal(
      loadKeyring({ env: KEY_B.toString('base64'), envName: 'TEND_ENCRYPTION_KEYS' }).active.id,
      deriveKeyId(KEY_B),
    );
    configError(
      () => loadKeyring({ file: path, env: 'x' }),
      /both in .* and in the environment variable; keep one/,
    );
    configError(() => loadKeyring({}), /no key file or key variable/);
    configError(() => loadKeyring({ file: join(dir, 'missing') }), /cannot read encryption key file/);
    configError(
      () => loadKeyring({ env: '', envName: 'TEND_ENCRYPTION_KEYS' }),
      /^TEND_ENCRYPTION_KEYS holds no encryption key/,
    );
    writeFileSync(path, 'garbage\n');
    configError(() => loadKeyring({ file: path }), /keys line 1: not a key/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
