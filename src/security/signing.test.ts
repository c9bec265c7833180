import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TendError } from '../core/errors.js';
import {
  PRIVATE_KEY_FILE,
  PUBLIC_KEY_FILE,
  generateSigningKeyPair,
  loadTrustedKeys,
  parsePublicKey,
  readSigningKey,
  signModel,
  signatureRefusedError,
  signedMessage,
  verifyModelSignature,
  writeKeyPair,
  type ModelSignatureRecord,
} from './signing.js';
import { tempDir } from '../core/test-support.test-helper.js';

const FILE_HASH = createHash('sha256').update('model bytes').digest('hex');
const OTHER_HASH = createHash('sha256').update('other bytes').digest('hex');
const pair = generateSigningKeyPair();
const trusted = new Map([[pair.keyId, pair.publicKeyPem]]);

function withTempDir(run: (dir: string) => void): void {
  const dir = tempDir('signing');
  try {
    run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function code(fn: () => unknown, expected: string, pattern?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof TendError, String(err));
    assert.equal(err.code, expected);
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}

test('a key pair: PEM both ways, key id = first 16 hex of sha256 of the raw public key', () => {
  assert.match(pair.privateKeyPem, /^-----BEGIN PRIVATE KEY-----/);
  assert.match(pair.publicKeyPem, /^-----BEGIN PUBLIC KEY-----/);
  const raw = createPublicKey(pair.publicKeyPem).export({ format: 'der', type: 'spki' }).subarray(-32);
  assert.equal(pair.keyId, createHash('sha256').update(raw).digest('hex').slice(0, 16));
  assert.notEqual(generateSigningKeyPair().keyId, pair.keyId);
});

test('signModel signs the domain-separated file hash; verify accepts it', () => {
  const record = signModel(FILE_HASH.toUpperCase(), pair.privateKeyPem, new Date('2025-01-02T03:04:05Z'));
  assert.equal(record.key_id, pair.keyId);
  assert.equal(record.algorithm, 'ed25519');
  assert.equal(record.sha256, FILE_HASH);
  assert.equal(record.signed_at, '2025-01-02T03:04:05.000Z');
  assert.equal(signedMessage(FILE_HASH).toString(), `tend-model-signature-v1\nsha256:${FILE_HASH}\n`);
  assert.ok(
    verify(
      null,
      signedMessage(FILE_HASH),
      createPublicKey(pair.publicKeyPem),
      Buffer.from(record.signature, 'base64'),
    ),
  );
  assert.deepEqual(verifyModelSignature(record, FILE_HASH, trusted), { ok: true, keyId: pair.keyId });
  // signed_at is informational: changing it does not break the signature.
  assert.equal(verifyModelSignature({ ...record, signed_at: 'x' }, FILE_HASH, trusted).ok, true);
});

test('verify names the failed check: unsigned, hash mismatch, untrusted, bad signature, malformed', () => {
  const record = signModel(FILE_HASH, pair.privateKeyPem);
  const check = (
    r: ModelSignatureRecord | null | undefined,
    hash = FILE_HASH,
    keys: ReadonlyMap<string, string> = trusted,
  ) => {
    const v = verifyModelSignature(r, hash, keys);
    return v.ok ? 'ok' : v.check;
  };
  assert.equal(check(null), 'unsigned');
  assert.equal(check(undefined), 'unsigned');
  assert.equal(check(record, OTHER_HASH), 'hash-mismatch');
  assert.equal(check({ ...record, sha256: OTHER_HASH }), 'hash-mismatch');
  assert.equal(check(record, FILE_HASH, new Map()), 'untrusted');
  const stranger = generateSigningKeyPair();
  assert.equal(check(signModel(FILE_HASH, stranger.privateKeyPem)), 'untrusted');
  // A record claiming a trusted key id but signed by another key.
  assert.equal(
    check({ ...signModel(FILE_HASH, stranger.privateKeyPem), key_id: pair.keyId }),
    'bad-signature',
  );
  const sig = Buffer.from(record.signature, 'base64');
  sig[5] = (sig[5] ?? 0) ^ 1;
  assert.equal(check({ ...record, signature: sig.toString('base64') }), 'bad-signature');
  assert.equal(check({ ...record, signature: '' }), 'bad-signature');
  assert.equal(check({ ...record, signature: '!!not base64!!' }), 'bad-signature');
  assert.equal(check({ ...record, algorithm: 'rsa' as 'ed25519' }), 'malformed');
  assert.equal(check({ ...record, key_id: 'short' }), 'malformed');
  assert.equal(check({ ...record, sha256: 7 as unknown as string }), 'malformed');
  const v = verifyModelSignature(record, OTHER_HASH, trusted);
  assert.ok(!v.ok && v.reason.includes(FILE_HASH.slice(0, 12)) && v.reason.includes(OTHER_HASH.slice(0, 12)));
});

test('signature refusal names the model, version and check', () => {
  const verdict = verifyModelSignature(null, FILE_HASH, trusted);
  assert.ok(!verdict.ok);
  const err = signatureRefusedError('fraud', 3, verdict);
  assert.equal(err.code, 'TEND_FORBIDDEN');
  assert.equal(
    err.message,
    "model 'fraud' version 3 refused by trust policy require-signature (unsigned): the model is not signed",
  );
});

test('bad inputs to signing: hash shape, non-ed25519 keys, garbage PEM', () => {
  code(() => signModel('abc', pair.privateKeyPem), 'TEND_INVALID_ARGUMENT', /64 hex/);
  code(() => signModel(FILE_HASH, 'not a pem'), 'TEND_INVALID_ARGUMENT', /not a PEM private key/);
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  code(
    () => signModel(FILE_HASH, ec.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()),
    'TEND_INVALID_ARGUMENT',
    /not an ed25519 key \(it is ec\); tend signs with ed25519/,
  );
  code(
    () => parsePublicKey(ec.publicKey.export({ format: 'pem', type: 'spki' }).toString(), 'k.pem'),
    'TEND_INVALID_CONFIG',
    /k\.pem is not an ed25519 key \(it is ec\)/,
  );
  code(() => parsePublicKey(pair.privateKeyPem, 'leak.pem'), 'TEND_INVALID_CONFIG', /holds a private key/);
  code(() => parsePublicKey('garbage', 'g.pub'), 'TEND_INVALID_CONFIG', /not a PEM public key/);
  code(() => verifyModelSignature(null, 'zz', trusted), 'TEND_INVALID_ARGUMENT');
});

test('writeKeyPair writes a 0600 private key and a public key, and refuses to overwrite', () => {
  withTempDir((root) => {
    const dir = join(root, 'keys');
    const written = writeKeyPair(dir);
    assert.equal(written.privateKeyPath, join(dir, PRIVATE_KEY_FILE));
    assert.equal(statSync(written.privateKeyPath).mode & 0o777, 0o600);
    const pem = readSigningKey(written.privateKeyPath);
    const record = signModel(FILE_HASH, pem);
    assert.equal(record.key_id, written.keyId);
    const keys = loadTrustedKeys(dir);
    assert.deepEqual([...keys.keys()], [written.keyId]);
    assert.equal(verifyModelSignature(record, FILE_HASH, keys).ok, true);
    code(() => writeKeyPair(dir), 'TEND_CONFLICT', /already exists/);
    rmSync(written.privateKeyPath);
    code(() => writeKeyPair(dir), 'TEND_CONFLICT', new RegExp(PUBLIC_KEY_FILE)); // half a pair is not overwritten either
  });
});

test('loadTrustedKeys reads *.pub and *.pem, skips other files, refuses private keys and missing folders', () => {
  withTempDir((dir) => {
    const a = generateSigningKeyPair();
    const b = generateSigningKeyPair();
    writeFileSync(join(dir, 'alice.pub'), a.publicKeyPem);
    writeFileSync(join(dir, 'bob.pem'), b.publicKeyPem);
    writeFileSync(join(dir, 'README'), 'not a key');
    mkdirSync(join(dir, 'sub.pem'));
    const keys = loadTrustedKeys(dir);
    assert.deepEqual(new Set(keys.keys()), new Set([a.keyId, b.keyId]));
    assert.equal(verifyModelSignature(signModel(FILE_HASH, b.privateKeyPem), FILE_HASH, keys).ok, true);
    writeFileSync(join(dir, 'oops.pem'), a.privateKeyPem);
    code(() => loadTrustedKeys(dir), 'TEND_INVALID_CONFIG', /oops\.pem holds a private key/);
  });
  code(
    () => loadTrustedKeys(join(tmpdir(), 'tend-no-such-folder-x9')),
    'TEND_INVALID_CONFIG',
    /does not exist/,
  );
  code(
    () => readSigningKey(join(tmpdir(), 'tend-no-such-key-x9')),
    'TEND_INVALID_ARGUMENT',
    /cannot read signing key/,
  );
});
