/**
 * Attach a file to a model version (the monitoring reference data set, …) and read it back: the
 * bytes go to the blob store under their sha256 like model files, guarded by a lease until the
 * row exists (sealed when a keyring is configured); reading decrypts and checks the bytes against
 * the recorded hash.
 */
import { errors } from '../core/errors.js';
import type { ArtifactRecord } from './artifact-store.js';
import type { SealedBlobs } from './sealed-blobs.js';
import type { RegistryStores } from './registry-stores.js';

const LEASE_MS = 10 * 60_000;

/** The stores an artifact write touches: the version it belongs to, its blob lease, its row. */
export type ArtifactStores = Pick<RegistryStores, 'models' | 'lifecycle' | 'artifacts'>;

export interface ArtifactInput {
  mediaType: string;
  meta?: Record<string, unknown>;
  actor: string;
}

/** Store `bytes` and record them as the version's artifact of `kind` (replacing the previous one). */
export async function attachArtifact(
  deps: { stores: ArtifactStores; sealed: SealedBlobs },
  name: string,
  version: number,
  kind: string,
  bytes: Uint8Array,
  input: ArtifactInput,
): Promise<ArtifactRecord> {
  await deps.stores.models.getVersion(name, version); // 404 before anything is written
  const digest = deps.sealed.digestOf(bytes);
  const lease = await deps.stores.lifecycle.leaseBlob(digest.sha256, LEASE_MS);
  try {
    await deps.sealed.putBytes(bytes);
    return await deps.stores.artifacts.putArtifact({
      name,
      version,
      kind,
      sha256: digest.sha256,
      size_bytes: digest.size_bytes,
      media_type: input.mediaType,
      meta: input.meta ?? {},
      created_by: input.actor,
    });
  } finally {
    await deps.stores.lifecycle.releaseBlobLease(lease);
  }
}

/** The version's artifact of `kind` with its bytes, or null when it has none. */
export async function readArtifact(
  deps: { stores: ArtifactStores; sealed: SealedBlobs },
  name: string,
  version: number,
  kind: string,
): Promise<{ record: ArtifactRecord; bytes: Buffer } | null> {
  const record = await deps.stores.artifacts.getArtifact(name, version, kind);
  if (record === null) return null;
  const opened = await deps.sealed.read(
    record.sha256,
    `the ${kind} file of model '${name}' version ${version}`,
  );
  if (!opened.matches) {
    throw errors.internal(
      `the ${kind} file of model '${name}' version ${version} is damaged (sha256 mismatch); attach it again`,
    );
  }
  const bytes = opened.plain;
  return { record, bytes };
}
