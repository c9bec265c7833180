/**
 * The lifecycle part of the metadata store: archive and delete versions and models, list what
 * points at a version, snapshot a model for export and write one back on import, and the leases
 * that let garbage collection run while pushes are in flight. Records are snake_case JSON.
 */
import type { ArtifactRecord } from './artifact-store.js';
import type { AliasMove, ModelRecord, VersionRecord } from './model-records.js';
import type { RunRecord } from './run-store.js';

/** A model as it is exported: every row an archive needs, read in one transaction. */
export interface ModelSnapshot {
  name: string;
  description: string;
  tags: Record<string, string>;
  created_at: string;
  /** The number the next version would get (never lower than a deleted version's + 1). */
  next_version: number;
  /** Oldest first, archived ones included. */
  versions: VersionRecord[];
  aliases: Record<string, number>;
  /** Every move of every alias, removed aliases included, in the order they happened per alias. */
  alias_history: AliasMove[];
}

/** A version written back by an import: its number and metadata are kept as they were. */
export type ImportedVersion = Omit<VersionRecord, 'name' | 'status' | 'archived' | 'aliases'>;

/** A model to create whole, in one transaction (import). */
export interface ModelImport {
  name: string;
  description: string;
  tags: Record<string, string>;
  created_at: string;
  next_version: number;
  versions: ImportedVersion[];
  aliases: Record<string, number>;
  alias_history: AliasMove[];
  /** Files attached to the versions (their bytes already in the blob store), kept as they were. */
  artifacts?: ImportedArtifact[];
  /** The model's training runs; a run id the registry already holds is left as it is. */
  runs?: ImportedRun[];
  /** Recorded on aliases whose history does not say who set them. */
  actor: string;
}

/** An artifact written back by an import (of the imported model: no name). */
export type ImportedArtifact = Omit<ArtifactRecord, 'name'>;

/** A run written back by an import (of the imported model: no model name). */
export type ImportedRun = Omit<RunRecord, 'model_name'>;

/** What the garbage collector must keep, read under the blob lock. */
export interface LiveBlobs {
  /** sha256 of every version row (all models, archived versions included). */
  referenced: ReadonlySet<string>;
  /** sha256 under an unexpired lease: a push or import is writing or about to register it. */
  leased: ReadonlySet<string>;
}

export interface LifecycleStore {
  /**
   * Mark a version archived (idempotent).
   * @throws TEND_CONFLICT while something points at it (see versionReferences), 404 codes.
   */
  archiveVersion(name: string, version: number, actor: string): Promise<VersionRecord>;
  /** Serve an archived version again (idempotent). @throws 404 codes */
  unarchiveVersion(name: string, version: number): Promise<VersionRecord>;
  /**
   * Remove a version's row (its number is never given out again); returns what was removed.
   * @throws TEND_CONFLICT while something points at it, 404 codes.
   */
  deleteVersion(name: string, version: number): Promise<VersionRecord>;
  /**
   * Remove a model with its versions, aliases and histories, remembering its next version number
   * for a model created later under the same name; returns the model as it was.
   * @throws TEND_CONFLICT while an alias or a deployment points at any of its versions, TEND_MODEL_NOT_FOUND.
   */
  deleteModel(name: string, actor: string): Promise<ModelRecord>;
  /**
   * What points at a version now, one phrase each: "alias 'champion'", "deployment 'digits' canary",
   * "deployment 'digits' champion (via 'latest')". Empty when nothing does.
   * @throws TEND_MODEL_NOT_FOUND, TEND_VERSION_NOT_FOUND
   */
  versionReferences(name: string, version: number): Promise<string[]>;
  /** Everything an export writes, read consistently. @throws TEND_MODEL_NOT_FOUND */
  snapshotModel(name: string): Promise<ModelSnapshot>;
  /**
   * Create a model with its versions, aliases and alias history in one transaction.
   * @throws TEND_CONFLICT when the name is taken, TEND_INVALID_ARGUMENT for invalid names or references.
   */
  importModel(input: ModelImport): Promise<ModelRecord>;
  /** Protect content `sha256` from garbage collection until released or `ttlMs` passes; returns the lease id. */
  leaseBlob(sha256: string, ttlMs: number): Promise<string>;
  /** Drop a lease (unknown ids are ignored). */
  releaseBlobLease(id: string): Promise<void>;
  /**
   * Run `fn` holding the blob lock (no lease can be taken meanwhile), with what must be kept.
   * Expired leases are dropped first.
   */
  withLiveBlobs<T>(fn: (live: LiveBlobs) => Promise<T>): Promise<T>;
}
