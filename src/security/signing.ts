/**
 * Model signatures: ed25519 over the model file's SHA-256, checked against a folder of trusted keys.
 *
 * The signed message is `tend-model-signature-v1\nsha256:<hex>\n`: the prefix keeps a model signature
 * from ever being valid as anything else signed with the same key. Only the file hash is signed, not
 * the model name or version: a signature says "this exact file was approved", so the file can move
 * between registries (staging → production) or names and stay valid, and signing can happen in CI
 * before a version number exists. The flip side, accepted: a signed file can be served under another
 * name, or an older signed version rolled back to; name-level control is the job of `deploy` scopes.
 * `signed_at` is informational and not covered by the signature.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TendError, errors, FIX_IN_MESSAGE } from '../core/errors.js';

const DOMAIN = 'tend-model-signature-v1';
const SHA256_HEX = /^[0-9a-f]{64}$/;
const KEY_ID = /^[0-9a-f]{16}$/;
export const PRIVATE_KEY_FILE = 'tend-signing.key';
export const PUBLIC_KEY_FILE = 'tend-signing.pub';

/** A signature as the registry stores it (JSON, snake_case). */
export interface ModelSignatureRecord {
  key_id: string;
  algorithm: 'ed25519';
  /** Lowercase hex SHA-256 of the model file. */
  sha256: string;
  /** base64 ed25519 signature of the canonical message. */
  signature: string;
  /** ISO 8601; not signed. */
  signed_at: string;
}

export interface SigningKeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
  keyId: string;
}

/** Why a signature check failed: `check` is stable (for logs and tests), `reason` is for people. */
export type SignatureCheck = 'unsigned' | 'malformed' | 'untrusted' | 'hash-mismatch' | 'bad-signature';

export type SignatureVerdict =
  { ok: true; keyId: string } | { ok: false; check: SignatureCheck; reason: string };

/** The message an ed25519 key signs for a model file. */
export function signedMessage(sha256Hex: string): Buffer {
  return Buffer.from(`${DOMAIN}\nsha256:${normalizeSha256(sha256Hex)}\n`, 'utf8');
}

function normalizeSha256(sha256Hex: string): string {
  const hex = sha256Hex.toLowerCase();
  if (!SHA256_HEX.test(hex)) throw errors.invalidArgument('a model hash must be 64 hex characters (SHA-256)');
  return hex;
}

/** Key id: the first 16 hex characters of the SHA-256 of the raw 32-byte public key. */
export function keyIdOf(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw errors.invalidArgument('not an ed25519 public key');
  return createHash('sha256').update(Buffer.from(jwk.x, 'base64url')).digest('hex').slice(0, 16);
}

/** A fresh ed25519 key pair as PEM (PKCS#8 private, SPKI public) with its key id. */
export function generateSigningKeyPair(): SigningKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    keyId: keyIdOf(publicKey),
  };
}

function ed25519PrivateKey(pem: string, source: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw errors.invalidArgument(`${source} is not a PEM private key`, { cause: err });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw errors.invalidArgument(
      `${source} is not an ed25519 key (it is ${key.asymmetricKeyType ?? 'unknown'}); tend signs with ed25519 keys (tend keygen)`,
    );
  }
  return key;
}

/** The ed25519 public key in `pem`, with its key id; refuses private keys and other algorithms. */
export function parsePublicKey(
  pem: string,
  source = 'the public key',
): { keyId: string; publicKeyPem: string } {
  if (pem.includes('PRIVATE KEY')) {
    throw errors.invalidConfig(`${source} holds a private key; trust only public keys (tend-signing.pub)`);
  }
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (err) {
    throw errors.invalidConfig(`${source} is not a PEM public key`, { cause: err });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw errors.invalidConfig(
      `${source} is not an ed25519 key (it is ${key.asymmetricKeyType ?? 'unknown'}); tend verifies ed25519 keys only`,
    );
  }
  return { keyId: keyIdOf(key), publicKeyPem: key.export({ format: 'pem', type: 'spki' }).toString() };
}

/**
 * Sign a model file by its SHA-256.
 * @example signModel(version.sha256, readFileSync('keys/tend-signing.key', 'utf8'))
 */
export function signModel(
  sha256Hex: string,
  privateKeyPem: string,
  signedAt: Date = new Date(),
): ModelSignatureRecord {
  const key = ed25519PrivateKey(privateKeyPem, 'the signing key');
  const sha256 = normalizeSha256(sha256Hex);
  return {
    key_id: keyIdOf(createPublicKey(key)),
    algorithm: 'ed25519',
    sha256,
    signature: sign(null, signedMessage(sha256), key).toString('base64'),
    signed_at: signedAt.toISOString(),
  };
}

