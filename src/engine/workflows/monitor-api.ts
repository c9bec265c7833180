/**
 * The monitor API and the dashboard as the frontends call them (`engine.monitoring`). Each answer
 * needs more than the monitoring application: the model table resolves the version, the deployment
 * routes name the champion a model's name serves, and feedback feeds online learning.
 */
import type { Logger } from '../../core/logger.js';
import { errors, toTendError } from '../../core/errors.js';
import type { ActiveAlert } from '../../monitor/alerts.js';
import type { AlertEvent } from '../../monitor/alert-store.js';
import type { DeleteResult, FeedbackResult } from '../../monitor/prediction-log.js';
import { auditedAction, type AuditLog } from '../access/audited-action.js';
import { deletionSelector, describeDeletion, type LogDeleteRequest } from '../monitoring/log-deletion.js';
import type { OnlineLearning } from '../jobs/online-learning.js';
import type { MonitorView } from '../monitoring/monitor-view.js';
import type { MonitoringApp } from '../monitoring/monitoring-app.js';
import { parseWindow } from '../monitoring/monitor-window.js';
import { planOf } from '../monitoring/output-plans.js';
import type { ModelTable } from '../serving/model-table.js';
import type { VersionSource } from '../serving/served-version.js';
import type { DeploymentControl } from '../traffic/deployment-control.js';

/** The dashboard's time series of one model. */
export type DashboardSeries = Awaited<ReturnType<MonitoringApp['series']>> & { window: string };

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

export interface MonitorApiRooms {
  table: ModelTable;
  deployments: DeploymentControl;
  /** Off with `monitoring.enabled: false` (and for one-shot commands). */
  monitoring: MonitoringApp | undefined;
  learning: OnlineLearning;
  logger: Logger;
  /** Rows a view covers when the query gives no window (config `monitoring.window_last`). */
  windowLast: number;
  /** Where deletions are recorded (the registry's audit log). */
  audit: AuditLog;
}

export class MonitorApi {
  private qualityTimer: NodeJS.Timeout | undefined;

  constructor(private readonly rooms: MonitorApiRooms) {}

  /** The monitoring application itself (the prediction log, metrics, alerts); undefined when monitoring is off. */
  get app(): MonitoringApp | undefined {
    return this.rooms.monitoring;
  }

  private requireMonitoring(): MonitoringApp {
    if (!this.rooms.monitoring)
      throw errors.forbidden('monitoring is off (monitoring.enabled: false in the server config)');
    return this.rooms.monitoring;
  }

  /** The champion a model's name routes to, else its highest ready version. */
  async servingVersion(model: string): Promise<number | undefined> {
    return (
      (await this.rooms.deployments.routesFor(model))?.champion ??
      this.rooms.table.defaultVersionNumber(model)
    );
  }

  /**
   * The monitor's answer for a model: the given version (number or alias), else the version its
   * name routes to; over `window` (e.g. 1h) or the `last` N logged rows.
   */
  async view(
    model: string,
    query: { version?: string; window?: string; last?: string } = {},
  ): Promise<MonitorView> {
    const monitoring = this.requireMonitoring();
    const window = parseWindow(query.window, query.last, this.rooms.windowLast);
    let versionRef = query.version;
    if (versionRef === undefined) {
      const champion = (await this.rooms.deployments.routesFor(model))?.champion;
      if (champion !== undefined) versionRef = String(champion);
    }
    const sv = await this.rooms.table.resolve(model, versionRef);
    return monitoring.view(sv, window);
  }

  /** Attach ground truth to logged predictions of a model (the body's `feedback` array). */
  async feedback(model: string, items: unknown): Promise<FeedbackResult & { learned?: number }> {
    const monitoring = this.requireMonitoring();
    const sv = await this.rooms.table.resolve(model);
    const result = await monitoring.feedback(sv.model, items, sv.config.labels ?? sv.classes);
    if (!sv.config.online_learning?.from_feedback || result.accepted === 0) return result;
    return { ...result, learned: await this.learnFromFeedback(monitoring, sv.model, items as unknown[]) };
  }

