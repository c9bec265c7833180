/** `registry.artifacts`: files attached to a version (one per kind), stored like model files. */
import type { ArtifactRecord } from './artifact-store.js';
import { attachArtifact, readArtifact, type ArtifactInput, type ArtifactStores } from './artifacts.js';
import type { SealedBlobs } from './sealed-blobs.js';

/** Artifacts of the registry's versions. */
export class RegistryArtifacts {
  constructor(
    private readonly stores: ArtifactStores,
    private readonly sealed: SealedBlobs,
    /** Who attaches when the input names nobody. */
    private readonly actor: string,
  ) {}

  /**
   * Attach a file to a version (one per kind; a new one replaces the old), e.g. the monitoring
   * reference data set as kind 'reference'. @throws TendError 404 codes, TEND_INVALID_ARGUMENT
   */
  attach(
    name: string,
    version: number,
    kind: string,
    bytes: Uint8Array,
    input: Omit<ArtifactInput, 'actor'> & { actor?: string },
  ): Promise<ArtifactRecord> {
    return attachArtifact({ stores: this.stores, sealed: this.sealed }, name, version, kind, bytes, {
      ...input,
      actor: input.actor ?? this.actor,
    });
  }

  /** A version's artifact of `kind` with its bytes (hash checked), or null. @throws TendError 404 codes */
  read(
    name: string,
    version: number,
    kind: string,
  ): Promise<{ record: ArtifactRecord; bytes: Buffer } | null> {
    return readArtifact({ stores: this.stores, sealed: this.sealed }, name, version, kind);
  }

  /** Every artifact of a model (of one version when given). @throws TendError 404 codes */
  list(name: string, version?: number): Promise<ArtifactRecord[]> {
    return this.stores.artifacts.listArtifacts(name, version);
  }
}
