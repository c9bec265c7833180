/**
 * The engine: wires the registry, the repositories, the runtime and the batchers into one object the
 * frontends (HTTP, CLI, later gRPC) talk to. It resolves a model reference to a ready version,
 * validates a request against that version's signature and hands it to the version's batcher.
 */
import type { LimitsConfig, ModelConfig, SecurityConfig, ServerConfig } from '../core/config.js';
import { DEFAULT_VERSION_POLICY, mergeModelConfig } from '../core/config.js';
import { errors, TendError, toTendError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { InferenceMetrics } from '../monitor/metrics.js';
import { VersionStatistics, type ModelStatistics } from '../monitor/statistics.js';
import { Registry, scanRepository, type RepositoryModel } from '../registry/index.js';
import { faultInjectionEnabled, Runtime, type InstanceCrashMode } from '../runtime/index.js';
import { ServedVersion, type VersionSource } from './serving/served-version.js';
import { selectVersions } from './serving/version-policy.js';
import { ModelControl, type ModelHost, type RepositoryIndexEntry } from './serving/model-control.js';
import { ModelPoller } from './serving/model-poller.js';
import { DeploymentControl } from './traffic/deployment-control.js';
import { copyTensors } from './serving/run-request.js';
import { chooseRoute, routingKey, type RouteKind } from './traffic/routing.js';
import type { ResolvedRoutes } from '../core/deployment.js';
import { highestReady, unloadedError, type ModelEntry } from './serving/model-entry.js';
import { runOnVersion, type InferRequest, type InferResponse } from './serving/run-request.js';
import { Monitoring, parseWindow, planOf } from './monitoring/monitoring-app.js';
import type { MonitorView } from './monitoring/monitor-view.js';
import { OnlineLearning, type LearnResult } from './jobs/online-learning.js';
import { currentContext } from '../core/request-context.js';
import { AccessControl } from './access/access-control.js';
import { RequestLimits } from './serving/request-limits.js';
import { registryLoadGuard, repositoryLoadGuard } from './access/model-integrity.js';
import type { FeedbackResult } from '../monitor/prediction-log.js';
import type { ActiveAlert } from '../monitor/alerts.js';
import type { AlertEvent } from '../monitor/alert-store.js';

export type { InferRequest, InferResponse } from './serving/run-request.js';

/** The dashboard's time series of one model. */
export type DashboardSeries = Awaited<ReturnType<Monitoring['series']>> & { window: string };

/** A model as the dashboard lists it. */
export interface DashboardModel {
  name: string;
  source: VersionSource;
  error: string | null;
  versions: { version: number; state: string; reason: string; task: string }[];
  aliases: Record<string, number>;
  routes: unknown;
  serving_version: number | null;
}

export type { RepositoryIndexEntry } from './serving/model-control.js';

export interface EngineOptions {
  /** Registry home (created when missing). */
  home: string;
  /** Triton-like repositories served in place. */
  repos?: readonly string[];
  config: ServerConfig;
  logger?: Logger;
  /** Load only these models at start (the CLI's one-shot `infer`); default: every model. */
  only?: readonly string[];
  /** Log predictions and monitor them (default: as the config says; off for one-shot commands). */
  monitoring?: boolean;
}

/** Errors that are the version's fault (not the caller's): what a canary's error rate counts. */
const VERSION_FAULTS = new Set(['TEND_INFERENCE_FAILED', 'TEND_WORKER_FAILED', 'TEND_INTERNAL', 'TEND_MODEL_NOT_READY']);

/** Where a request goes: its version, the route that picked it, the endpoint's routes, a shadow. */
export interface RoutedRequest {
  target: ServedVersion;
  route: RouteKind | 'direct';
  routes?: ResolvedRoutes;
  shadow?: number;
}

const ALIAS_CACHE_MS = 1000;
const FAULT_MODES: readonly string[] = ['exit', 'throw', 'abort', 'hang', 'grow', 'terminate'];

export class Engine {
  readonly metrics: InferenceMetrics;
  private readonly models = new Map<string, ModelEntry>();
  private readonly aliasCache = new Map<string, { version: number; until: number }>();
  private readonly stats = new Map<string, VersionStatistics>();
  private readonly control: ModelControl;
  /** Watches the repositories and the registry in `--model-control poll`. */
  private readonly poller: ModelPoller | undefined;
  /** The prediction log, feedback, quality, drift and alerts (off with `monitoring.enabled: false`). */
  monitoring: Monitoring | undefined;
  private qualityTimer: NodeJS.Timeout | undefined;
  /** Endpoint routes (canary, shadow, experiment) and shadow comparisons. */
  readonly deployments: DeploymentControl;
  /** In-flight ceiling, memory guard, per-token rate and concurrency: the frontends admit every call through it. */
  readonly requestLimits: RequestLimits;
  /** Bearer tokens and the access table: the frontends ask it about every call. */
  access!: AccessControl;
  /** `POST /v2/models/{m}/learn`: online learners of tend-trained models. */
  private readonly learning: OnlineLearning;
  private startupDone = false;
  private closed = false;
  private shutdownStarted = false;

  private constructor(
    readonly registry: Registry,
    private readonly runtime: Runtime,
    private readonly config: ServerConfig,
    private readonly logger: Logger,
    private readonly repos: readonly string[],
  ) {
    this.requestLimits = new RequestLimits(config.limits);
    this.metrics = new InferenceMetrics({ pendingSource: () => this.pendingCounts() });
    this.deployments = new DeploymentControl({
      registry,
      logger,
      version: (name, version) => this.resolve(name, String(version)),
      run: async (target, inputs) => (await this.infer(target, { inputs })).outputs,
    });
    this.learning = new OnlineLearning({
      registry,
      logger,
      configOf: (name) => (this.models.get(name)?.config ?? this.registryModelConfig(name)).online_learning,
      publish: (name, alias, version) => this.moveAlias(name, alias, version, 'tend online learning'),
    });
    const host: ModelHost = {
      models: this.models,
      repos,
      registry,
      config,
      logger,
      entry: (name) => this.entry(name),
      repositoryEntry: (rm) => this.repositoryEntry(rm),
      registryModelConfig: (name) => this.registryModelConfig(name),
      initialVersions: (entry) => this.initialVersions(entry),
      newVersion: (entry, version) => this.newVersion(entry, version),
      loadVersion: (sv) => sv.load(this.runtime, this.logger),
      forgetAliases: (name) => {
        for (const key of this.aliasCache.keys()) if (key.startsWith(`${name}@`)) this.aliasCache.delete(key);
      },
      routeVersions: (name) => this.deployments.routeVersions(name),
    };
    this.control = new ModelControl(host);
    if (config.model_control_mode === 'poll') this.poller = new ModelPoller(host, this.control, config.poll_interval_ms);
  }

  /** Open the registry, scan the repositories and register every model (nothing loads yet). */
  static async open(options: EngineOptions): Promise<Engine> {
    const logger = options.logger ?? silentLogger;
    const registry = await Registry.open(options.home);
    const engine = new Engine(registry, new Runtime({ logger }), options.config, logger, options.repos ?? []);
    try {
      engine.access = await AccessControl.open(registry, logger, options.config.security.tokens_file);
      if (options.monitoring ?? (options.config.monitoring.enabled && options.only === undefined)) {
        engine.monitoring = new Monitoring(
          {
            registry,
            logger,
            served: () => engine.listServed(),
            champion: async (model) => (await engine.deployments.routesFor(model))?.champion ?? engine.defaultVersionNumber(model),
          },
          options.config.monitoring,
          options.config.alerts,
          options.home,
          engine.metrics.registry,
        );
        engine.qualityTimer = setInterval(() => {
          void engine.checkCanaryQuality().catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'canary quality check failed'));
        }, options.config.monitoring.refresh_interval_ms);
        engine.qualityTimer.unref();
      }
      await engine.discover(engine.repos, options.only);
    } catch (err) {
      await engine.close();
      throw err;
    }
    return engine;
  }

  private async discover(repos: readonly string[], only: readonly string[] | undefined): Promise<void> {
    const wanted = only ? new Set(only) : undefined;
    for (const m of await this.registry.listModels()) {
      if (wanted && !wanted.has(m.name)) continue;
      this.models.set(m.name, { name: m.name, source: 'registry', config: this.registryModelConfig(m.name), versions: new Map() });
    }
    for (const dir of repos) {
      const { models, warnings } = scanRepository(dir);
      for (const w of warnings) this.logger.warn({ repo: dir }, w);
      for (const rm of models) {
        if (wanted && !wanted.has(rm.name)) continue;
        if (this.models.has(rm.name)) {
          this.logger.warn({ model: rm.name, repo: dir }, 'model name already served from the registry or another repository; skipped');
          continue;
        }
        this.models.set(rm.name, this.repositoryEntry(rm));
      }
    }
  }

  private repositoryEntry(rm: RepositoryModel): ModelEntry {
    const entry: ModelEntry = {
      name: rm.name,
      source: 'repository',
      config: mergeModelConfig(this.config.model_defaults, rm.config),
      versions: new Map(),
      onDisk: new Map(rm.versions.map((v) => [v.version, v.path])),
    };
    if (rm.error !== undefined) entry.error = rm.error;
    return entry;
  }

  private registryModelConfig(name: string): ModelConfig {
    return mergeModelConfig(this.config.model_defaults, this.config.models[name] ?? {});
  }

  /** Load what each model's version policy asks for (plus aliased registry versions). */
  async loadAll(): Promise<void> {
    const jobs: Promise<void>[] = [];
    for (const entry of this.models.values()) {
      if (entry.error !== undefined) {
        this.logger.error({ model: entry.name, err: entry.error }, 'model not served');
        continue;
      }
      for (const v of await this.initialVersions(entry)) jobs.push(this.ensureVersion(entry, v).then(() => undefined));
    }
    await Promise.all(jobs);
    this.startupDone = true;
    await this.poller?.start();
  }

  /** Poll mode: look at the repositories and the registry now (the timer does this every interval). */
  async pollNow(): Promise<void> {
    if (!this.poller) throw new TendError('TEND_FORBIDDEN', 'the server does not run with --model-control poll');
    await this.poller.poll();
  }

  private async initialVersions(entry: ModelEntry): Promise<number[]> {
    const policy = entry.config.version_policy ?? DEFAULT_VERSION_POLICY;
    if (entry.source === 'repository') return selectVersions(policy, [...(entry.onDisk?.keys() ?? [])]);
    // Archived versions are kept, not served.
    const versions = (await this.registry.listVersions(entry.name)).filter((v) => !v.archived).map((v) => v.version);
    const picked = new Set(selectVersions(policy, versions));
    for (const v of Object.values(await this.registry.listAliases(entry.name))) picked.add(v);
    for (const v of await this.deployments.routeVersions(entry.name)) picked.add(v);
    return [...picked];
  }

  /** The version object, created and loading (or loaded) on return. */
  private async ensureVersion(entry: ModelEntry, version: number): Promise<ServedVersion> {
    let sv = entry.versions.get(version);
    if (!sv) {
      if (entry.unloaded) throw unloadedError(entry.name);
      const created = await this.newVersion(entry, version);
      // Another request may have created it while this one awaited the registry.
      sv = entry.versions.get(version) ?? created;
      entry.versions.set(version, sv);
    }
    if (sv.state === 'LOADING') await sv.load(this.runtime, this.logger);
    return sv;
  }

  /** A version object for `entry` (not loaded, not in the table yet). */
  private async newVersion(entry: ModelEntry, version: number): Promise<ServedVersion> {
    let path: string;
    let guard: () => Promise<Uint8Array | void>;
    if (entry.source === 'repository') {
      const p = entry.onDisk?.get(version);
      if (p === undefined) throw errors.versionNotFound(entry.name, version);
      path = p;
      guard = repositoryLoadGuard(`${entry.name}:${version}`, p, this.config.limits, this.config.security);
    } else {
      const record = await this.registry.getVersion(entry.name, version);
      if (record.archived) {
        throw new TendError('TEND_VERSION_NOT_FOUND', `model '${entry.name}' version ${version} is archived; unarchive it to serve it`);
      }
      path = this.registry.modelFile(record);
      guard = registryLoadGuard(this.registry, record, this.config.limits, this.config.security);
    }
    const key = `${entry.name}\u0000${version}`;
    let stats = this.stats.get(key);
    if (!stats) {
      stats = new VersionStatistics();
      this.stats.set(key, stats);
    }
    const sv = new ServedVersion(entry.name, version, entry.source, path, entry.config, this.metrics.forVersion(entry.name, String(version)), stats);
    sv.loadGuard = guard;
    sv.maxNodes = this.config.limits.max_model_nodes;
    sv.requestTimeoutMs = this.config.limits.request_timeout_ms;
    sv.tensorLimits = { maxTensorElements: this.config.limits.max_tensor_elements, maxBytesElementLength: this.config.limits.max_bytes_element_length };
    return sv;
  }

  /** Set when the server runs without tokens on a non-loopback address (--insecure-no-auth): shown on /v2. */
  authWarning: string | undefined;

  /** Limits on every input and on load (config `limits`). */
  get limits(): LimitsConfig {
    return this.config.limits;
  }

  /** Tokens, TLS and signature settings (config `security`). */
  get security(): SecurityConfig {
    return this.config.security;
  }

  /** Shutting down: readiness answers false while requests in flight drain (see beginShutdown). */
  get draining(): boolean {
    return this.shutdownStarted;
  }

  /** Turn readiness false for good: load balancers stop sending while the frontends drain. */
  beginShutdown(): void {
    this.shutdownStarted = true;
  }

  /** True once start-up loading finished and every servable model has a ready version. */
  get ready(): boolean {
    if (!this.startupDone || this.closed || this.shutdownStarted) return false;
    for (const entry of this.models.values()) {
      if (entry.unloaded || entry.optional) continue;
      if (entry.error !== undefined) return false;
      if (![...entry.versions.values()].some((v) => v.isReady)) return false;
    }
    return true;
  }

  /**
   * Resolve `NAME`, `NAME@ALIAS` or (`NAME`, version ref) to a version.
   * No version: the highest ready one. A ref is a version number or an alias (registry models).
   */
  async resolve(modelRef: string, versionRef?: string): Promise<ServedVersion> {
    let name = modelRef;
    let ref = versionRef;
    const at = modelRef.indexOf('@');
    if (at >= 0) {
      if (ref !== undefined) throw errors.invalidArgument(`give the version either as '${modelRef}' or in the path, not both`);
      name = modelRef.slice(0, at);
      ref = modelRef.slice(at + 1);
      if (ref === '') throw errors.invalidArgument(`empty alias in '${modelRef}'`);
    }
    const entry = await this.entry(name);
    if (entry.error !== undefined) throw new TendError('TEND_MODEL_NOT_READY', `model '${name}' cannot be served: ${entry.error}`);
    if (ref === undefined || ref === '') return this.defaultVersion(entry);
    const number = /^[0-9]+$/.test(ref) ? Number(ref) : undefined;
    if (number !== undefined) {
      if (entry.source === 'repository' && !entry.versions.has(number)) {
        if (entry.onDisk?.has(number)) {
          throw new TendError('TEND_VERSION_NOT_FOUND', `model '${name}' version ${number} is not loaded (its version_policy leaves it out)`);
        }
        throw errors.versionNotFound(name, number);
      }
      return this.ensureVersion(entry, number);
    }
    if (entry.source === 'repository') throw errors.aliasNotFound(name, ref);
    return this.ensureVersion(entry, await this.aliasVersion(name, ref));
  }

  /**
   * The version that answers a request: an explicit version or alias wins; else the endpoint's
   * deployment routes pick one by the routing key (the request id, or the experiment's sticky
   * header); else the default version. `shadow` is set for champion-routed requests of an endpoint
   * with a shadow.
   */
  async route(
    modelRef: string,
    versionRef: string | undefined,
    requestId: string,
    header: (lowerCaseName: string) => string | undefined,
  ): Promise<RoutedRequest> {
    if ((versionRef !== undefined && versionRef !== '') || modelRef.includes('@')) {
      return { target: await this.resolve(modelRef, versionRef), route: 'direct' };
    }
    const entry = this.models.get(modelRef);
    const routes = entry?.source === 'repository' ? null : await this.deployments.routesFor(modelRef);
    if (!routes) return { target: await this.resolve(modelRef), route: 'direct' };
    const choice = chooseRoute(routes, `${modelRef}:${routingKey(routes, requestId, header)}`);
    const target = await this.resolve(modelRef, String(choice.version));
    if (routes.shadow && choice.route === 'champion' && routes.shadow.version !== choice.version) {
      return { target, route: choice.route, routes, shadow: routes.shadow.version };
    }
    return { target, route: choice.route, routes };
  }

  /**
   * Run a routed request; with a shadow, mirror a copy of its inputs once the caller has the
   * answer; with a canary, feed the outcome to its automatic policy.
   */
  async inferRouted(endpoint: string, routed: RoutedRequest, request: InferRequest): Promise<InferResponse> {
    const monitoring = this.monitoring;
    const capture = monitoring?.begin(routed.target, request.inputs);
    if (!monitoring || capture === undefined) return this.runRouted(endpoint, routed, request);
    const started = performance.now();
    const response = await this.runRouted(endpoint, routed, request);
    monitoring.finish(capture, routed.route, response.id, response.model_version, response.outputs, performance.now() - started);
    return response;
  }

  private async runRouted(endpoint: string, routed: RoutedRequest, request: InferRequest): Promise<InferResponse> {
    const guarded = routed.routes?.canary !== undefined && (routed.route === 'champion' || routed.route === 'canary');
    if (routed.shadow === undefined && !guarded) return this.infer(routed.target, request);
    const mirrored = routed.shadow !== undefined && this.deployments.reserveShadow(endpoint, { champion: routed.target.version, shadow: routed.shadow });
    const copy = mirrored ? copyTensors(request.inputs) : undefined;
    const started = performance.now();
    let response: InferResponse;
    try {
      response = await this.infer(routed.target, request);
    } catch (err) {
      if (mirrored) this.deployments.releaseShadow(endpoint);
      if (guarded && routed.routes && VERSION_FAULTS.has(toTendError(err).code)) {
        this.deployments.observe(endpoint, routed.routes, routed.route as 'champion' | 'canary', false, performance.now() - started);
      }
      throw err;
    }
    if (guarded && routed.routes) this.deployments.observe(endpoint, routed.routes, routed.route as 'champion' | 'canary', true, performance.now() - started);
    if (copy && routed.shadow !== undefined) this.deployments.mirror(endpoint, routed.target, routed.shadow, copy, response.outputs);
    return response;
  }

  /**
   * Move an alias with the zero-downtime rule: the version is loaded and warm before the alias
   * points at it; one that cannot serve leaves the alias where it was.
   */
  async moveAlias(name: string, alias: string, version: number, actor?: string): Promise<{ name: string; alias: string; version: number; previous: number | null }> {
    const sv = await this.resolve(name, String(version));
    if (!sv.isReady) throw new TendError('TEND_MODEL_LOAD_FAILED', `alias '${alias}' not moved: version ${version} cannot serve (${sv.reason || sv.state.toLowerCase()})`);
    const change = await this.registry.setAlias(name, alias, version, actor);
    for (const key of this.aliasCache.keys()) if (key.startsWith(`${name}@`)) this.aliasCache.delete(key);
    this.deployments.invalidate(name);
    return { name, alias, version, previous: change.from };
  }

  private async aliasVersion(name: string, alias: string): Promise<number> {
    const key = `${name}@${alias}`;
    const now = Date.now();
    const hit = this.aliasCache.get(key);
    if (hit && hit.until > now) return hit.version;
    const record = await this.registry.resolveVersion(name, alias);
    this.aliasCache.set(key, { version: record.version, until: now + ALIAS_CACHE_MS });
    return record.version;
  }

  private async entry(name: string): Promise<ModelEntry> {
    const found = this.models.get(name);
    if (found) return found;
    // A model pushed to the registry after the server started is served on first use.
    const record = await this.registry.getModel(name);
    const raced = this.models.get(record.name);
    if (raced) return raced;
    const entry: ModelEntry = { name: record.name, source: 'registry', config: this.registryModelConfig(record.name), versions: new Map() };
    this.models.set(record.name, entry);
    return entry;
  }

  private async defaultVersion(entry: ModelEntry): Promise<ServedVersion> {
    const best = highestReady(entry);
    if (best) return best;
    if (entry.source === 'registry' && !entry.unloaded) {
      const versions = (await this.registry.listVersions(entry.name)).filter((v) => !v.archived);
      const latest = versions.reduce((m, v) => Math.max(m, v.version), 0);
      if (latest > 0) return this.ensureVersion(entry, latest);
    }
    const any = [...entry.versions.values()].sort((a, b) => b.version - a.version)[0];
    if (any) return any; // not ready: the caller's requireBatcher() says why
    throw new TendError('TEND_MODEL_NOT_READY', `model '${entry.name}' has no version to serve`);
  }

  /** Run one request through the version's batcher and return the requested outputs. */
  infer(requested: ServedVersion, request: InferRequest): Promise<InferResponse> {
    return runOnVersion(requested, request);
  }

  /** The highest ready version of a model, if any (what its name serves without routes). */
  defaultVersionNumber(model: string): number | undefined {
    const entry = this.models.get(model);
    return entry ? highestReady(entry)?.version : undefined;
  }

  private requireMonitoring(): Monitoring {
    if (!this.monitoring) throw new TendError('TEND_FORBIDDEN', 'monitoring is off (monitoring.enabled: false in the server config)');
    return this.monitoring;
  }

  /**
   * The monitor's answer for a model: the given version (number or alias), else the version its
   * name routes to; over `window` (e.g. 1h) or the `last` N logged rows.
   */
  async monitorView(model: string, query: { version?: string; window?: string; last?: string } = {}): Promise<MonitorView> {
    const monitoring = this.requireMonitoring();
    const window = parseWindow(query.window, query.last, this.config.monitoring.window_last);
    let versionRef = query.version;
    if (versionRef === undefined) {
      const champion = (await this.deployments.routesFor(model))?.champion;
      if (champion !== undefined) versionRef = String(champion);
    }
    const sv = await this.resolve(model, versionRef);
    return monitoring.view(sv, window);
  }

  /** Attach ground truth to logged predictions of a model (the body's `feedback` array). */
  async feedback(model: string, items: unknown): Promise<FeedbackResult & { learned?: number }> {
    const monitoring = this.requireMonitoring();
    const sv = await this.resolve(model);
    const result = await monitoring.feedback(sv.model, items, sv.config.labels ?? sv.classes);
    if (!sv.config.online_learning?.from_feedback || result.accepted === 0) return result;
    return { ...result, learned: await this.learnFromFeedback(sv.model, items as unknown[]) };
  }

  /**
   * The feedback stream as online learning: each item that carries a label or value is learned with
   * the features logged for its row. Feedback is never refused for the learner's sake: a sample the
   * learner cannot take is logged and skipped.
   */
  private async learnFromFeedback(model: string, items: readonly unknown[]): Promise<number> {
    const monitoring = this.requireMonitoring();
    await monitoring.log.flush();
    const wanted = items.flatMap((item) => {
      if (item === null || typeof item !== 'object') return [];
      const it = item as { id?: unknown; row?: unknown; label?: unknown; value?: unknown };
      const label = it.label ?? it.value;
      if (typeof it.id !== 'string' || (typeof label !== 'string' && typeof label !== 'number')) return [];
      return [{ id: it.id, row: typeof it.row === 'number' ? it.row : 0, label }];
    });
    const features = monitoring.log.featuresOf(model, wanted);
    const samples = wanted.flatMap((w, i) => {
      const f = features[i];
      return f === null || f === undefined ? [] : [{ features: Array.from(f), label: w.label }];
    });
    if (samples.length === 0) return 0;
    const chunk = (this.models.get(model)?.config ?? this.registryModelConfig(model)).online_learning?.max_samples_per_request ?? 1000;
    let learned = 0;
    try {
      for (let at = 0; at < samples.length; at += chunk) learned += (await this.learning.learn(model, undefined, { samples: samples.slice(at, at + chunk) })).learned;
      return learned;
    } catch (err) {
      this.logger.warn({ model, err: toTendError(err).message }, 'feedback not learned online');
      return learned;
    }
  }

  /** Test hook, available only with TEND_FAULT_INJECTION=1: fail one instance of a served version. */
  async injectFault(model: string, version: string | undefined, mode: string, instance: number): Promise<{ model: string; version: number; mode: string; instance: number }> {
    if (!faultInjectionEnabled()) throw new TendError('TEND_FORBIDDEN', 'fault injection is off (start tend with TEND_FAULT_INJECTION=1, for tests only)');
    if (!FAULT_MODES.includes(mode)) throw errors.invalidArgument(`mode '${mode}' must be one of ${FAULT_MODES.join(', ')}`);
    const sv = await this.resolve(model, version);
    sv.injectFault(mode as InstanceCrashMode, instance);
    return { model: sv.model, version: sv.version, mode, instance };
  }

  /** Learn labelled samples online (see online-learning.ts); cuts a version every snapshot_every samples. */
  learn(model: string, version: string | undefined, body: unknown): Promise<LearnResult> {
    if (this.shutdownStarted) return Promise.reject(new TendError('TEND_UNAVAILABLE', 'the server is shutting down'));
    if (this.models.get(model)?.source === 'repository') {
      return Promise.reject(errors.invalidArgument(`model '${model}' is served from a repository: online learning updates registry models trained by tend (tend train), whose snapshots become registry versions`));
    }
    return this.learning.learn(model, version, body);
  }

  /** Apply the quality rule of canaries (their policy's `quality_metric`); runs on a timer with monitoring on. */
  async checkCanaryQuality(): Promise<void> {
    const monitoring = this.monitoring;
    if (!monitoring) return;
    await this.deployments.checkQuality(async (endpoint, version, sinceMs, metric) => {
      const sv = await this.resolve(endpoint, String(version));
      return monitoring.qualitySince(endpoint, version, sinceMs, metric, planOf(sv));
    });
  }

  /** Every model for the dashboard: its versions and states, aliases, routes and default version. */
  async dashboardModels(): Promise<DashboardModel[]> {
    const out: DashboardModel[] = [];
    for (const m of this.listServed().sort((a, b) => a.name.localeCompare(b.name))) {
      const aliases = m.source === 'registry' ? await this.registry.listAliases(m.name).catch(() => ({})) : {};
      const deployment = m.source === 'registry' ? await this.registry.getDeployment(m.name).catch(() => null) : null;
      out.push({
        name: m.name,
        source: m.source,
        error: m.error ?? null,
        versions: m.versions.map((v) => ({ version: v.version, state: v.state, reason: v.reason, task: planOf(v).task })),
        aliases,
        routes: deployment?.routes ?? null,
        serving_version: (await this.deployments.routesFor(m.name))?.champion ?? this.defaultVersionNumber(m.name) ?? null,
      });
    }
    return out;
  }

  /** The dashboard's time series of a model over `window` (default 15m) in `buckets` buckets (default 60). */
  async dashboardSeries(model: string, window = '15m', buckets = '60'): Promise<DashboardSeries> {
    const monitoring = this.requireMonitoring();
    const spec = parseWindow(window, undefined, 0);
    if (!/^[1-9][0-9]{0,3}$/.test(buckets) || Number(buckets) > 600) throw errors.invalidArgument(`buckets '${buckets}' must be a whole number from 1 to 600`);
    const windowMs = Date.now() - (spec.sinceMs ?? Date.now());
    return { ...(await monitoring.series(model, windowMs, Number(buckets))), window };
  }

  /** Pending and firing alerts, and the newest `limit` alert events. */
  alerts(limit = 100): { active: ActiveAlert[]; events: AlertEvent[] } {
    const monitoring = this.requireMonitoring();
    return { active: monitoring.activeAlerts(), events: monitoring.alertEvents(limit) };
  }

  /** The repository index: every model the server knows (registry, repositories on disk) with its versions' states. */
  repositoryIndex(options: { readyOnly?: boolean } = {}): Promise<RepositoryIndexEntry[]> {
    return this.control.index(options);
  }

  /**
   * Load or reload a model (Triton's repository load): read its config and versions afresh, load and
   * warm the versions its policy picks, then switch to them at once. Requests in flight finish on the
   * versions they started on, which unload after draining. If any version fails, nothing switches:
   * the versions serving before keep serving and the error names the failure.
   */
  loadModel(name: string): Promise<void> {
    return this.audited('model.load', name, () => this.control.load(name));
  }

  /** Unload every version of a model (queued requests finish first); it answers 503 until loaded again. */
  unloadModel(name: string): Promise<void> {
    return this.audited('model.unload', name, () => this.control.unload(name));
  }

  /** Run an engine-level management action (the registry audits its own) and append it to the audit log. */
  private async audited<T>(action: string, target: string, work: () => Promise<T>): Promise<T> {
    const context = currentContext();
    const who = { actor: context?.actor ?? 'local', source: context?.source ?? 'local', action, target };
    try {
      const result = await work();
      await this.registry.audit({ ...who, outcome: 'ok' });
      return result;
    } catch (err) {
      await this.registry.audit({ ...who, outcome: 'failed', detail: toTendError(err).message.slice(0, 500) }).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Triton's statistics of every served version (of one model, or one version, when given).
   * Versions that exist but have not served yet report zeros.
   */
  async statistics(model?: string, version?: string): Promise<ModelStatistics[]> {
    let entries = [...this.models.values()];
    if (model !== undefined) {
      const sv = await this.resolve(model, version);
      entries = entries.filter((e) => e.name === sv.model);
      if (version !== undefined) return [sv.stats.snapshot(sv.model, String(sv.version))];
    }
    const out: ModelStatistics[] = [];
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      for (const v of [...e.versions.values()].sort((a, b) => a.version - b.version)) out.push(v.stats.snapshot(v.model, String(v.version)));
    }
    return out;
  }

  /** Every model with its served versions, for listings. */
  listServed(): { name: string; source: VersionSource; error?: string; versions: ServedVersion[] }[] {
    return [...this.models.values()].map((e) => ({
      name: e.name,
      source: e.source,
      ...(e.error !== undefined ? { error: e.error } : {}),
      versions: [...e.versions.values()].sort((a, b) => a.version - b.version),
    }));
  }

  private *pendingCounts(): Iterable<{ model: string; version: string; pending: number }> {
    for (const entry of this.models.values()) {
      for (const v of entry.versions.values()) {
        if (v.batcher) yield { model: v.model, version: String(v.version), pending: v.batcher.pendingCount };
      }
    }
  }

  /** Unload every version (queued requests finish first), stop the workers, close the registry. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.poller?.stop();
    if (this.qualityTimer) clearInterval(this.qualityTimer);
    await this.monitoring?.close();
    const versions = [...this.models.values()].flatMap((e) => [...e.versions.values()]);
    await Promise.all(versions.map((v) => v.unload().catch(() => undefined)));
    await this.runtime.close();
    await this.registry.close();
  }
}