  /**
   * The feedback stream as online learning: each item that carries a label or value is learned with
   * the features logged for its row. Feedback is never refused for the learner's sake: a sample the
   * learner cannot take is logged and skipped.
   */
  private async learnFromFeedback(
    monitoring: MonitoringApp,
    model: string,
    items: readonly unknown[],
  ): Promise<number> {
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
    const chunk = this.rooms.table.modelConfig(model).online_learning?.max_samples_per_request ?? 1000;
    let learned = 0;
    try {
      for (let at = 0; at < samples.length; at += chunk)
        learned += (
          await this.rooms.learning.learn(model, undefined, { samples: samples.slice(at, at + chunk) })
        ).learned;
      return learned;
    } catch (err) {
      this.rooms.logger.warn({ model, err: toTendError(err).message }, 'feedback not learned online');
      return learned;
    }
  }

  /**
   * Delete logged predictions of a model (privacy), audited as `prediction_log.delete` with who asked
   * and what went; drift and quality read the log, so they recompute without the rows.
   * @throws TendError TEND_INVALID_ARGUMENT for a request with no selector (nothing is deleted).
   */
  async deleteLogged(request: LogDeleteRequest): Promise<DeleteResult> {
    const monitoring = this.requireMonitoring();
    const selector = await deletionSelector(request, {
      version: () => this.rooms.table.resolve(request.model),
      config: () => this.rooms.table.modelConfig(request.model),
      featureNames: async (sv) => (await monitoring.reference(sv))?.featureNames ?? null,
      salt: () => monitoring.hashSalt(),
    });
    return auditedAction(
      this.rooms.audit,
      'prediction_log.delete',
      request.model,
      () => monitoring.log.delete(selector),
      (result) => describeDeletion(request, result),
    );
  }

  /** Apply the quality rule of canaries (their policy's `quality_metric`); a no-op with monitoring off. */
  async checkCanaryQuality(): Promise<void> {
    const monitoring = this.rooms.monitoring;
    if (!monitoring) return;
    await this.rooms.deployments.checkQuality(async (endpoint, version, sinceMs, metric) => {
      const sv = await this.rooms.table.resolve(endpoint, String(version));
      return monitoring.qualitySince(endpoint, version, sinceMs, metric, planOf(sv));
    });
  }

  /** Check canaries' quality every `intervalMs` until close (a failed check is logged, never thrown). */
  checkCanaryQualityEvery(intervalMs: number): void {
    this.qualityTimer = setInterval(() => {
      void this.checkCanaryQuality().catch((err: unknown) =>
        this.rooms.logger.warn({ err: (err as Error).message }, 'canary quality check failed'),
      );
    }, intervalMs);
    this.qualityTimer.unref();
  }

  /** Stop the canary checks and close the monitoring application (its log flushes first). */
  async close(): Promise<void> {
    if (this.qualityTimer) clearInterval(this.qualityTimer);
    await this.rooms.monitoring?.close();
  }

  /** Every model for the dashboard: its versions and states, aliases, routes and default version. */
  async dashboardModels(): Promise<DashboardModel[]> {
    const { registry } = this.rooms.table;
    const out: DashboardModel[] = [];
    for (const m of this.rooms.table.listServed().sort((a, b) => a.name.localeCompare(b.name))) {
      const aliases =
        m.source === 'registry' ? await registry.models.listAliases(m.name).catch(() => ({})) : {};
      const deployment =
        m.source === 'registry' ? await registry.deployments.get(m.name).catch(() => null) : null;
      out.push({
        name: m.name,
        source: m.source,
        error: m.error ?? null,
        versions: m.versions.map((v) => ({
          version: v.version,
          state: v.state,
          reason: v.reason,
          task: planOf(v).task,
        })),
        aliases,
        routes: deployment?.routes ?? null,
        serving_version: (await this.servingVersion(m.name)) ?? null,
      });
    }
    return out;
  }

  /** The dashboard's time series of a model over `window` (default 15m) in `buckets` buckets (default 60). */
  async dashboardSeries(model: string, window = '15m', buckets = '60'): Promise<DashboardSeries> {
    const monitoring = this.requireMonitoring();
    const spec = parseWindow(window, undefined, 0);
    if (!/^[1-9][0-9]{0,3}$/.test(buckets) || Number(buckets) > 600)
      throw errors.invalidArgument(`buckets '${buckets}' must be a whole number from 1 to 600`);
    const windowMs = Date.now() - (spec.sinceMs ?? Date.now());
    return { ...(await monitoring.series(model, windowMs, Number(buckets))), window };
  }

  /** Pending and firing alerts, and the newest `limit` alert events. */
  alerts(limit = 100): { active: ActiveAlert[]; events: AlertEvent[] } {
    const monitoring = this.requireMonitoring();
    return { active: monitoring.activeAlerts(), events: monitoring.alertEvents(limit) };
  }
}
