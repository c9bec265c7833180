/**
 * Deployments at serve time: an endpoint's routes (champion, canary, shadow, experiment) read from
 * the registry, resolved to version numbers and cached briefly; changes applied with the
 * zero-downtime rule (every version the new routes name is loaded and warm before the routes are
 * written); shadow requests mirrored off the caller's path, after the callers (shadow-scheduler.ts).
 */
import {
  parseDeploymentRoutes,
  promotedRoutes,
  resolveRoutes,
  rolledBackRoutes,
  routeRefs,
  type DeploymentRoutes,
  type ResolvedRoutes,
} from '../../core/deployment.js';
import { TendError, toTendError, errors } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { ShadowCounts } from '../../monitor/metrics.js';
import type { Tensor } from '../../core/tensor.js';
import type {
  DeploymentHistoryEntry,
  DeploymentHistoryOptions,
  DeploymentRecord,
  DeploymentWriteOptions,
  Registry,
} from '../../registry/index.js';
import { CanaryGuard, qualityDecision, type QualitySide } from './canary-guard.js';
import { ShadowComparisons, type ShadowSnapshot } from './shadow-compare.js';
import { DEFAULT_SHADOW_POLICY, ShadowScheduler, type ShadowPolicy } from './shadow-scheduler.js';
import type { ServedVersion } from '../serving/served-version.js';

const ROUTES_CACHE_MS = 1000;

export { MAX_SHADOW_IN_FLIGHT } from './shadow-scheduler.js';

/** What deployments need from the engine. */
export interface DeploymentHost {
  readonly registry: Registry;
  readonly logger: Logger;
  /** A registry version of `name`, loaded (or failed: check isReady). */
  version(name: string, version: number): Promise<ServedVersion>;
  /** Run one request on a version (inputs are consumed). */
  run(target: ServedVersion, inputs: Tensor[]): Promise<Tensor[]>;
}

/** Every version the routes name, once each. */
function versionsOf(routes: ResolvedRoutes): number[] {
  const versions = new Set<number>([routes.champion]);
  if (routes.canary) versions.add(routes.canary.version);
  if (routes.shadow) versions.add(routes.shadow.version);
  for (const v of routes.experiment?.variants ?? []) versions.add(v.version);
  return [...versions];
}

export class DeploymentControl {
  readonly shadows = new ShadowComparisons();
  private readonly shadowScheduler: ShadowScheduler;
  private readonly cache = new Map<string, { routes: ResolvedRoutes | null; until: number }>();
  private readonly guards = new Map<string, CanaryGuard>();

  constructor(
    private readonly host: DeploymentHost,
    shadowPolicy: Readonly<ShadowPolicy> = DEFAULT_SHADOW_POLICY,
  ) {
    this.shadowScheduler = new ShadowScheduler(this.shadows, host, shadowPolicy);
  }

  /**
   * The endpoint's routes resolved to version numbers, or null without a deployment. Routes changed
   * outside this process (the CLI, another server) take effect only once every version they name
   * is loaded and warm; until then the previous routes keep serving.
   */
  async routesFor(endpoint: string): Promise<ResolvedRoutes | null> {
    const now = Date.now();
    const hit = this.cache.get(endpoint);
    if (hit && hit.until > now) return hit.routes;
    let routes: ResolvedRoutes | null = null;
    try {
      const record = await this.host.registry.deployments.get(endpoint);
      if (record) routes = await this.resolve(endpoint, record.routes);
    } catch (err) {
      // Repository models have no registry row; a broken deployment must not take the endpoint down.
      if (!(err instanceof TendError && err.code === 'TEND_MODEL_NOT_FOUND')) {
        this.host.logger.error(
          { endpoint, err: (err as Error).message },
          'cannot read deployment; serving the default version',
        );
      }
    }
    if (routes && hit?.routes && !(await this.allReady(endpoint, routes))) {
      this.cache.set(endpoint, { routes: hit.routes, until: now + ROUTES_CACHE_MS });
      return hit.routes;
    }
    this.cache.set(endpoint, { routes, until: now + ROUTES_CACHE_MS });
    return routes;
  }

  /** Every endpoint's stored deployment (the management API's listing). */
  records(): Promise<DeploymentRecord[]> {
    return this.host.registry.deployments.list();
  }

