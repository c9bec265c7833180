/**
 * The models part of the metadata store behind the registry (models, versions, aliases), as an
 * interface so that SQLite (the default) and PostgreSQL implement the same contract and pass the
 * same suite (`store.case.ts`). The other stores sit beside it in RegistryStores (registry-stores.ts).
 *
 * Every method throws TendError: TEND_MODEL_NOT_FOUND / TEND_VERSION_NOT_FOUND / TEND_ALIAS_NOT_FOUND
 * for unknown names, TEND_INVALID_ARGUMENT for names that break the rules in `names.ts`.
 * Records use snake_case keys: they leave the process as JSON unchanged.
 */
import type { ModelSignature } from '../core/signature.js';
import type { AuditEntry } from './audit-store.js';
import type { AliasMove, ModelRecord, StoredModelInfo, VersionRecord } from './model-records.js';

export type {
  AliasMove,
  ModelRecord,
  StoredModelInfo,
  VersionRecord,
  VersionStatus,
} from './model-records.js';

export interface AliasChange {
  from: number | null;
  to: number;
}

/** A version to add; the store assigns its number. */
export interface NewVersion {
  name: string;
  sha256: string;
  size_bytes: number;
  signature: ModelSignature;
  model_info: StoredModelInfo;
  source: string;
  created_by: string;
  metrics: Record<string, unknown>;
  tags: Record<string, string>;
  parent_version: number | null;
  run_id: string | null;
  /** Sets the model's description (on creation, or replacing the old one). */
  description?: string;
  /** Aliases moved to the new version in the same transaction. */
  aliases?: readonly string[];
  /** Who the alias moves are recorded for. */
  actor: string;
  /**
   * The audit entry for this version, appended in the same transaction as the version row and its
   * alias moves: an entry saying 'ok' exists exactly when they committed.
   */
  audit?: (created: VersionRecord) => AuditEntry;
}

export interface ModelUpdate {
  description?: string;
  tags?: Record<string, string>;
}

/**
 * Models, versions and aliases. Deployments, lifecycle (archive, delete, leases, snapshots),
 * artifacts, runs, tokens and the audit log have stores of their own (see RegistryStores).
 */
export interface ModelStore {
  /** Every model, by name. */
  listModels(): Promise<ModelRecord[]>;
  getModel(name: string): Promise<ModelRecord>;
  /** Change a model's description and/or tags (tags replace the old map). */
  updateModel(name: string, update: ModelUpdate): Promise<ModelRecord>;
  /**
   * Add a version, creating the model on its first version. Version numbers grow per model and are
   * never reused; concurrent calls get distinct numbers. The version row, every one of its alias
   * moves and its audit entry commit in one transaction: all of them or none.
   */
  createVersion(input: NewVersion): Promise<VersionRecord>;
  /** Versions of a model, oldest first. */
  listVersions(name: string): Promise<VersionRecord[]>;
  getVersion(name: string, version: number): Promise<VersionRecord>;
  /** The highest version not archived (TEND_VERSION_NOT_FOUND when the model has none). */
  latestVersion(name: string): Promise<VersionRecord>;
  /** Point an alias at a version, recording the move (TEND_CONFLICT when the version is archived). */
  setAlias(name: string, alias: string, version: number, actor: string): Promise<AliasChange>;
  /** Delete an alias, recording the move (TEND_ALIAS_NOT_FOUND when absent). */
  removeAlias(name: string, alias: string, actor: string): Promise<void>;
  /** The version an alias points at (TEND_ALIAS_NOT_FOUND when absent). */
  getAlias(name: string, alias: string): Promise<number>;
  listAliases(name: string): Promise<Record<string, number>>;
  /** Every move of an alias, oldest first (kept after the alias is removed). */
  aliasHistory(name: string, alias: string): Promise<AliasMove[]>;
}
