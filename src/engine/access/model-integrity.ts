/**
 * What a model file must pass before it loads: the size limit, for registry versions the sha256
 * recorded at push (a file changed on disk is refused), and under the trust policy
 * `require-signature` a valid ed25519 signature by a trusted key. Signatures are kept as the
 * version's 'signature' artifact (`tend sign`).
 */
import { statSync } from 'node:fs';
import type { LimitsConfig, SecurityConfig } from '../../core/config.js';
import { errors, isTendError } from '../../core/errors.js';
import type { Registry, VersionRecord } from '../../registry/index.js';
import { hashFile } from '../../registry/index.js';
import {
  loadTrustedKeys,
  readSigningKey,
  signatureRefusedError,
  signModel,
  verifyModelSignature,
  writeKeyPair,
  type ModelSignatureRecord,
  type SignatureVerdict,
} from '../../security/index.js';

export const SIGNATURE_KIND = 'signature';

function checkSize(label: string, path: string, limits: LimitsConfig): void {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (err) {
    throw errors.invalidModel(
      `${label}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  if (size > limits.max_model_bytes)
    throw errors.invalidModel(
      `${label} is ${size} bytes, more than limits.max_model_bytes (${limits.max_model_bytes}); refusing to load`,
    );
}

/** The version's stored signature record, or null. */
export async function readSignature(
  registry: Registry,
  record: VersionRecord,
): Promise<ModelSignatureRecord | null> {
  const artifact = await registry.artifacts.read(record.name, record.version, SIGNATURE_KIND);
  if (artifact === null) return null;
  try {
    return JSON.parse(artifact.bytes.toString('utf8')) as ModelSignatureRecord;
  } catch {
    return {
      key_id: '',
      algorithm: 'ed25519',
      sha256: '',
      signature: '',
      signed_at: '',
    } as ModelSignatureRecord;
  }
}

/** Hash the stored file and check it against the registry, then the signature against `trustedKeysDir`. */
export async function verifyVersionFile(
  registry: Registry,
  record: VersionRecord,
  trustedKeysDir: string | undefined,
): Promise<{ sha256_ok: boolean; signature: SignatureVerdict | null }> {
  // A missing encryption key is a configuration error to report, not a damaged file.
  const sha256Ok = await registry.files.read(record).then(
    () => true,
    (err: unknown) => {
      if (isTendError(err) && err.code === 'TEND_INVALID_CONFIG') throw err;
      return false;
    },
  );
  if (trustedKeysDir === undefined) return { sha256_ok: sha256Ok, signature: null };
  const signature = await readSignature(registry, record);
  const trusted = loadTrustedKeys(trustedKeysDir);
  // The signature covers the hash recorded at push; a file changed since is caught by sha256_ok.
  return { sha256_ok: sha256Ok, signature: verifyModelSignature(signature, record.sha256, trusted) };
}

/**
 * The guard a registry version runs before each load. A file encrypted at rest comes back decrypted
 * and checked, for the runtime to load from memory; a plaintext file is hashed where it lies.
 */
export function registryLoadGuard(
  registry: Registry,
  record: VersionRecord,
  limits: LimitsConfig,
  security: SecurityConfig,
): () => Promise<Uint8Array | undefined> {
  return async () => {
    const label = `${record.name}:${record.version}`;
    const path = registry.files.path(record);
    checkSize(label, path, limits);
    let bytes: Uint8Array | undefined;
    if (await registry.files.isSealed(record)) {
      bytes = await registry.files.read(record);
    } else {
      const digest = await hashFile(path).catch((err: unknown) => {
        throw errors.invalidModel(`${label}: cannot read its model file (${(err as Error).message})`);
      });
      if (digest.sha256 !== record.sha256) {
        throw errors.invalidModel(
          `${label}: the model file does not match the sha256 recorded at push (expected ${record.sha256.slice(0, 16)}…, found ${digest.sha256.slice(0, 16)}…); it was changed on disk, refusing to load`,
        );
      }
    }
    if (security.trust_policy === 'require-signature') {
      if (security.trusted_keys_dir === undefined)
        throw errors.invalidConfig('security.trust_policy require-signature needs security.trusted_keys_dir');
      const verdict = verifyModelSignature(
        await readSignature(registry, record),
        record.sha256,
        loadTrustedKeys(security.trusted_keys_dir),
      );
      if (!verdict.ok) throw signatureRefusedError(record.name, record.version, verdict);
    }
    return bytes;
  };
}

/** The guard of a repository model: the size limit; signatures apply to registry versions only. */
export function repositoryLoadGuard(
  label: string,
  path: string,
  limits: LimitsConfig,
  security: SecurityConfig,
): () => Promise<void> {
  return () => {
    checkSize(label, path, limits);
    if (security.trust_policy === 'require-signature') {
      return Promise.reject(
        errors.forbidden(
          `${label} is served from a repository and cannot be verified: trust policy require-signature loads signed registry versions only (tend push, then tend sign)`,
        ),
      );
    }
    return Promise.resolve();
  };
}

/**
 * `tend sign`: sign the version's recorded sha256 with the private key and store the record as its
 * 'signature' artifact.
 */
export async function signVersion(
  registry: Registry,
  name: string,
  versionRef: string | undefined,
  keyPath: string,
  actor?: string,
): Promise<{ name: string; version: number; key_id: string; sha256: string }> {
  const record = await registry.models.resolveVersion(name, versionRef ?? 'latest');
  const privateKeyPem = readSigningKey(keyPath);
  if (!(await registry.files.verify(record)))
    throw errors.invalidModel(
      `${record.name}:${record.version}: the stored file does not match its recorded sha256; refusing to sign a changed file`,
    );
  const signature = signModel(record.sha256, privateKeyPem);
  await registry.artifacts.attach(
    record.name,
    record.version,
    SIGNATURE_KIND,
    new TextEncoder().encode(JSON.stringify(signature)),
    {
      mediaType: 'application/json',
      meta: { key_id: signature.key_id, algorithm: signature.algorithm },
      ...(actor !== undefined ? { actor } : {}),
    },
  );
  return { name: record.name, version: record.version, key_id: signature.key_id, sha256: record.sha256 };
}

/** `tend keygen`: an ed25519 key pair in `dir` (the private key readable by its owner only). */
export function generateSigningKeys(dir: string): {
  key_id: string;
  private_key: string;
  public_key: string;
} {
  const written = writeKeyPair(dir);
  return { key_id: written.keyId, private_key: written.privateKeyPath, public_key: written.publicKeyPath };
}
