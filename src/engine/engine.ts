/**
 * The engine: wires the rooms of the application into the one object the frontends (HTTP, gRPC,
 * CLI) talk to. Serving owns the model table and the hot path; traffic the deployment routes;
 * monitoring the prediction log and its views; jobs online learning and the runs; access the
 * tokens and the audit helper; workflows what spans rooms. The engine adds no feature of its own:
 * every method below hands over to a room.
 */
import type { LimitsConfig, ServerConfig } from '../core/config.js';
import { errors } from '../core/errors.js';
import { checkModelRef } from '../core/input-limits.js';
import { silentLogger, type Logger } from '../core/logger.js';
import type { Tensor } from '../core/tensor.js';
import { InferenceMetrics } from '../monitor/metrics.js';
import { Registry } from '../registry/index.js';
import { Runtime } from '../runtime/index.js';
import { AccessControl } from './access/access-control.js';
import { auditedAction } from './access/audited-action.js';
import { registryLoadGuard, repositoryLoadGuard } from './access/model-integrity.js';
import { TokenAdmin } from './access/token-admin.js';
import { ExplainJob, type ExplainResponse } from './jobs/explain-job.js';
import { OnlineLearning, type LearnResult } from './jobs/online-learning.js';
import { RunHistory } from './jobs/runs.js';
import { MonitoringApp } from './monitoring/monitoring-app.js';
import { ModelControl, type RepositoryIndexEntry } from './serving/model-control.js';
import { ModelPoller } from './serving/model-poller.js';
import { ModelTable } from './serving/model-table.js';
import { RequestLimits } from './serving/request-limits.js';
import { runOnVersion, type InferRequest, type InferResponse } from './serving/run-request.js';
import type { ServedVersion } from './serving/served-version.js';
import { DeploymentControl } from './traffic/deployment-control.js';
import { routeRequest, type RoutedRequest } from './traffic/routed-inference.js';
import { DEFAULT_SHADOW_POLICY } from './traffic/shadow-scheduler.js';
import {
  globalImportance,
  type ImportanceQuery,
  type ImportanceResponse,
} from './workflows/global-importance.js';
import { MonitorApi } from './workflows/monitor-api.js';
import { inferMonitored } from './workflows/monitored-inference.js';

export type { InferRequest, InferResponse } from './serving/run-request.js';
export type { ExplainResponse } from './jobs/explain-job.js';
export type { ImportanceQuery, ImportanceResponse } from './workflows/global-importance.js';
export type { RepositoryIndexEntry } from './serving/model-control.js';
export type { RoutedRequest } from './traffic/routed-inference.js';
export type { DashboardModel, DashboardSeries } from './workflows/monitor-api.js';

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

export class Engine {
  readonly metrics: InferenceMetrics;
  /** Serving: every model and its versions; resolves a reference to a version. */
  readonly table: ModelTable;
  /** Traffic: endpoint routes (canary, shadow, experiment) and shadow comparisons. */
  readonly deployments: DeploymentControl;
  /**
   * Monitoring: views, feedback, dashboard and alerts over the prediction log (`monitoring.app`, undefined
   * when off).
   */
  readonly monitoring: MonitorApi;
  /** Access: tokens and the audit log as the admin API manages them. */
  readonly tokens: TokenAdmin;
  /** Jobs: the training runs of the registry. */
  readonly runs: RunHistory;
  /** In-flight ceiling, memory guard, per-token rate and concurrency: the frontends admit every call through it. */
  readonly requestLimits: RequestLimits;
  private readonly config: ServerConfig;
  private readonly control: ModelControl;
  /** Watches the repositories and the registry in `--model-control poll`. */
  private readonly poller: ModelPoller | undefined;
  /** `POST /v2/models/{m}/learn`: online learners of tend-trained models. */
  private readonly learning: OnlineLearning;
  /** `POST /v2/models/{m}/explain`, `tend explain`: KernelSHAP and LIME on the version's workers. */
  private readonly explainer: ExplainJob;
  private authWarningText: string | undefined;
  private startupDone = false;
  private closed = false;
  private shutdownStarted = false;

