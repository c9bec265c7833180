/**
 * Encryption at rest: an AES-256-GCM envelope for whole files (models) and for single text fields
 * (the prediction log's feature column). Plaintext exists only in memory.
 *
 * Envelope: `TENDENC1` (8 bytes) | key id (8 bytes) | nonce (12 random bytes) | ciphertext | tag (16 bytes).
 * The 28-byte header is authenticated as additional data, so swapping the key id or the nonce fails
 * like any other tampering. Random 96-bit nonces are safe for about 2^32 envelopes per key: rotate
 * the key well before that (the prediction log at 10k rows/s reaches it in about five days).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { errors } from './errors.js';
import type { EncryptionKey, Keyring } from './keyring.js';

const MAGIC = Buffer.from('TENDENC1', 'ascii');
const KEY_ID_BYTES = 8;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = MAGIC.length + KEY_ID_BYTES + NONCE_BYTES;
/** The smallest envelope: header and tag around an empty plaintext. */
export const ENVELOPE_OVERHEAD_BYTES = HEADER_BYTES + TAG_BYTES;
/** base64 of the magic's first 6 bytes: how an encrypted field starts. */
const FIELD_PREFIX = MAGIC.subarray(0, 6).toString('base64');

const TAMPERED = 'decryption failed: the file was changed or the key is wrong';

/** True when `data` starts with the envelope's magic (it may still be truncated or tampered). */
export function isEncrypted(data: Uint8Array): boolean {
  return data.length >= MAGIC.length && MAGIC.equals(Buffer.from(data.buffer, data.byteOffset, MAGIC.length));
}

/** Seal `plain` with `key`. */
export function encryptBuffer(plain: Uint8Array, key: EncryptionKey): Buffer {
  const header = Buffer.concat([MAGIC, Buffer.from(key.id, 'hex'), randomBytes(NONCE_BYTES)]);
  if (header.length !== HEADER_BYTES)
    throw errors.invalidConfig('an encryption key id must be 16 hex characters');
  const cipher = createCipheriv('aes-256-gcm', key.key, header.subarray(MAGIC.length + KEY_ID_BYTES));
  cipher.setAAD(header);
  const body = cipher.update(plain);
  const final = cipher.final();
  return Buffer.concat([header, body, final, cipher.getAuthTag()]);
}

/**
 * Open an envelope with the key its header names. Every failure is TEND_INVALID_MODEL, prefixed with
 * `what` (default 'encrypted data'); tampering and a wrong key give the same message, as GCM cannot tell them apart.
 */
export function decryptBuffer(sealed: Uint8Array, keyring: Keyring, what = 'encrypted data'): Buffer {
  const fail = (message: string) => errors.invalidModel(`${what}: ${message}`);
  if (!isEncrypted(sealed)) throw fail('not encrypted by tend (no TENDENC1 header)');
  if (sealed.length < ENVELOPE_OVERHEAD_BYTES)
    throw fail(`truncated (${sealed.length} bytes, an envelope has at least ${ENVELOPE_OVERHEAD_BYTES})`);
  const data = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.length);
  const header = data.subarray(0, HEADER_BYTES);
  const keyId = header.subarray(MAGIC.length, MAGIC.length + KEY_ID_BYTES).toString('hex');
  const key = keyring.keys.get(keyId);
  if (key === undefined) throw fail(`encrypted with key ${keyId}, which is not in the keyring`);
  const decipher = createDecipheriv('aes-256-gcm', key, header.subarray(MAGIC.length + KEY_ID_BYTES), {
    authTagLength: TAG_BYTES,
  });
  decipher.setAAD(header);
  decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
  try {
    return Buffer.concat([
      decipher.update(data.subarray(HEADER_BYTES, data.length - TAG_BYTES)),
      decipher.final(),
    ]);
  } catch (err) {
    throw errors.invalidModel(`${what}: ${TAMPERED}`, err);
  }
}

/** The id of the key an envelope was sealed with, or null when `data` is not an envelope. */
export function envelopeKeyId(data: Uint8Array): string | null {
  if (!isEncrypted(data) || data.length < ENVELOPE_OVERHEAD_BYTES) return null;
  return Buffer.from(data.buffer, data.byteOffset + MAGIC.length, KEY_ID_BYTES).toString('hex');
}

/** Re-seal with the active key (after a rotation); an envelope already under it is returned as is. */
export function reencryptBuffer(sealed: Uint8Array, keyring: Keyring, what?: string): Buffer {
  const plain = decryptBuffer(sealed, keyring, what);
  if (envelopeKeyId(sealed) === keyring.active.id) return Buffer.from(sealed);
  return encryptBuffer(plain, keyring.active);
}

/** Seal a text field: base64 of the envelope of its UTF-8 bytes. */
export function encryptField(text: string, key: EncryptionKey): string {
  return encryptBuffer(Buffer.from(text, 'utf8'), key).toString('base64');
}

/** True when a stored field was written by encryptField (plain JSON never starts this way). */
export function isEncryptedField(value: string): boolean {
  return value.startsWith(FIELD_PREFIX);
}

/** Open a field written by encryptField (TEND_INVALID_MODEL as decryptBuffer, about 'encrypted field'). */
export function decryptField(value: string, keyring: Keyring): string {
  if (!isEncryptedField(value) || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
    throw errors.invalidModel('encrypted field: not encrypted by tend (no TENDENC1 header)');
  }
  return decryptBuffer(Buffer.from(value, 'base64'), keyring, 'encrypted field').toString('utf8');
}
