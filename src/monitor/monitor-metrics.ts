/**
 * Prometheus metrics of model monitoring — quality, drift, alert states, prediction log — on the
 * same registry as the inference metrics, so one `GET /metrics` serves both.
 *
 * Gauges describe the latest evaluation: a value that cannot be computed (null) removes its series
 * rather than exporting a stale or made-up number, and `clearVersion` removes everything of a
 * version that is no longer served. Feature names are a label: fine for tabular models (tens of
 * columns), the cardinality to watch if a model has thousands of inputs.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { AlertState } from './alerts.js';
import type { DeliveryOutcome } from './webhook.js';

/** The drift figures exported per version (a DriftReport fits). */
export interface DriftSummary {
  dataset_drift: boolean;
  drifted_share: number;
  features: readonly { name: string; statistic: number | null; p_value: number | null; drifted: boolean }[];
}

const ALERT_STATE_VALUE: Record<AlertState, number> = { inactive: 0, pending: 1, firing: 2 };

/** Keys of a metrics record that are not quality metrics. */
const NOT_A_METRIC = new Set(['count', 'confusion_matrix']);

interface VersionSeries {
  qualityMetrics: Set<string>;
  features: Set<string>;
  hasDrift: boolean;
  hasSamples: boolean;
}

/** The monitoring metrics; register once per registry. */
export class MonitorMetrics {
  private readonly quality: Gauge<'model' | 'version' | 'metric'>;
  private readonly qualitySamples: Gauge<'model' | 'version'>;
  private readonly featureScore: Gauge<'model' | 'version' | 'feature'>;
  private readonly featureDrifted: Gauge<'model' | 'version' | 'feature'>;
  private readonly driftShare: Gauge<'model' | 'version'>;
  private readonly datasetDrift: Gauge<'model' | 'version'>;
  private readonly alertState: Gauge<'rule'>;
  private readonly logRows: Counter;
  private readonly logDropped: Counter;
  private readonly feedback: Counter;
  private readonly webhookDeliveries: Counter<'webhook' | 'outcome'>;
  private readonly versions = new Map<string, VersionSeries>();

  constructor(registry: Registry) {
    const registers = [registry];
    this.quality = new Gauge({
      name: 'tend_model_quality',
      help: 'Latest quality metric of a model version over its monitoring window (accuracy, f1_macro, rmse, ...), from logged predictions joined with feedback.',
      labelNames: ['model', 'version', 'metric'],
      registers,
    });
    this.qualitySamples = new Gauge({
      name: 'tend_model_quality_samples',
      help: 'Labelled predictions the latest quality metrics of a model version rest on.',
      labelNames: ['model', 'version'],
      registers,
    });
    this.featureScore = new Gauge({
      name: 'tend_feature_drift_score',
      help: 'Drift test result per input feature: the p-value for statistical tests (low = drifted), the distance for distance tests (high = drifted).',
      labelNames: ['model', 'version', 'feature'],
      registers,
    });
    this.featureDrifted = new Gauge({
      name: 'tend_feature_drifted',
      help: 'Whether an input feature drifted in the latest drift report (1) or not (0).',
      labelNames: ['model', 'version', 'feature'],
      registers,
    });
    this.driftShare = new Gauge({
      name: 'tend_dataset_drift_share',
      help: 'Share of tested features that drifted in the latest drift report (0 to 1).',
      labelNames: ['model', 'version'],
      registers,
    });
    this.datasetDrift = new Gauge({
      name: 'tend_dataset_drift',
      help: 'Whether the latest drift report found dataset drift (1) or not (0).',
      labelNames: ['model', 'version'],
      registers,
    });
    this.alertState = new Gauge({
      name: 'tend_alert_state',
      help: 'State of a tend alert rule, the most severe of its series: 0 inactive, 1 pending, 2 firing.',
      labelNames: ['rule'],
      registers,
    });
    this.logRows = new Counter({
      name: 'tend_prediction_log_rows_total',
      help: 'Predictions written to the prediction log.',
      registers,
    });
    this.logDropped = new Counter({
      name: 'tend_prediction_log_dropped_total',
      help: 'Predictions not logged because the log writer was behind (the request itself was served).',
      registers,
    });
    this.feedback = new Counter({
      name: 'tend_feedback_rows_total',
      help: 'Ground-truth feedback rows received.',
      registers,
    });
    this.webhookDeliveries = new Counter({
      name: 'tend_alert_webhook_deliveries_total',
      help: 'Alert webhook deliveries by outcome (delivered, failed, dropped, abandoned).',
      labelNames: ['webhook', 'outcome'],
      registers,
    });
  }