  private constructor(
    /** The registry the engine serves from: for tests and in-process tools; the frontends use the rooms. */
    readonly registry: Registry,
    private readonly runtime: Runtime,
    /** Access: bearer tokens and the access table; the frontends ask it about every call. */
    readonly access: AccessControl,
    options: EngineOptions,
    logger: Logger,
  ) {
    const config = options.config;
    this.config = config;
    this.tokens = new TokenAdmin(registry);
    this.runs = new RunHistory(registry);
    this.requestLimits = new RequestLimits(config.limits);
    this.metrics = new InferenceMetrics({
      pendingSource: () => this.table.pendingCounts(),
      shadowSource: () => this.deployments.shadowCounts(),
    });
    this.deployments = new DeploymentControl(
      {
        registry,
        logger,
        version: (name, version) => this.table.resolve(name, String(version)),
        run: async (target, inputs) => (await runOnVersion(target, { inputs })).outputs,
      },
      { ...DEFAULT_SHADOW_POLICY, maxLoopShare: config.shadows.max_main_thread_share },
    );
    this.table = new ModelTable({
      registry,
      runtime,
      config,
      logger,
      repos: options.repos ?? [],
      metrics: this.metrics,
      guards: {
        registry: (record) => registryLoadGuard(registry, record, config.limits, config.security),
        repository: (label, path) => repositoryLoadGuard(label, path, config.limits, config.security),
      },
      routeVersions: (name) => this.deployments.routeVersions(name),
    });
    this.control = new ModelControl(this.table);
    this.explainer = new ExplainJob(registry, () => config.limits.max_explain_nsamples);
    if (config.model_control_mode === 'poll')
      this.poller = new ModelPoller(this.table, this.control, config.poll_interval_ms);
    this.learning = new OnlineLearning({
      registry,
      logger,
      configOf: (name) => this.table.modelConfig(name).online_learning,
      publish: (name, alias, version) => this.moveAlias(name, alias, version, 'tend online learning'),
    });
    let app: MonitoringApp | undefined;
    if (options.monitoring ?? (config.monitoring.enabled && options.only === undefined)) {
      const host = {
        registry,
        logger,
        served: () => this.table.listServed(),
        champion: (model: string) => this.monitoring.servingVersion(model),
      };
      const retentionDays = Object.entries(config.models).flatMap(([name, m]) =>
        m.monitoring?.retention_days === undefined ? [] : [[name, m.monitoring.retention_days] as const],
      );
      app = new MonitoringApp(
        host,
        config.monitoring,
        config.alerts,
        options.home,
        this.metrics.registry,
        Object.fromEntries(retentionDays),
      );
    }
    this.monitoring = new MonitorApi({
      table: this.table,
      deployments: this.deployments,
      monitoring: app,
      learning: this.learning,
      logger,
      windowLast: config.monitoring.window_last,
      audit: registry.audit,
    });
    if (app) this.monitoring.checkCanaryQualityEvery(config.monitoring.refresh_interval_ms);
  }

  /** Open the registry and the access table, build the rooms, scan the repositories (nothing loads yet). */
  static async open(options: EngineOptions): Promise<Engine> {
    const logger = options.logger ?? silentLogger;
    const registry = await Registry.open(options.home);
    const runtime = new Runtime({ logger });
    let engine: Engine | undefined;
    try {
      engine = new Engine(
        registry,
        runtime,
        await AccessControl.open(registry, logger, options.config.security.tokens_file),
        options,
        logger,
      );
      await engine.table.discover(options.only);
      return engine;
    } catch (err) {
      if (engine) await engine.close();
      else await Promise.all([runtime.close(), registry.close()]);
      throw err;
    }
  }

  /** Load what each model's version policy asks for (plus aliased registry versions); poll mode starts watching. */
  async loadAll(): Promise<void> {
    await this.table.loadAll();
    this.startupDone = true;
    await this.poller?.start();
  }

  /** Poll mode: look at the repositories and the registry now (the timer does this every interval). */
  async pollNow(): Promise<void> {
    if (!this.poller) throw errors.forbidden('the server does not run with --model-control poll');
    await this.poller.poll();
  }

  /** Shown on /v2 when the server runs without tokens on a non-loopback address (--insecure-no-auth). */
  get authWarning(): string | undefined {
    return this.authWarningText;
  }

  /** Record the warning `authWarning` shows (set once by `tend serve --insecure-no-auth`). */
  setAuthWarning(text: string): void {
    this.authWarningText = text;
  }

