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
export { findDeploymentReferences, KyselyDeployments } from './kysely-deployments.js';
export type {
  AliasChange,
  AliasMove,
  ModelRecord,
  ModelUpdate,
  ModelStore,
  NewVersion,
  StoredModelInfo,
  VersionRecord,
  VersionStatus,
} from './store.js';
export { BlobStore, hashFile } from './blob-store.js';
export { SealedBlobs } from './sealed-blobs.js';
export type { BlobForm, OpenedBlob, ResealResult } from './sealed-blobs.js';
export type { BlobFile, FileDigest, StoredBlob } from './blob-store.js';
export { collectGarbage, DEFAULT_GC_MIN_AGE_SECONDS, PUSH_LEASE_MS } from './blob-gc.js';
export type { GcOptions, GcRemovedFile, GcResult } from './blob-gc.js';
export type { ImportedVersion, LifecycleStore, LiveBlobs, ModelImport, ModelSnapshot } from './lifecycle-store.js';
export { exportModelArchive, importModelArchive, MANIFEST_FILE } from './model-archive.js';
export type { ExportResult, ImportOptions, ImportResult, ModelArchiveManifest } from './model-archive.js';
export { listTar, readTarEntry, readTarEntryBuffer, TarWriter } from './tar.js';
export type { TarEntry } from './tar.js';
export { KyselyModelStore, migrateRegistry } from './kysely-store.js';
export { kyselyRegistryStores } from './kysely-stores.js';
export type { KyselyRegistryStores, KyselyStoreOptions } from './kysely-stores.js';
export type { RegistryStores } from './registry-stores.js';
export { openSqliteStores } from './sqlite-store.js';
export type { SqliteStoreOptions } from './sqlite-store.js';
export { REGISTRY_MIGRATIONS, registryMigrationProvider } from './schema.js';
export type { RegistryDatabase } from './schema.js';
export {
  assertAliasName,
  assertModelName,
  isValidAliasName,
  isValidModelName,
  LATEST,
  parseVersionRef,
} from './names.js';
export type { VersionRef } from './names.js';
export { CONFIG_FILE, MODEL_FILE, scanRepository, scanRepositoryModel } from './repository.js';
export type { RepositoryModel, RepositoryScan } from './repository.js';
export type { ArtifactRecord } from './artifact-store.js';
export type { EpochMetrics, NewRun, RunFinish, RunListOptions, RunRecord, RunStatus, RunStore } from './run-store.js';
export { KyselyRuns, newRunId } from './kysely-runs.js';
export { compareRunRecords } from './run-comparison.js';
export type { ComparisonRow, RunComparison } from './run-comparison.js';
export type { NewToken, TokenRecord, TokenStore } from './token-store.js';
export { KyselyTokens } from './kysely-tokens.js';
export type { AuditEntry, AuditOutcome, AuditQuery, AuditRecord, AuditStore } from './audit-store.js';
export { KyselyAudit } from './kysely-audit.js';
export { AUDIT_APPEND_ONLY_MESSAGE } from './security-schema.js';
