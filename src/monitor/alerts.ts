/**
 * The alert evaluator: Prometheus's state machine, run over tend's own monitor values.
 *
 * Each rule expands into series, one per (model, version) that the value source reports. Per series:
 *
 *   inactive ──condition holds──▶ pending ──held for `for`──▶ firing ──condition false──▶ inactive
 *                                    │                           (a `resolved` event)
 *                                    └──false or no data──▶ inactive (no event)
 *
 * With `for: 0s` an alert fires on the evaluation that first sees the condition.
 *
 * "No data" (value null, or fewer than `min_samples` samples) never fires and never resolves a
 * firing alert: a quality alert must not clear because feedback stopped arriving. A firing alert
 * whose series the source no longer reports at all (the version was unloaded, the model removed)
 * resolves with value null, as Prometheus resolves an alert whose series disappears. A source that
 * throws leaves every series of that rule as it was.
 */
import type { Logger } from '../core/logger.js';
import { silentLogger } from '../core/logger.js';
import { compare, type CompiledAlertRule } from '../core/alert-rules.js';
import { seriesKey, type AlertEvent, type AlertEventStore } from './alert-store.js';

/** The current value of one series of a rule, as the monitor measured it over the rule's window. */
export interface AlertSeriesValue {
  model: string;
  version: string;
  /** Null when the metric could not be computed (e.g. no labelled rows). */
  value: number | null;
  /** How many observations the value rests on (rows, requests). */
  samples: number;
}

/** Gives the series of a rule (models matching its pattern, versions matching its version selector). */
export type AlertValueSource = (
  rule: CompiledAlertRule,
) => Iterable<AlertSeriesValue> | Promise<Iterable<AlertSeriesValue>>;

export type AlertState = 'inactive' | 'pending' | 'firing';

/** A pending or firing alert, as `tend alerts` shows it. */
export interface ActiveAlert {
  rule: string;
  model: string;
  version: string;
  metric: CompiledAlertRule['metric'];
  state: 'pending' | 'firing';
  value: number | null;
  op: CompiledAlertRule['op'];
  threshold: number;
  samples: number;
  severity: CompiledAlertRule['severity'];
  window: string;
  /** When the condition first held (ISO 8601). */
  active_at: string;
  /** When it fired (ISO 8601), null while pending. */
  fired_at: string | null;
}

/** Where events are delivered beyond the store: the webhook notifier fits. */
export interface AlertEventSink {
  notify(event: AlertEvent, webhooks: readonly string[]): void;
}

/** Where per-rule states are exported: MonitorMetrics fits. */
export interface AlertStateGauge {
  setAlert(rule: string, state: AlertState): void;
}

export interface AlertEvaluatorOptions {
  rules: readonly CompiledAlertRule[];
  source: AlertValueSource;
  /** Milliseconds since the epoch (default Date.now). */
  clock?: () => number;
  store?: AlertEventStore;
  sink?: AlertEventSink;
  metrics?: AlertStateGauge;
  logger?: Logger;
  /**
   * Take firing alerts back from the store's newest events, so a restart neither re-fires nor forgets to
   * resolve them (default true).
   */
  restore?: boolean;
}

interface SeriesState {
  rule: CompiledAlertRule;
  model: string;
  version: string;
  state: 'pending' | 'firing';
  activeAtMs: number;
  firedAtMs: number | null;
  value: number | null;
  samples: number;
}

const STATE_RANK: Record<AlertState, number> = { inactive: 0, pending: 1, firing: 2 };

function formatValue(value: number | null): string {
  if (value === null) return 'no value';
  return Number.isInteger(value) ? String(value) : value.toPrecision(4);
}

/** Evaluates alert rules on demand (`evaluate`) or on a timer (`start`). */
export class AlertEvaluator {
  private readonly rules: readonly CompiledAlertRule[];
  private readonly series = new Map<string, SeriesState>();
  private readonly clock: () => number;
  private readonly logger: Logger;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<AlertEvent[]> | null = null;

  constructor(private readonly options: AlertEvaluatorOptions) {
    this.rules = options.rules;
    this.clock = options.clock ?? Date.now;
    this.logger = options.logger ?? silentLogger;
    if (options.restore !== false && options.store) this.restore(options.store);
    for (const rule of this.rules) options.metrics?.setAlert(rule.name, this.ruleState(rule.name));
  }

  private restore(store: AlertEventStore): void {
    const byName = new Map(this.rules.map((r) => [r.name, r]));
    for (const event of store.latestPerSeries()) {
      const rule = byName.get(event.rule);
      if (event.state !== 'firing' || rule === undefined) continue;
      this.series.set(seriesKey(rule.name, event.model, event.version), {
        rule,
        model: event.model,
        version: event.version,
        state: 'firing',
        activeAtMs: Date.parse(event.started_at),
        firedAtMs: Date.parse(event.at),
        value: event.value,
        samples: event.samples,
      });
    }
  }

  /**
   * Evaluate every rule once; returns the events of this round (also stored, logged and sent). Rounds never
   * overlap.
   */
  async evaluate(): Promise<AlertEvent[]> {
    while (this.running) await this.running.catch(() => undefined);
    this.running = this.evaluateOnce();
    try {
      return await this.running;
    } finally {
      this.running = null;
    }
  }

  private async evaluateOnce(): Promise<AlertEvent[]> {
    const events: AlertEvent[] = [];
    for (const rule of this.rules) {
      let values: AlertSeriesValue[];
      try {
        values = [...(await this.options.source(rule))];
      } catch (err) {
        this.logger.warn(
          { rule: rule.name, err: (err as Error).message },
          'alert rule could not be evaluated; its alerts keep their state',
        );
        continue;
      }
      events.push(...this.step(rule, values, this.clock()));
    }
    for (const event of events) this.emit(event);
    for (const rule of this.rules) this.options.metrics?.setAlert(rule.name, this.ruleState(rule.name));
    return events;
  }