  private seriesOf(model: string, version: string): VersionSeries {
    const key = JSON.stringify([model, version]);
    let s = this.versions.get(key);
    if (!s) {
      s = { qualityMetrics: new Set(), features: new Set(), hasDrift: false, hasSamples: false };
      this.versions.set(key, s);
    }
    return s;
  }

  /**
   * Replace a version's quality metrics. Finite numbers are exported; null, NaN and metrics absent
   * from `metrics` lose their series; `count` becomes tend_model_quality_samples; other values
   * (a confusion matrix) are ignored. A ClassificationMetrics or RegressionMetrics object fits.
   */
  setQuality(model: string, version: string, metrics: Readonly<Record<string, unknown>>): void {
    const s = this.seriesOf(model, version);
    const next = new Set<string>();
    for (const [metric, value] of Object.entries(metrics)) {
      if (NOT_A_METRIC.has(metric) || typeof value !== 'number' || !Number.isFinite(value)) continue;
      this.quality.set({ model, version, metric }, value);
      next.add(metric);
    }
    for (const metric of s.qualityMetrics)
      if (!next.has(metric)) this.quality.remove({ model, version, metric });
    s.qualityMetrics = next;
    const count = metrics['count'];
    if (typeof count === 'number' && Number.isFinite(count)) {
      this.qualitySamples.set({ model, version }, count);
      s.hasSamples = true;
    } else if (s.hasSamples) {
      this.qualitySamples.remove({ model, version });
      s.hasSamples = false;
    }
  }

  /** Replace a version's drift figures; features missing from `drift` lose their series. */
  setDrift(model: string, version: string, drift: DriftSummary): void {
    const s = this.seriesOf(model, version);
    this.driftShare.set({ model, version }, drift.drifted_share);
    this.datasetDrift.set({ model, version }, drift.dataset_drift ? 1 : 0);
    s.hasDrift = true;
    const next = new Set<string>();
    for (const f of drift.features) {
      const labels = { model, version, feature: f.name };
      const score = f.p_value ?? f.statistic;
      if (score !== null && Number.isFinite(score)) this.featureScore.set(labels, score);
      else this.featureScore.remove(labels);
      this.featureDrifted.set(labels, f.drifted ? 1 : 0);
      next.add(f.name);
    }
    for (const feature of s.features) {
      if (next.has(feature)) continue;
      this.featureScore.remove({ model, version, feature });
      this.featureDrifted.remove({ model, version, feature });
    }
    s.features = next;
  }

  /** Remove every quality and drift series of a version (unloaded, deleted). */
  clearVersion(model: string, version: string): void {
    const key = JSON.stringify([model, version]);
    const s = this.versions.get(key);
    if (!s) return;
    for (const metric of s.qualityMetrics) this.quality.remove({ model, version, metric });
    for (const feature of s.features) {
      this.featureScore.remove({ model, version, feature });
      this.featureDrifted.remove({ model, version, feature });
    }
    if (s.hasSamples) this.qualitySamples.remove({ model, version });
    if (s.hasDrift) {
      this.driftShare.remove({ model, version });
      this.datasetDrift.remove({ model, version });
    }
    this.versions.delete(key);
  }

  /** Export a rule's state (0 inactive, 1 pending, 2 firing). */
  setAlert(rule: string, state: AlertState): void {
    this.alertState.set({ rule }, ALERT_STATE_VALUE[state]);
  }

  /** Forget a rule that no longer exists. */
  removeAlert(rule: string): void {
    this.alertState.remove({ rule });
  }

  /** Count predictions written to the prediction log. */
  loggedRows(n: number): void {
    if (n > 0) this.logRows.inc(n);
  }

  /** Count predictions the log dropped (writer behind). */
  droppedRows(n: number): void {
    if (n > 0) this.logDropped.inc(n);
  }

  /** Count feedback rows received. */
  feedbackRows(n: number): void {
    if (n > 0) this.feedback.inc(n);
  }

  /** Count one webhook delivery outcome (the WebhookNotifier calls this). */
  webhookDelivery(webhook: string, outcome: DeliveryOutcome): void {
    this.webhookDeliveries.inc({ webhook, outcome });
  }
}
