/**
 * The registry layer as other layers see it: the Registry with its parts (models, deployments,
 * runs, tokens, audit, artifacts, archives, files), the records they return, and repositories
 * served in place. Store implementations and their helpers stay inside the layer.
 */
export { Registry } from './registry.js';
export type { RegistryOptions } from './registry.js';
export type { RegistryStores } from './registry-stores.js';
export type { RegistryModels, PushOptions, PushResult } from './registry-models.js';
export type { RegistryDeployments, DeploymentWriteOptions } from './registry-deployments.js';
export type { RegistryRuns } from './registry-runs.js';
export type { RegistryTokens } from './registry-tokens.js';
export type { RegistryAuditLog } from './registry-audit.js';
export type { RegistryArtifacts } from './registry-artifacts.js';
export type { RegistryArchives } from './registry-archives.js';
export type { RegistryFiles } from './registry-files.js';
export type {
  AliasChange,
  AliasMove,
  ModelRecord,
  ModelUpdate,
  StoredModelInfo,
  VersionRecord,
  VersionStatus,
} from './store.js';
export type {
  DeploymentHistoryEntry,
  DeploymentHistoryOptions,
  DeploymentRecord,
  DeploymentReference,
} from './deployment-store.js';
export type { EpochMetrics, NewRun, RunFinish, RunListOptions, RunRecord, RunStatus } from './run-store.js';
export { compareRunRecords } from './run-comparison.js';
export type {
  NewStudy,
  StudyRecord,
  StudyStore,
  StudySummary,
  StudyTrialRecord,
  StudyTrialState,
  TrialFinish,
} from './study-store.js';
export type { ComparisonRow, RunComparison } from './run-comparison.js';
export type { NewToken, TokenRecord } from './token-store.js';
export type { AuditEntry, AuditOutcome, AuditQuery, AuditRecord } from './audit-store.js';
export type { ArtifactRecord } from './artifact-store.js';
export type { ExportResult, ImportOptions, ImportResult } from './model-archive.js';
export { DEFAULT_GC_MIN_AGE_SECONDS } from './blob-gc.js';
export type { GcOptions, GcRemovedFile, GcResult } from './blob-gc.js';
export { hashFile } from './blob-store.js';
export type { FileDigest } from './blob-store.js';
export type { ResealResult } from './sealed-blobs.js';
export { isValidAliasName, isValidModelName, LATEST, parseVersionRef } from './names.js';
export type { VersionRef } from './names.js';
export { scanRepository, scanRepositoryModel } from './repository.js';
export type { RepositoryModel, RepositoryScan } from './repository.js';
export { listTar, readTarEntryBuffer, TarWriter } from './tar.js';
export type { TarEntry } from './tar.js';
