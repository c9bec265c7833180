/**
 * Encryption keys at rest: a keyring of AES-256 keys by id, the first one active (used to encrypt),
 * the others kept to decrypt what they encrypted before a rotation.
 *
 * Text form (a file, or an environment variable's value), one key per line or comma-separated:
 *   `<key-id>:<base64 of 32 bytes>`, or the base64 alone (the id is then derived from the key).
 * Key ids are 16 lowercase hex characters (8 bytes, written into every envelope). Lines starting with
 * `#` are comments. Errors name the source and the entry, never the key material.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { TendError, errors } from './errors.js';

export const KEY_BYTES = 32;
const KEY_ID = /^[0-9a-f]{16}$/;
const BASE64_32 = /^[A-Za-z0-9+/_-]{43}=?$/;

export interface EncryptionKey {
  /** 16 lowercase hex characters. */
  id: string;
  /** 32 bytes. */
  key: Buffer;
}

export interface Keyring {
  /** The key new data is encrypted with. */
  active: EncryptionKey;
  /** Every key, the active one included, by id. */
  keys: ReadonlyMap<string, Buffer>;
}

/** The id a key gets when none is written: domain-separated hash, so it reveals nothing usable. */
export function deriveKeyId(key: Buffer): string {
  return createHash('sha256').update('tend-encryption-key-id-v1\n').update(key).digest('hex').slice(0, 16);
}

/** A fresh random AES-256 key with its derived id. */
export function generateEncryptionKey(): EncryptionKey {
  const key = randomBytes(KEY_BYTES);
  return { id: deriveKeyId(key), key };
}

/** A keyring from keys, the first one active; duplicate ids are refused. */
export function keyringOf(keys: readonly EncryptionKey[]): Keyring {
  const [active] = keys;
  if (active === undefined) throw errors.invalidConfig('an encryption keyring needs at least one key');
  const map = new Map<string, Buffer>();
  for (const k of keys) {
    if (!KEY_ID.test(k.id))
      throw errors.invalidConfig(`key id '${k.id.slice(0, 16)}' must be 16 lowercase hex characters`);
    if (k.key.length !== KEY_BYTES) throw errors.invalidConfig(`key ${k.id} must be ${KEY_BYTES} bytes`);
    if (map.has(k.id)) throw errors.invalidConfig(`key id ${k.id} appears twice in the keyring`);
    map.set(k.id, k.key);
  }
  return { active, keys: map };
}

/**
 * Parse the text form; `source` names it in errors (a path or an environment variable).
 * @example parseKeyring(process.env.TEND_ENCRYPTION_KEY ?? '', 'TEND_ENCRYPTION_KEY')
 */
export function parseKeyring(text: string, source: string): Keyring {
  const keys: EncryptionKey[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (line === '' || line.startsWith('#')) continue;
    const entries = line
      .split(',')
      .map((e) => e.trim())
      .filter((e) => e !== '');
    entries.forEach((entry, j) => {
      const where = entries.length > 1 ? `line ${i + 1}, entry ${j + 1}` : `line ${i + 1}`;
      const fail = (what: string) => errors.invalidConfig(`${source} ${where}: ${what}`);
      const colon = entry.indexOf(':');
      const id = colon < 0 ? undefined : entry.slice(0, colon);
      const encoded = colon < 0 ? entry : entry.slice(colon + 1);
      if (id !== undefined && !KEY_ID.test(id))
        throw fail('the key id must be 16 lowercase hex characters (<key-id>:<base64 key>)');
      if (!BASE64_32.test(encoded))
        throw fail(
          `not a key: expected the base64 of ${KEY_BYTES} bytes (generate one with 'tend keys rotate' or 'openssl rand -base64 32')`,
        );
      const key = Buffer.from(encoded.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
      if (key.length !== KEY_BYTES) throw fail(`the key decodes to ${key.length} bytes, not ${KEY_BYTES}`);
      keys.push({ id: id ?? deriveKeyId(key), key });
    });
  }
  if (keys.length === 0) throw errors.invalidConfig(`${source} holds no encryption key`);
  try {
    return keyringOf(keys);
  } catch (err) {
    throw err instanceof TendError ? errors.withCode(err.code, `${source}: ${err.message}`) : err;
  }
}

/**
 * The keyring from a key file or from an environment variable's value (exactly one of them).
 * @example loadKeyring({ file: config.encryption.keyFile }) or loadKeyring({ env: process.env.TEND_ENCRYPTION_KEY })
 */
export function loadKeyring(from: { file?: string; env?: string; envName?: string }): Keyring {
  const envName = from.envName ?? 'the environment variable';
  if (from.file !== undefined && from.env !== undefined) {
    throw errors.invalidConfig(`encryption keys given both in '${from.file}' and in ${envName}; keep one`);
  }
  if (from.env !== undefined) return parseKeyring(from.env, envName);
  if (from.file === undefined)
    throw errors.invalidConfig('encryption is on but no key file or key variable is set');
  let text: string;
  try {
    text = readFileSync(from.file, 'utf8');
  } catch (err) {
    throw errors.invalidConfig(`cannot read encryption key file '${from.file}'`, { cause: err });
  }
  return parseKeyring(text, from.file);
}

/** The text form of a keyring, the active key first. */
export function serializeKeyring(keyring: Keyring): string {
  const lines = [`${keyring.active.id}:${keyring.active.key.toString('base64')}`];
  for (const [id, key] of keyring.keys) {
    if (id !== keyring.active.id) lines.push(`${id}:${key.toString('base64')}`);
  }
  return `# tend encryption keys: the first is active, the others decrypt older data. Keep this file secret.\n${lines.join('\n')}\n`;
}

/** A new keyring whose active key is fresh; every old key stays for decryption. */
export function rotateKeyring(keyring: Keyring, fresh: EncryptionKey = generateEncryptionKey()): Keyring {
  return keyringOf([fresh, ...[...keyring.keys].map(([id, key]) => ({ id, key }))]);
}

/** Write the keyring to `path` with mode 0600, replacing it atomically (write beside, then rename). */
export function writeKeyringFile(path: string, keyring: Keyring): void {
  const temp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temp, serializeKeyring(keyring), { mode: 0o600, flag: 'wx' });
  renameSync(temp, path);
}
