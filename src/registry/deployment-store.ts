/**
 * The deployment part of the metadata store: an endpoint's routes (which versions answer its
 * traffic) and the history of every change to them. Records are snake_case JSON.
 */
import type {
  DeploymentAction,
  DeploymentRoutes,
  DeploymentRoutesInput,
  RouteName,
} from '../core/deployment.js';

export interface DeploymentRecord {
  /** The model name the routes serve. */
  endpoint: string;
  routes: DeploymentRoutes;
  /** The history id of the change that produced this state; pass it back as `expected_revision`. */
  revision: number;
  updated_at: string;
  updated_by: string;
}

export interface DeploymentHistoryEntry {
  /** 1, 2, ... per endpoint. */
  id: number;
  endpoint: string;
  at: string;
  actor: string;
  action: DeploymentAction;
  /** Routes before the change; null when the endpoint had none. */
  before: DeploymentRoutes | null;
  /** Routes after the change; null when the deployment was deleted. */
  after: DeploymentRoutes | null;
  reason: string | null;
}

export interface DeploymentChange {
  actor: string;
  action: DeploymentAction;
  /** Why (shown in the history; automatic actions say which threshold was crossed). */
  reason?: string;
  /**
   * Write only if the deployment is still at this revision (null: only if there is none), else
   * TEND_CONFLICT. Lets an automatic rollback never overwrite a change made after it looked.
   */
  expected_revision?: number | null;
}

export interface DeploymentHistoryOptions {
  /** The newest `limit` entries (default: all). */
  limit?: number;
}

/** A place in an endpoint's routes that points at a version, directly or through an alias or 'latest'. */
export interface DeploymentReference {
  endpoint: string;
  route: RouteName;
  /** The ref as written: '3', 'champion', 'latest'. */
  ref: string;
  /** Index into experiment.variants. */
  variant?: number;
}

export interface DeploymentStore {
  /** The endpoint's routes, or null when it has none. @throws TEND_MODEL_NOT_FOUND */
  getDeployment(endpoint: string): Promise<DeploymentRecord | null>;
  /** Every deployment, by endpoint. */
  listDeployments(): Promise<DeploymentRecord[]>;
  /**
   * Validate and write an endpoint's routes with a history entry, in one transaction. Writing the
   * routes it already has changes nothing and adds no entry.
   * @throws TEND_INVALID_ARGUMENT (bad routes, action, actor, incompatible signature),
   * TEND_MODEL_NOT_FOUND, TEND_VERSION_NOT_FOUND / TEND_ALIAS_NOT_FOUND (naming the route),
   * TEND_CONFLICT (archived version, revision moved on).
   */
  putDeployment(
    endpoint: string,
    routes: DeploymentRoutesInput,
    change: DeploymentChange,
  ): Promise<DeploymentRecord>;
  /** Remove an endpoint's routes (history kept); returns what was removed. @throws TEND_NOT_FOUND when it has none */
  deleteDeployment(endpoint: string, change: DeploymentChange): Promise<DeploymentRecord>;
  /** Changes to an endpoint's routes, newest first. @throws TEND_MODEL_NOT_FOUND */
  deploymentHistory(endpoint: string, options?: DeploymentHistoryOptions): Promise<DeploymentHistoryEntry[]>;
  /** Where deployments point at this version now (for delete and archive protection). @throws TEND_MODEL_NOT_FOUND */
  deploymentReferences(name: string, version: number): Promise<DeploymentReference[]>;
}
