import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDecipheriv } from 'node:crypto';
import { TendError } from './errors.js';
import {
  ENVELOPE_OVERHEAD_BYTES,
  decryptBuffer,
  decryptField,
  encryptBuffer,
  encryptField,
  envelopeKeyId,
  isEncrypted,
  isEncryptedField,
  reencryptBuffer,
} from './encryption.js';
import { generateEncryptionKey, keyringOf, rotateKeyring } from './keyring.js';

const key = generateEncryptionKey();
const ring = keyringOf([key]);
const plain = Buffer.from('the model file: \u0000\u0001\u00ff and more bytes');

function invalidModel(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof TendError, String(err));
    assert.equal(err.code, 'TEND_INVALID_MODEL');
    assert.match(err.message, pattern);
    return true;
  });
}

test('the envelope: TENDENC1, key id, 12-byte nonce, ciphertext, 16-byte tag; round-trips', () => {
  const sealed = encryptBuffer(plain, key);
  assert.equal(sealed.subarray(0, 8).toString('ascii'), 'TENDENC1');
  assert.equal(sealed.subarray(8, 16).toString('hex'), key.id);
  assert.equal(sealed.length, plain.length + ENVELOPE_OVERHEAD_BYTES);
  assert.equal(ENVELOPE_OVERHEAD_BYTES, 8 + 8 + 12 + 16);
  assert.ok(isEncrypted(sealed));
  assert.equal(envelopeKeyId(sealed), key.id);
  assert.deepEqual(decryptBuffer(sealed, ring), plain);
  // Independent check of the layout with node:crypto directly.
  const d = createDecipheriv('aes-256-gcm', key.key, sealed.subarray(16, 28));
  d.setAAD(sealed.subarray(0, 28));
  d.setAuthTag(sealed.subarray(-16));
  assert.deepEqual(Buffer.concat([d.update(sealed.subarray(28, -16)), d.final()]), plain);
});

test('each encryption uses a fresh nonce; empty and large plaintexts work; views are honoured', () => {
  assert.notDeepEqual(encryptBuffer(plain, key), encryptBuffer(plain, key));
  assert.equal(decryptBuffer(encryptBuffer(Buffer.alloc(0), key), ring).length, 0);
  const big = Buffer.alloc(1 << 20, 7);
  assert.deepEqual(decryptBuffer(encryptBuffer(big, key), ring), big);
  const backing = Buffer.concat([Buffer.from('junk'), encryptBuffer(plain, key), Buffer.from('tail')]);
  const view = new Uint8Array(backing.buffer, backing.byteOffset + 4, backing.length - 8);
  assert.ok(isEncrypted(view));
  assert.deepEqual(decryptBuffer(view, ring), plain);
});

test('tampering anywhere (header, nonce, ciphertext, tag) fails with one clear message', () => {
  const sealed = encryptBuffer(plain, key);
  for (const offset of [16, 20, 27, 28, 28 + 5, sealed.length - 1, sealed.length - 16]) {
    const bad = Buffer.from(sealed);
    bad[offset] = (bad[offset] ?? 0) ^ 0x01;
    invalidModel(
      () => decryptBuffer(bad, ring, 'model file'),
      /^model file: decryption failed: the file was changed or the key is wrong$/,
    );
  }
});

test('a wrong key with the same id fails as tampering; an unknown key id is named', () => {
  const sealed = encryptBuffer(plain, key);
  const impostor = keyringOf([{ id: key.id, key: generateEncryptionKey().key }]);
  invalidModel(
    () => decryptBuffer(sealed, impostor),
    /decryption failed: the file was changed or the key is wrong/,
  );
  const other = keyringOf([generateEncryptionKey()]);
  invalidModel(
    () => decryptBuffer(sealed, other),
    new RegExp(`encrypted with key ${key.id}, which is not in the keyring`),
  );
  // Changing the key id in the header to another key in the ring: the AAD catches it.
  const second = generateEncryptionKey();
  const both = keyringOf([key, second]);
  const swapped = Buffer.from(sealed);
  Buffer.from(second.id, 'hex').copy(swapped, 8);
  invalidModel(() => decryptBuffer(swapped, both), /decryption failed/);
});

test('not encrypted and truncated envelopes are named as such', () => {
  invalidModel(
    () => decryptBuffer(Buffer.from('ONNX plain model bytes, no header'), ring),
    /not encrypted by tend \(no TENDENC1 header\)/,
  );
  invalidModel(() => decryptBuffer(Buffer.alloc(0), ring), /not encrypted by tend/);
  const sealed = encryptBuffer(plain, key);
  invalidModel(
    () => decryptBuffer(sealed.subarray(0, 30), ring),
    /truncated \(30 bytes, an envelope has at least 44\)/,
  );
  invalidModel(() => decryptBuffer(sealed.subarray(0, 8), ring), /truncated/);
  invalidModel(() => decryptBuffer(sealed.subarray(0, sealed.length - 1), ring), /decryption failed/);
  assert.equal(isEncrypted(Buffer.from('TENDENC')), false);
  assert.equal(envelopeKeyId(Buffer.from('TENDENC1')), null);
  assert.equal(envelopeKeyId(Buffer.from('plain')), null);
});

test('rotation keeps old data readable; re-encryption moves it to the active key', () => {
  const oldSealed = encryptBuffer(plain, key);
  const rotated = rotateKeyring(ring);
  assert.deepEqual(decryptBuffer(oldSealed, rotated), plain);
  const moved = reencryptBuffer(oldSealed, rotated);
  assert.equal(envelopeKeyId(moved), rotated.active.id);
  assert.deepEqual(decryptBuffer(moved, rotated), plain);
  invalidModel(() => decryptBuffer(moved, ring), /not in the keyring/);
  const again = reencryptBuffer(moved, rotated);
  assert.deepEqual(again, moved); // already under the active key: unchanged
  invalidModel(() => reencryptBuffer(Buffer.from('plain'), rotated), /not encrypted/);
});

test('fields: base64 envelopes of UTF-8 text, recognizable, tamper-evident', () => {
  const features = JSON.stringify({ age: 42, name: 'Zoë', vec: [0.1, 2] });
  const field = encryptField(features, key);
  assert.match(field, /^[A-Za-z0-9+/]+=*$/);
  assert.ok(isEncryptedField(field));
  assert.equal(isEncryptedField(features), false);
  assert.equal(isEncryptedField('[1,2,3]'), false);
  assert.equal(decryptField(field, ring), features);
  assert.equal(decryptField(encryptField('', key), ring), '');
  const rotated = rotateKeyring(ring);
  assert.equal(decryptField(field, rotated), features);
  const chars = field.split('');
  const i = chars.length - 10;
  chars[i] = chars[i] === 'A' ? 'B' : 'A';
  invalidModel(() => decryptField(chars.join(''), ring), /^encrypted field: decryption failed/);
  invalidModel(() => decryptField(features, ring), /encrypted field: not encrypted by tend/);
  invalidModel(() => decryptField(`${field}!`, ring), /not encrypted by tend/);
  invalidModel(() => decryptField(field.slice(0, 20), ring), /truncated/);
});