  /** Advance every series of one rule to `now`. */
  private step(rule: CompiledAlertRule, values: readonly AlertSeriesValue[], now: number): AlertEvent[] {
    const events: AlertEvent[] = [];
    const seen = new Set<string>();
    for (const v of values) {
      const key = seriesKey(rule.name, v.model, v.version);
      if (seen.has(key)) continue; // a source that repeats a series: the first report wins
      seen.add(key);
      const hasData = v.value !== null && Number.isFinite(v.value) && v.samples >= rule.minSamples;
      const holds = hasData && v.value !== null && compare(v.value, rule.op, rule.threshold);
      const current = this.series.get(key);
      if (current === undefined) {
        if (!holds) continue;
        const pending: SeriesState = {
          rule,
          model: v.model,
          version: v.version,
          state: 'pending',
          activeAtMs: now,
          firedAtMs: null,
          value: v.value,
          samples: v.samples,
        };
        this.series.set(key, pending);
        if (rule.forMs === 0) events.push(this.fire(pending, now));
        continue;
      }
      if (holds) {
        current.value = v.value;
        current.samples = v.samples;
        if (current.state === 'pending' && now - current.activeAtMs >= rule.forMs)
          events.push(this.fire(current, now));
      } else if (current.state === 'pending') {
        this.series.delete(key);
      } else if (hasData) {
        this.series.delete(key);
        events.push(this.event(current, 'resolved', v.value, v.samples, now));
      }
      // firing without data: held until data returns or the series goes away
    }
    for (const [key, s] of this.series) {
      if (s.rule.name !== rule.name || seen.has(key)) continue;
      this.series.delete(key);
      if (s.state === 'firing') events.push(this.event(s, 'resolved', null, 0, now));
    }
    return events;
  }

  private fire(s: SeriesState, now: number): AlertEvent {
    s.state = 'firing';
    s.firedAtMs = now;
    return this.event(s, 'firing', s.value, s.samples, now);
  }

  private event(
    s: SeriesState,
    state: AlertEvent['state'],
    value: number | null,
    samples: number,
    now: number,
  ): AlertEvent {
    const r = s.rule;
    const subject = `${r.metric} of ${s.model} version ${s.version}`;
    const condition = `${r.op} ${r.threshold} over ${r.windowText}`;
    const message =
      state === 'firing'
        ? `${r.name}: ${subject} is ${formatValue(value)} (${condition}, ${samples} samples)`
        : value === null
          ? `${r.name}: resolved, ${subject} is no longer reported`
          : `${r.name}: resolved, ${subject} is ${formatValue(value)} (no longer ${condition}, ${samples} samples)`;
    return {
      rule: r.name,
      model: s.model,
      version: s.version,
      metric: r.metric,
      state,
      value,
      op: r.op,
      threshold: r.threshold,
      samples,
      severity: r.severity,
      started_at: new Date(s.activeAtMs).toISOString(),
      at: new Date(now).toISOString(),
      message,
    };
  }

  private emit(event: AlertEvent): void {
    const log = {
      alert: event.rule,
      model: event.model,
      version: event.version,
      state: event.state,
      value: event.value,
      severity: event.severity,
    };
    if (event.state === 'firing') this.logger.warn(log, event.message);
    else this.logger.info(log, event.message);
    try {
      this.options.store?.append(event);
    } catch (err) {
      this.logger.error(
        { alert: event.rule, err: (err as Error).message },
        'alert event could not be stored',
      );
    }
    const rule = this.rules.find((r) => r.name === event.rule);
    if (rule && rule.webhooks.length > 0) this.options.sink?.notify(event, rule.webhooks);
  }

  /** Pending and firing alerts, firing first, then by rule, model and version. */
  active(): ActiveAlert[] {
    return [...this.series.values()]
      .map((s) => ({
        rule: s.rule.name,
        model: s.model,
        version: s.version,
        metric: s.rule.metric,
        state: s.state,
        value: s.value,
        op: s.rule.op,
        threshold: s.rule.threshold,
        samples: s.samples,
        severity: s.rule.severity,
        window: s.rule.windowText,
        active_at: new Date(s.activeAtMs).toISOString(),
        fired_at: s.firedAtMs === null ? null : new Date(s.firedAtMs).toISOString(),
      }))
      .sort(
        (a, b) =>
          STATE_RANK[b.state] - STATE_RANK[a.state] ||
          a.rule.localeCompare(b.rule) ||
          a.model.localeCompare(b.model) ||
          a.version.localeCompare(b.version, undefined, { numeric: true }),
      );
  }

  /** The most severe state among a rule's series ('inactive' when it has none). */
  ruleState(rule: string): AlertState {
    let state: AlertState = 'inactive';
    for (const s of this.series.values()) {
      if (s.rule.name === rule && STATE_RANK[s.state] > STATE_RANK[state]) state = s.state;
    }
    return state;
  }

  /**
   * Evaluate every `intervalMs` until `stop()`; errors are logged, never thrown. The timer does not keep the
   * process alive.
   */
  start(intervalMs: number): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.running) return; // a slow round: skip this tick rather than queue behind it
      this.evaluate().catch((err: unknown) =>
        this.logger.error({ err: (err as Error).message }, 'alert evaluation failed'),
      );
    }, intervalMs);
    this.timer.unref();
  }

  /** Stop the timer and wait for a round in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }
}