/** Check a stored signature (or its absence) against the file's hash and the trusted keys (key id → PEM). */
export function verifyModelSignature(
  record: ModelSignatureRecord | null | undefined,
  sha256Hex: string,
  trustedKeys: ReadonlyMap<string, string>,
): SignatureVerdict {
  const fileHash = normalizeSha256(sha256Hex);
  if (record == null) return { ok: false, check: 'unsigned', reason: 'the model is not signed' };
  if (
    record.algorithm !== 'ed25519' ||
    typeof record.key_id !== 'string' ||
    !KEY_ID.test(record.key_id) ||
    typeof record.sha256 !== 'string' ||
    typeof record.signature !== 'string'
  ) {
    return {
      ok: false,
      check: 'malformed',
      reason: 'the signature record is malformed (expected an ed25519 record from tend sign)',
    };
  }
  if (record.sha256.toLowerCase() !== fileHash) {
    return {
      ok: false,
      check: 'hash-mismatch',
      reason: `the signature is for sha256 ${record.sha256.slice(0, 12)}…, the file is ${fileHash.slice(0, 12)}…`,
    };
  }
  const pem = trustedKeys.get(record.key_id);
  if (pem === undefined) {
    return {
      ok: false,
      check: 'untrusted',
      reason: `signed with key ${record.key_id}, which is not among the trusted keys`,
    };
  }
  let valid = false;
  try {
    valid = verify(
      null,
      signedMessage(fileHash),
      createPublicKey(pem),
      Buffer.from(record.signature, 'base64'),
    );
  } catch {
    valid = false; // an unparsable signature is simply not a valid one
  }
  if (!valid)
    return {
      ok: false,
      check: 'bad-signature',
      reason: `the signature does not verify with key ${record.key_id}`,
    };
  return { ok: true, keyId: record.key_id };
}

/** The refusal of the `require-signature` trust policy, naming the model and the failed check. */
export function signatureRefusedError(
  model: string,
  version: number | string,
  verdict: Extract<SignatureVerdict, { ok: false }>,
): TendError {
  return errors.forbidden(
    `model '${model}' version ${version} refused by trust policy require-signature (${verdict.check}): ${verdict.reason}`,
  );
}

/** Trusted public keys from every *.pub and *.pem file of `dir`, by key id. */
export function loadTrustedKeys(dir: string): Map<string, string> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw errors.invalidConfig(`trusted keys folder '${dir}' does not exist`);
  }
  const keys = new Map<string, string>();
  for (const name of readdirSync(dir).sort()) {
    if (!name.endsWith('.pub') && !name.endsWith('.pem')) continue;
    const path = join(dir, name);
    if (!statSync(path).isFile()) continue;
    const { keyId, publicKeyPem } = parsePublicKey(readFileSync(path, 'utf8'), path);
    keys.set(keyId, publicKeyPem);
  }
  return keys;
}

/** Read an ed25519 private key file (PEM); refuses other key types. */
export function readSigningKey(path: string): string {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    throw errors.invalidArgument(`cannot read signing key '${path}'`, { cause: err });
  }
  ed25519PrivateKey(pem, path);
  return pem;
}

/**
 * Write a new key pair into `dir` (created if missing): tend-signing.key (mode 0600) and tend-signing.pub.
 * Refuses to overwrite either file (TEND_CONFLICT): losing a signing key is not undoable.
 */
export function writeKeyPair(dir: string): { keyId: string; privateKeyPath: string; publicKeyPath: string } {
  const privateKeyPath = join(dir, PRIVATE_KEY_FILE);
  const publicKeyPath = join(dir, PUBLIC_KEY_FILE);
  for (const path of [privateKeyPath, publicKeyPath]) {
    if (existsSync(path))
      throw errors.conflict(
        `'${path}' already exists; move it away or choose another --out folder`,
        FIX_IN_MESSAGE,
      );
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const pair = generateSigningKeyPair();
  // 'wx' fails rather than overwrite should a file appear between the check and the write.
  writeFileSync(privateKeyPath, pair.privateKeyPem, { mode: 0o600, flag: 'wx' });
  writeFileSync(publicKeyPath, pair.publicKeyPem, { mode: 0o644, flag: 'wx' });
  return { keyId: pair.keyId, privateKeyPath, publicKeyPath };
}
