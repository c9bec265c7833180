/**
 * Monitoring at serve time: every sampled inference goes to the prediction log (monitor.db, written
 * by its own thread), feedback attaches ground truth to logged rows, and from the log come the
 * monitor API's answer, the quality and drift gauges for Prometheus, and the alert rules' values.
 */
import { join } from 'node:path';
import type { MonitoringConfig, ServerConfig } from '../../core/config.js';
import { compileAlertRules, evaluationIntervalMs, type CompiledAlertRule } from '../../core/alert-rules.js';
import { errors } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { Tensor } from '../../core/tensor.js';
import type { Registry as MetricsRegistry } from 'prom-client';
import { SqliteAlertEventStore, type AlertEvent } from '../../monitor/alert-store.js';
import { AlertEvaluator, type ActiveAlert, type AlertSeriesValue } from '../../monitor/alerts.js';
import { MonitorMetrics } from '../../monitor/monitor-metrics.js';
import { MONITOR_DB_FILE, openMonitorDb, type MonitorDatabase } from '../../monitor/monitor-db.js';
import { PredictionLog, type FeedbackResult, type WindowRows } from '../../monitor/prediction-log.js';
import { PredictionSampler } from '../../monitor/prediction-log-sampler.js';
import { WebhookNotifier } from '../../monitor/webhook.js';
import type { Registry } from '../../registry/index.js';
import { alertSeriesValues } from './alert-series.js';
import { labelsToIndices } from './feedback-labels.js';
import { buildMonitorView, qualityOf, type MonitorView } from './monitor-view.js';
import type { WindowSpec } from './monitor-window.js';
import { OutcomeHistory } from './outcome-history.js';
import { LogRedaction, loadHashSalt } from './prediction-redaction.js';
import { featureCountOf, planOf } from './output-plans.js';
import { captureFeatures, captureOutputs, type OutputPlan } from '../serving/prediction-capture.js';
import { ReferenceStore, type ReferenceData } from '../serving/reference-data.js';
import { versionSeries, type VersionSeries } from './dashboard-series.js';
import type { ServedVersion } from '../serving/served-version.js';

/** What monitoring needs from the engine. */
export interface MonitoringHost {
  readonly registry: Registry;
  readonly logger: Logger;
  /** Every model's loaded versions. */
  served(): { name: string; source: 'registry' | 'repository'; versions: ServedVersion[] }[];
  /** The version a model's name routes to now (its champion), if any. */
  champion(model: string): Promise<number | undefined>;
}

/** A sampled request between the start and the end of its inference. */
export interface Capture {
  version: ServedVersion;
  plan: OutputPlan;
  timeMs: number;
  rows: number;
  features: (Float32Array | null)[];
  summaries: ReturnType<typeof captureFeatures>['summaries'];
}

