/** The registry layer: content-addressed model files + metadata store, and repositories served in place. */
export { Registry } from './registry.js';
export type { PushOptions, PushResult, RegistryOptions } from './registry.js';
export type { DeploymentWriteOptions } from './registry.js';
export type {
  DeploymentChange,
  DeploymentHistoryEntry,
  DeploymentHistoryOptions,
  DeploymentRecord,
  DeploymentReference,
  DeploymentStore,
} from './deployment-store.js';
export type {
  AliasChange,
  AliasMove,
  ModelRecord,
  ModelUpdate,
  NewVersion,
  RegistryStore,
  StoredModelInfo,
  VersionRecord,
  VersionStatus,
} from './store.js';
export { hashFile } from './blob-store.js';
export type { BlobForm, OpenedBlob, ResealResult } from './sealed-blobs.js';
export type { BlobFile, FileDigest, StoredBlob } from './blob-store.js';
export type { GcOptions, GcRemovedFile, GcResult } from './blob-gc.js';
export type { ImportedVersion, LifecycleStore, LiveBlobs, ModelImport, ModelSnapshot } from './lifecycle-store.js';
export type { ExportResult, ImportOptions, ImportResult, ModelArchiveManifest } from './model-archive.js';
export { listTar, readTarEntryBuffer, TarWriter } from './tar.js';
export type { TarEntry } from './tar.js';
export type { KyselyStoreOptions } from './kysely-store.js';
export type { SqliteStoreOptions } from './sqlite-store.js';
export type { RegistryDatabase } from './schema.js';
export type { VersionRef } from './names.js';
export { scanRepository, scanRepositoryModel } from './repository.js';
export type { RepositoryModel, RepositoryScan } from './repository.js';
export type { ArtifactRecord } from './artifact-store.js';
export type { EpochMetrics, NewRun, RunFinish, RunListOptions, RunRecord, RunStatus, RunStore } from './run-store.js';
export { compareRunRecords } from './run-comparison.js';
export type { ComparisonRow, RunComparison } from './run-comparison.js';
export type { NewToken, TokenRecord, TokenStore } from './token-store.js';
export type { AuditEntry, AuditOutcome, AuditQuery, AuditRecord, AuditStore } from './audit-store.js';
export type { RecordStores } from './record-stores.js';