  /** The endpoint's stored deployment, or null. */
  record(endpoint: string): Promise<DeploymentRecord | null> {
    return this.host.registry.deployments.get(endpoint);
  }

  /** The endpoint's changes of routes, newest first. */
  history(endpoint: string, options: DeploymentHistoryOptions = {}): Promise<DeploymentHistoryEntry[]> {
    return this.host.registry.deployments.history(endpoint, options);
  }

  /** Every version the endpoint's routes name (none without a deployment). */
  async routeVersions(endpoint: string): Promise<number[]> {
    const routes = await this.routesFor(endpoint);
    return routes ? versionsOf(routes) : [];
  }

  /** Whether every version of the routes serves; starts loading the ones that do not yet. */
  private async allReady(endpoint: string, routes: ResolvedRoutes): Promise<boolean> {
    const versions = versionsOf(routes);
    const loads = versions.map((v) => this.host.version(endpoint, v));
    const settled = await Promise.race([
      Promise.all(loads),
      new Promise<null>((r) => setImmediate(() => r(null))),
    ]);
    if (settled === null) {
      void Promise.allSettled(loads).then(() => this.invalidate(endpoint));
      return false;
    }
    return settled.every((sv) => sv.isReady);
  }

  private async resolve(endpoint: string, routes: DeploymentRoutes): Promise<ResolvedRoutes> {
    const numbers = new Map<string, number>();
    for (const { ref } of routeRefs(routes)) {
      if (!numbers.has(ref))
        numbers.set(ref, (await this.host.registry.models.resolveVersion(endpoint, ref)).version);
    }
    return resolveRoutes(routes, (ref) => numbers.get(ref) as number);
  }

  /**
   * Write new routes for an endpoint, loading and warming every version they name first. A version
   * that fails to load never receives traffic: the write is refused and the old routes keep serving.
   */
  async apply(endpoint: string, input: unknown, options: DeploymentWriteOptions): Promise<DeploymentRecord> {
    const routes = parseDeploymentRoutes(input);
    const resolved = await this.resolve(endpoint, routes);
    const loaded = await Promise.all(versionsOf(resolved).map((v) => this.host.version(endpoint, v)));
    const failed = loaded.filter((sv) => !sv.isReady);
    if (failed.length > 0) {
      throw errors.modelLoadFailed(
        `deployment of '${endpoint}' not changed: ${failed.map((sv) => `version ${sv.version} cannot serve (${sv.reason || sv.state.toLowerCase()})`).join('; ')}`,
      );
    }
    const record = await this.host.registry.deployments.put(endpoint, routes, options);
    this.invalidate(endpoint);
    return record;
  }

  /** The canary becomes the champion (the shadow stays). */
  async promote(
    endpoint: string,
    options: { actor?: string; reason?: string; action?: 'promote' | 'auto_promote' } = {},
  ): Promise<DeploymentRecord> {
    const current = await this.require(endpoint);
    return this.apply(endpoint, promotedRoutes(endpoint, current.routes), {
      action: options.action ?? 'promote',
      expectedRevision: current.revision,
      ...(options.actor ? { actor: options.actor } : {}),
      ...(options.reason ? { reason: options.reason } : {}),
    });
  }

  /**
   * Feed one champion- or canary-routed outcome to the endpoint's canary guard; when the guard
   * decides, roll back or promote (recorded with the reason in the history, actor `tend`).
   */
  observe(
    endpoint: string,
    routes: ResolvedRoutes,
    route: 'champion' | 'canary',
    ok: boolean,
    latencyMs: number,
  ): void {
    const canary = routes.canary;
    if (!canary) return;
    const key = `${routes.champion}>${canary.version}@${canary.percent}:${JSON.stringify(canary.policy ?? {})}`;
    let guard = this.guards.get(endpoint);
    if (!guard || guard.key !== key) {
      guard = new CanaryGuard(key, canary.policy);
      this.guards.set(endpoint, guard);
    }
    const decision = guard.observe(route, ok, latencyMs);
    if (!decision) return;
    this.host.logger.warn(
      { endpoint, action: decision.action, reason: decision.reason },
      'automatic deployment change',
    );
    const options = { actor: 'tend', reason: decision.reason };
    const change =
      decision.action === 'auto_rollback'
        ? this.rollback(endpoint, { ...options, action: 'auto_rollback' })
        : this.promote(endpoint, { ...options, action: 'auto_promote' });
    change.catch((err: unknown) => this.changeFailed(endpoint, decision.action, err));
  }