export class MonitoringApp {
  readonly log: PredictionLog;
  readonly metrics: MonitorMetrics;
  private readonly sampler: PredictionSampler;
  private readonly references: ReferenceStore;
  /** The models' `monitoring.redact` rules, applied before a row is queued for the writer. */
  readonly redaction: LogRedaction;
  /** The salt of `hash` redaction (read or created at first use). */
  readonly hashSalt: () => Buffer;
  private salt: Buffer | undefined;
  private readonly alertDb: MonitorDatabase;
  private readonly notifier: WebhookNotifier;
  readonly alerts: AlertEvaluator;
  private readonly rules: CompiledAlertRule[];
  /** Model → versions logged since start (what the gauges and rules cover). */
  private readonly active = new Map<string, Set<number>>();
  /** Counters per version at each refresh, for error rates and batch sizes over time. */
  private readonly outcomes = new OutcomeHistory();
  private refreshTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly host: MonitoringHost,
    private readonly config: MonitoringConfig,
    alertsConfig: ServerConfig['alerts'],
    home: string,
    metricsRegistry: MetricsRegistry,
    /** Per model (the server config's `models.<name>.monitoring.retention_days`), another retention. */
    modelRetentionDays: Readonly<Record<string, number>> = {},
  ) {
    const path = join(home, MONITOR_DB_FILE);
    // The registry's keys (TEND_ENCRYPTION_KEY_FILE): features and scores are sealed at rest like model files.
    this.log = PredictionLog.open({
      path,
      retentionMs: config.retention_days * 86_400_000,
      modelRetentionMs: Object.fromEntries(
        Object.entries(modelRetentionDays).map(([model, days]) => [model, days * 86_400_000]),
      ),
      maxRows: config.max_rows,
      logger: host.logger,
      keys: host.registry.files.sealed.keys,
    });
    this.metrics = new MonitorMetrics(metricsRegistry);
    this.sampler = new PredictionSampler({
      rate: config.sampling_rate,
      ...(config.max_logged_per_second !== undefined ? { maxPerSecond: config.max_logged_per_second } : {}),
    });
    this.references = new ReferenceStore(host.registry);
    this.hashSalt = () => (this.salt ??= loadHashSalt(home, config.hash_salt_file));
    this.redaction = new LogRedaction({
      featureNames: async (sv) => (await this.reference(sv))?.featureNames ?? null,
      salt: this.hashSalt,
      logger: host.logger,
    });
    this.alertDb = openMonitorDb(path);
    this.notifier = new WebhookNotifier({
      webhooks: alertsConfig.webhooks,
      logger: host.logger,
      metrics: this.metrics,
    });
    this.rules = compileAlertRules(alertsConfig);
    this.alerts = new AlertEvaluator({
      rules: this.rules,
      source: (rule) => this.seriesValues(rule),
      store: new SqliteAlertEventStore(this.alertDb),
      sink: this.notifier,
      metrics: this.metrics,
      logger: host.logger,
    });
    if (this.rules.length > 0) this.alerts.start(evaluationIntervalMs(alertsConfig));
    this.refreshTimer = setInterval(
      () =>
        void this.refresh().catch((err: unknown) =>
          host.logger.warn({ err: (err as Error).message }, 'monitor refresh failed'),
        ),
      config.refresh_interval_ms,
    );
    this.refreshTimer.unref();
  }

  /** Start logging one request (undefined when it is not sampled); copies its features before it runs. */
  begin(sv: ServedVersion, inputs: readonly Tensor[]): Capture | undefined {
    if (this.closed || !this.sampler.take()) return undefined;
    const plan = planOf(sv);
    const captured = captureFeatures(plan, inputs, sv.maxBatchSize > 0);
    // Redacted now, on the capture's own copy: what leaves this function is all the log ever sees.
    for (let r = 0; r < captured.rows; r++) {
      const kept = this.redaction.apply(sv, captured.features[r] ?? null, captured.summaries[r] ?? null);
      captured.features[r] = kept.features;
      captured.summaries[r] = kept.featureSummary;
    }
    return { version: sv, plan, timeMs: Date.now(), ...captured };
  }

  /** Log the rows of a sampled request once it has its answer. */
  finish(
    capture: Capture,
    route: string,
    requestId: string,
    answeredBy: string,
    outputs: readonly Tensor[],
    latencyMs: number,
  ): void {
    const version = Number(answeredBy);
    const model = capture.version.model;
    let versions = this.active.get(model);
    if (!versions) this.active.set(model, (versions = new Set()));
    versions.add(version);
    for (let r = 0; r < capture.rows; r++) {
      this.log.record({
        requestId,
        row: r,
        model,
        version,
        route,
        timeMs: capture.timeMs,
        latencyMs,
        features: capture.features[r] ?? null,
        featureSummary: capture.summaries[r] ?? null,
        ...captureOutputs(capture.plan, outputs, r, capture.rows),
      });
    }
  }

  /**
   * Attach ground truth. `items` is the request's `feedback` array: a number label is a class index,
   * a string label a class name of the model; regression items carry `value`.
   */
  async feedback(
    model: string,
    items: unknown,
    classNames: readonly string[] | undefined,
  ): Promise<FeedbackResult> {
    if (!Array.isArray(items))
      throw errors.invalidInput(
        '"feedback" must be an array of {"id", "row", "label"} or {"id", "row", "value"} items',
      );
    if (items.length > 100_000)
      throw errors.invalidInput(`at most 100000 feedback items per request, got ${items.length}`);
    const { mapped, rejected } = labelsToIndices(model, items, classNames);
    const result = await this.log.addFeedback(mapped);
    this.metrics.feedbackRows(result.accepted);
    return { ...result, rejected: [...rejected, ...result.rejected] };
  }

  /** Logged rows of one version in a window (committed rows: the log is flushed first). */
  async rows(model: string, version: number, window: WindowSpec): Promise<WindowRows> {
    await this.log.flush();
    return this.log.window({
      model,
      version,
      ...(window.sinceMs !== undefined ? { sinceMs: window.sinceMs } : {}),
      ...(window.last !== undefined ? { last: window.last } : {}),
    });
  }

  /** The reference of a served version, or null. */
  async reference(sv: ServedVersion): Promise<ReferenceData | null> {
    const count = featureCountOf(sv);
    return sv.source === 'registry'
      ? this.references.forRegistryVersion(sv.model, sv.version, count)
      : this.references.forRepositoryVersion(sv.path, sv.version, count);
  }

  /** The monitor API's answer for one served version. */
  async view(sv: ServedVersion, window: WindowSpec): Promise<MonitorView> {
    const plan = planOf(sv);
    const rows = await this.rows(sv.model, sv.version, window);
    let reference: ReferenceData | null = null;
    let referenceError: string | null = null;
    try {
      reference = await this.reference(sv);
    } catch (err) {
      referenceError = (err as Error).message;
    }
    const view = buildMonitorView({
      model: sv.model,
      version: sv.version,
      window: window.text,
      rows,
      task: plan.task,
      numClasses: plan.numClasses,
      reference,
      alerts: this.alerts.active().filter((a) => a.model === sv.model && a.version === String(sv.version)),
    });
    if (referenceError !== null) view.drift_note = `reference data set unusable: ${referenceError}`;
    return view;
  }

  /** Recompute the gauges of every version logged since start (timer; also callable in tests). */
  async refresh(): Promise<void> {
    for (const entry of this.host.served()) {
      for (const sv of entry.versions.filter((v) => v.isReady)) {
        const model = entry.name;
        const version = sv.version;
        this.outcomes.record(sv);
        if (!this.active.get(model)?.has(version)) continue;
        const view = await this.view(sv, {
          last: this.config.window_last,
          text: `last ${this.config.window_last}`,
        });
        this.metrics.setQuality(model, String(version), (view.quality ?? {}) as Record<string, unknown>);
        if (view.drift) this.metrics.setDrift(model, String(version), view.drift);
      }
    }
    const stats = this.log.stats;
    this.metrics.loggedRows(stats.written - this.loggedSoFar);
    this.metrics.droppedRows(stats.dropped - this.droppedSoFar);
    this.loggedSoFar = stats.written;
    this.droppedSoFar = stats.dropped;
  }

  private loggedSoFar = 0;
  private droppedSoFar = 0;

  /** Dashboard time series of every loaded version of a model over the last `windowMs`. */
  async series(
    model: string,
    windowMs: number,
    buckets: number,
  ): Promise<{ model: string; bucket_seconds: number; versions: VersionSeries[] }> {
    const entry = this.host.served().find((m) => m.name === model);
    if (!entry) throw errors.modelNotFound(model);
    const bucketMs = Math.max(1000, Math.ceil(windowMs / buckets / 1000) * 1000);
    const now = Date.now();
    const startMs = Math.floor((now - bucketMs * buckets) / bucketMs) * bucketMs + bucketMs;
    const versions: VersionSeries[] = [];
    for (const sv of entry.versions.filter((v) => v.isReady)) {
      this.outcomes.record(sv);
      const rows = await this.rows(model, sv.version, { sinceMs: startMs, text: '' });
      versions.push(
        versionSeries({
          version: sv.version,
          rows,
          samples: this.outcomes.samples(model, sv.version),
          task: planOf(sv).task,
          startMs,
          bucketMs,
          buckets,
          samplingRate: this.config.sampling_rate,
        }),
      );
    }
    return { model, bucket_seconds: bucketMs / 1000, versions };
  }

  /** The series of one rule (alert-series.ts), read from this app's log, counters and views. */
  private seriesValues(rule: CompiledAlertRule): Promise<AlertSeriesValue[]> {
    return alertSeriesValues(rule, {
      served: () => this.host.served(),
      champion: (model) => this.host.champion(model),
      outcomes: this.outcomes,
      view: (sv, window) => this.view(sv, window),
      rows: (model, version, window) => this.rows(model, version, window),
      samplingRate: this.config.sampling_rate,
    });
  }

  /** A quality metric of one version over its logged rows since `sinceMs`, with the labelled count. */
  async qualitySince(
    model: string,
    version: number,
    sinceMs: number,
    metric: string,
    task: OutputPlan,
  ): Promise<{ labelled: number; value: number | null }> {
    const rows = await this.rows(model, version, { sinceMs, text: 'since the canary started' });
    const { labelled, quality } = qualityOf(rows, task.task, task.numClasses);
    const value = quality === null ? null : (quality as unknown as Record<string, number | null>)[metric];
    return { labelled, value: typeof value === 'number' && Number.isFinite(value) ? value : null };
  }

  /** Pending and firing alerts. */
  activeAlerts(): ActiveAlert[] {
    return this.alerts.active();
  }

  /** Stored alert events, newest first. */
  alertEvents(limit = 100): AlertEvent[] {
    return new SqliteAlertEventStore(this.alertDb).list({ limit });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    await this.alerts.stop();
    await this.notifier.close(2000);
    await this.log.close();
    this.alertDb.close();
  }
}
