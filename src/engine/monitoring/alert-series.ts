/**
 * The values alert rules are evaluated on: for each model and version a rule matches, its metric
 * (error rate, drifted share, p99 latency, request rate, or a quality metric) over the rule's window.
 */
import { matchesModel, type CompiledAlertRule } from '../../core/alert-rules.js';
import { nearestRank } from '../../core/percentile.js';
import type { AlertSeriesValue } from '../../monitor/alerts.js';
import type { WindowRows } from '../../monitor/prediction-log.js';
import { qualityOf, type MonitorView } from './monitor-view.js';
import type { WindowSpec } from './monitor-window.js';
import type { OutcomeHistory } from './outcome-history.js';
import { planOf } from './output-plans.js';
import type { ServedVersion } from '../serving/served-version.js';

/** What the series are read from (the monitoring app's host, counters, views and log). */
export interface AlertSeriesSource {
  /** Every model's loaded versions. */
  served(): { name: string; versions: ServedVersion[] }[];
  /** The version a model's name routes to now (its champion), if any. */
  champion(model: string): Promise<number | undefined>;
  outcomes: OutcomeHistory;
  view(sv: ServedVersion, window: WindowSpec): Promise<MonitorView>;
  rows(model: string, version: number, window: WindowSpec): Promise<WindowRows>;
  /** The share of requests logged: request rates are scaled up by it. */
  samplingRate: number;
}

/** The series of one rule: every matching model and version, valued over the rule's window. */
export async function alertSeriesValues(
  rule: CompiledAlertRule,
  source: AlertSeriesSource,
): Promise<AlertSeriesValue[]> {
  const out: AlertSeriesValue[] = [];
  // Every loaded version is a series (not only those logged since start): an alert restored after
  // a restart must not resolve just because no request has arrived yet.
  const served = new Map(source.served().map((m) => [m.name, m]));
  for (const [model, entry] of served) {
    if (!matchesModel(rule.model, model)) continue;
    let versions = entry.versions.filter((v) => v.isReady).map((v) => v.version);
    if (rule.version === 'champion') {
      const champion = await source.champion(model);
      versions = champion === undefined ? [] : [champion];
    } else if (typeof rule.version === 'number') versions = [rule.version];
    for (const version of versions) {
      const sv = served.get(model)?.versions.find((v) => v.version === version);
      if (!sv) continue;
      const window: WindowSpec =
        rule.windowMs !== null
          ? { sinceMs: Date.now() - rule.windowMs, text: rule.windowText }
          : { last: rule.last ?? 1000, text: rule.windowText };
      out.push({ model, version: String(version), ...(await metricValue(rule, sv, window, source)) });
    }
  }
  return out;
}

/** The value of the rule's metric for one version over `window`, with the count it rests on. */
async function metricValue(
  rule: CompiledAlertRule,
  sv: ServedVersion,
  window: WindowSpec,
  source: AlertSeriesSource,
): Promise<{ value: number | null; samples: number }> {
  if (rule.metric === 'error_rate') {
    source.outcomes.record(sv);
    const list = source.outcomes.samples(sv.model, sv.version);
    const now = list[list.length - 1];
    const since = window.sinceMs ?? 0;
    const start = list.find((e) => e.t >= since) ?? list[0];
    if (!now || !start) return { value: null, samples: 0 };
    const ok = now.ok - start.ok;
    const failed = now.failed - start.failed;
    return { value: ok + failed === 0 ? null : failed / (ok + failed), samples: ok + failed };
  }
  if (rule.metric === 'drifted_share') {
    const view = await source.view(sv, window);
    return { value: view.drift?.drifted_share ?? null, samples: view.predictions };
  }
  const rows = await source.rows(sv.model, sv.version, window);
  if (rule.metric === 'p99_latency_ms') {
    if (rows.count === 0) return { value: null, samples: 0 };
    const sorted = Float64Array.from(rows.latencyMs).sort();
    return { value: nearestRank(sorted, 0.99) ?? null, samples: rows.count };
  }
  if (rule.metric === 'request_rate') {
    const seconds = rule.windowMs === null ? 0 : rule.windowMs / 1000;
    const requests = new Set(rows.requestIds).size / Math.max(source.samplingRate, 1e-9);
    return { value: seconds > 0 ? requests / seconds : null, samples: rows.count };
  }
  const plan = planOf(sv);
  const { labelled, quality } = qualityOf(rows, plan.task, plan.numClasses);
  const value = quality === null ? null : (quality as unknown as Record<string, number | null>)[rule.metric];
  return { value: typeof value === 'number' && Number.isFinite(value) ? value : null, samples: labelled };
}
