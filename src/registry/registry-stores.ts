/**
 * Every store of the registry database as one bundle of interfaces: what the Registry is built
 * from. An opener makes all of them on one connection (openSqliteStores; a PostgreSQL opener would
 * do the same), so that they share one write queue and one close; the Registry sees interfaces only.
 */
import type { ArtifactStore } from './artifact-store.js';
import type { AuditStore } from './audit-store.js';
import type { DeploymentStore } from './deployment-store.js';
import type { LifecycleStore } from './lifecycle-store.js';
import type { RunStore } from './run-store.js';
import type { ModelStore } from './store.js';
import type { StudyStore } from './study-store.js';
import type { TokenStore } from './token-store.js';

export interface RegistryStores {
  /** Models, versions and aliases. */
  models: ModelStore;
  /** An endpoint's routes and their history. */
  deployments: DeploymentStore;
  /** Archive, delete, references, snapshots for export and import, blob leases. */
  lifecycle: LifecycleStore;
  /** Files attached to versions. */
  artifacts: ArtifactStore;
  /** Training and update runs. */
  runs: RunStore;
  /** API tokens (hashes only). */
  tokens: TokenStore;
  /** The append-only log of management actions. */
  audit: AuditStore;
  /** Tuning studies and their trials. */
  studies: StudyStore;
  /** Close the database under every store (idempotent). */
  close(): Promise<void>;
}