  /**
   * An automatic change that could not apply: refused by the state of things (the champion unloaded,
   * a revision moved on) is a warning for the operator; anything else is tend's error.
   */
  private changeFailed(endpoint: string, action: string, err: unknown): void {
    const e = toTendError(err);
    const fields = { endpoint, action, code: e.code, err: e.message };
    if (e.isUserError) this.host.logger.warn(fields, 'automatic deployment change not applied');
    else this.host.logger.error(fields, 'automatic deployment change failed');
  }

  /**
   * The quality rule of every canary whose policy names a `quality_metric`: compare the canary's
   * and the champion's metric over the predictions logged since the canary's revision, and roll back
   * a canary that is worse by more than the policy allows (recorded with the reason, actor `tend`).
   */
  async checkQuality(
    quality: (endpoint: string, version: number, sinceMs: number, metric: string) => Promise<QualitySide>,
  ): Promise<void> {
    for (const record of await this.host.registry.deployments.list()) {
      const policy = record.routes.canary?.policy;
      if (policy?.quality_metric === undefined) continue;
      const routes = await this.routesFor(record.endpoint);
      if (!routes?.canary) continue;
      const since = Date.parse(record.updated_at);
      const metric = policy.quality_metric;
      const decision = qualityDecision(
        policy,
        await quality(record.endpoint, routes.champion, since, metric),
        await quality(record.endpoint, routes.canary.version, since, metric),
      );
      if (!decision) continue;
      this.host.logger.warn(
        { endpoint: record.endpoint, action: decision.action, reason: decision.reason },
        'automatic deployment change',
      );
      await this.rollback(record.endpoint, {
        actor: 'tend',
        reason: decision.reason,
        action: 'auto_rollback',
      }).catch((err: unknown) => this.changeFailed(record.endpoint, decision.action, err));
    }
  }

  /** Back to the champion alone: the canary or experiment (and the shadow) are removed. */
  async rollback(
    endpoint: string,
    options: { actor?: string; reason?: string; action?: 'rollback' | 'auto_rollback' } = {},
  ): Promise<DeploymentRecord> {
    const current = await this.require(endpoint);
    return this.apply(endpoint, rolledBackRoutes(endpoint, current.routes), {
      action: options.action ?? 'rollback',
      expectedRevision: current.revision,
      ...(options.actor ? { actor: options.actor } : {}),
      ...(options.reason ? { reason: options.reason } : {}),
    });
  }

  private async require(endpoint: string): Promise<DeploymentRecord> {
    const current = await this.host.registry.deployments.get(endpoint);
    if (!current) throw errors.notFound(`'${endpoint}' has no deployment; PUT its routes first`);
    return current;
  }

  invalidate(endpoint: string): void {
    this.cache.delete(endpoint);
  }

  /**
   * Take a shadow slot for one request of `endpoint`, or count it as skipped when the shadow has its
   * limit of mirrored requests waiting or running. A slot taken is given back by mirror() or release().
   */
  reserveShadow(endpoint: string, pair: { champion: number; shadow: number }): boolean {
    return this.shadowScheduler.reserve(endpoint, pair);
  }

  /** Give back a slot of reserveShadow() whose request was not mirrored (the champion failed). */
  releaseShadow(endpoint: string): void {
    this.shadowScheduler.release(endpoint);
  }

  /**
   * Queue a copy of a request for the shadow (slot reserved); never throws. It runs after the
   * callers' work, when the champion is idle (see shadow-scheduler.ts), and its outputs are compared
   * with the champion's.
   */
  mirror(
    endpoint: string,
    champion: ServedVersion,
    shadowVersion: number,
    inputs: Tensor[],
    championOutputs: readonly Tensor[],
  ): void {
    this.shadowScheduler.mirror(endpoint, champion, shadowVersion, inputs, championOutputs);
  }

  shadowSnapshot(): ShadowSnapshot {
    return this.shadows.snapshot();
  }

  /** Each endpoint's shadow counts, for the metrics. */
  *shadowCounts(): Iterable<ShadowCounts> {
    for (const [endpoint, s] of Object.entries(this.shadows.snapshot())) {
      yield {
        endpoint,
        compared: s.count,
        errors: s.shadow_errors,
        skipped: s.skipped,
        deferred: s.deferred,
      };
    }
  }
}
