/** `registry.deployments`: an endpoint's routes and their history; writes are audited. */
import type { DeploymentAction, DeploymentRoutesInput } from '../core/deployment.js';
import type { AuditTrail } from './audit-trail.js';
import type {
  DeploymentChange,
  DeploymentHistoryEntry,
  DeploymentHistoryOptions,
  DeploymentRecord,
  DeploymentReference,
  DeploymentStore,
} from './deployment-store.js';

/** Who changes a deployment, how and why (recorded in its history). */
export interface DeploymentWriteOptions {
  action: DeploymentAction;
  /** Default: the registry's actor. */
  actor?: string;
  reason?: string;
  /** Write only while the deployment is at this revision (null: while it has none), else TEND_CONFLICT. */
  expectedRevision?: number | null;
}

/** Deployments of the registry: routes per endpoint and their history. */
export class RegistryDeployments {
  constructor(
    private readonly store: DeploymentStore,
    private readonly trail: AuditTrail,
  ) {}

  private change(options: Partial<DeploymentWriteOptions>, action: DeploymentAction): DeploymentChange {
    return {
      actor: options.actor ?? this.trail.actorNow(),
      action: options.action ?? action,
      ...(options.reason !== undefined ? { reason: options.reason } : {}),
      ...(options.expectedRevision !== undefined ? { expected_revision: options.expectedRevision } : {}),
    };
  }

  /** An endpoint's routes, or null when it has none. @throws TendError TEND_MODEL_NOT_FOUND */
  get(endpoint: string): Promise<DeploymentRecord | null> {
    return this.store.getDeployment(endpoint);
  }

  /** Every deployment, by endpoint. */
  list(): Promise<DeploymentRecord[]> {
    return this.store.listDeployments();
  }

  /**
   * Validate and write an endpoint's routes and a history entry in one transaction; returns the new
   * state (unchanged, with no entry, when the routes are the same).
   * @throws TendError TEND_INVALID_ARGUMENT, TEND_MODEL_NOT_FOUND, TEND_VERSION_NOT_FOUND,
   * TEND_ALIAS_NOT_FOUND, TEND_CONFLICT (archived version, revision moved on)
   * @example await registry.deployments.put('digits', { champion: 3, canary: { version: 4, percent: 10 } }, {
   * action: 'canary' })
   */
  put(
    endpoint: string,
    routes: DeploymentRoutesInput,
    options: DeploymentWriteOptions,
  ): Promise<DeploymentRecord> {
    return this.trail.audited(
      `deployment.${options.action}`,
      endpoint,
      () => this.store.putDeployment(endpoint, routes, this.change(options, options.action)),
      (d) => ({
        after: { revision: d.revision, routes: d.routes },
        ...(options.reason !== undefined ? { detail: options.reason } : {}),
      }),
    );
  }

  /**
   * Remove an endpoint's routes (history kept); returns what was removed. @throws TendError TEND_NOT_FOUND /
   * TEND_MODEL_NOT_FOUND
   */
  delete(endpoint: string, options: Partial<DeploymentWriteOptions> = {}): Promise<DeploymentRecord> {
    return this.trail.audited(
      'deployment.delete',
      endpoint,
      () => this.store.deleteDeployment(endpoint, this.change(options, 'delete')),
      (d) => ({ before: { revision: d.revision, routes: d.routes } }),
    );
  }

  /** Changes to an endpoint's routes, newest first. @throws TendError TEND_MODEL_NOT_FOUND */
  history(endpoint: string, options: DeploymentHistoryOptions = {}): Promise<DeploymentHistoryEntry[]> {
    return this.store.deploymentHistory(endpoint, options);
  }

  /** The routes that point at a version now, directly, through an alias or through 'latest'. */
  references(name: string, version: number): Promise<DeploymentReference[]> {
    return this.store.deploymentReferences(name, version);
  }
}