  /** Limits on every input and on load (config `limits`). */
  get limits(): LimitsConfig {
    return this.config.limits;
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
    return this.startupDone && !this.closed && !this.shutdownStarted && this.table.everyModelServes();
  }

  /** See ModelTable.resolve: `NAME`, `NAME@ALIAS` or (`NAME`, version ref) to a version. */
  resolve(modelRef: string, versionRef?: string): Promise<ServedVersion> {
    return this.table.resolve(modelRef, versionRef);
  }

  /** The version that answers a request (see traffic/routed-inference.ts). */
  route(
    modelRef: string,
    versionRef: string | undefined,
    requestId: string,
    header: (lowerCaseName: string) => string | undefined,
  ): Promise<RoutedRequest> {
    return routeRequest(this.table, this.deployments, modelRef, versionRef, requestId, header);
  }

  /** Run one request through the version's batcher and return the requested outputs. */
  infer(requested: ServedVersion, request: InferRequest): Promise<InferResponse> {
    return runOnVersion(requested, request);
  }

  /** Run a routed request (shadow, canary) and log it when monitoring samples it. */
  inferRouted(endpoint: string, routed: RoutedRequest, request: InferRequest): Promise<InferResponse> {
    return inferMonitored(this.deployments, this.monitoring.app, endpoint, routed, request);
  }

  /**
   * Explain the rows of a request on a model version (KernelSHAP or LIME, see jobs/explain-job.ts):
   * `parameters` is the request's `parameters` object (method, nsamples, seed, output, top_k, background).
   */
  async explain(
    modelRef: string,
    versionRef: string | undefined,
    inputs: Tensor[],
    parameters: unknown,
    counter?: { rows: number; calls: number },
  ): Promise<ExplainResponse> {
    checkModelRef(modelRef, versionRef);
    const sv = await this.table.resolve(modelRef, versionRef);
    return this.explainer.explain(sv, inputs, parameters, counter);
  }

  /** Global importance of a version's features from its prediction log (see workflows/global-importance.ts). */
  importance(modelRef: string, query: ImportanceQuery): Promise<ImportanceResponse> {
    checkModelRef(modelRef, query.version);
    return globalImportance(
      { table: this.table, monitoring: this.monitoring.app, explainer: this.explainer },
      modelRef,
      query,
    );
  }

  /** Move an alias once its version serves (see ModelTable.moveAlias); the endpoint's routes are read afresh. */
  async moveAlias(
    name: string,
    alias: string,
    version: number,
    actor?: string,
  ): Promise<{ name: string; alias: string; version: number; previous: number | null }> {
    const moved = await this.table.moveAlias(name, alias, version, actor);
    this.deployments.invalidate(name);
    return moved;
  }

  /** The repository index: every model the server knows with its versions' states. */
  repositoryIndex(options: { readyOnly?: boolean } = {}): Promise<RepositoryIndexEntry[]> {
    return this.control.index(options);
  }

  /** Load or reload a model (Triton's repository load, see ModelControl.load), audited. */
  async loadModel(name: string): Promise<void> {
    checkModelRef(name, undefined); // before the audit log records the name as the target
    return auditedAction(this.registry.audit, 'model.load', name, () => this.control.load(name));
  }

  /** Unload every version of a model (queued requests finish first), audited; it answers 503 until loaded again. */
  async unloadModel(name: string): Promise<void> {
    checkModelRef(name, undefined);
    return auditedAction(this.registry.audit, 'model.unload', name, () => this.control.unload(name));
  }

  /** Learn labelled samples online (see jobs/online-learning.ts); cuts a version every snapshot_every samples. */
  learn(model: string, version: string | undefined, body: unknown): Promise<LearnResult> {
    if (this.shutdownStarted) return Promise.reject(errors.unavailable('the server is shutting down'));
    if (this.table.get(model)?.source === 'repository') {
      return Promise.reject(
        errors.invalidArgument(
          `model '${model}' is served from a repository: online learning updates registry models trained by tend (tend train), whose snapshots become registry versions`,
        ),
      );
    }
    return this.learning.learn(model, version, body);
  }

  /** Unload every version (queued requests finish first), stop the workers, close the registry. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.poller?.stop();
    await this.monitoring.close();
    await this.table.unloadAll();
    await this.runtime.close();
    await this.registry.close();
  }
}
