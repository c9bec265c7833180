/**
 * Alert events (an alert fired or resolved) and where they are kept: in memory for tests and
 * library use, or in SQLite (the monitor's database) so `tend alerts` and restarts see history.
 */
import type BetterSqlite from 'better-sqlite3';
import type { AlertMetricName, AlertOp, AlertSeverity } from '../core/alert-rules.js';

/** One transition of one alert series, as stored, logged and POSTed (snake_case: it leaves the process). */
export interface AlertEvent {
  rule: string;
  model: string;
  version: string;
  metric: AlertMetricName;
  state: 'firing' | 'resolved';
  /** The value that fired or resolved it; null when the series stopped being reported. */
  value: number | null;
  op: AlertOp;
  threshold: number;
  samples: number;
  severity: AlertSeverity;
  /** When the condition first held (ISO 8601; Prometheus's activeAt). */
  started_at: string;
  /** When this transition happened (ISO 8601). */
  at: string;
  message: string;
}

export interface AlertEventQuery {
  /** Most events returned (default 100). */
  limit?: number;
  rule?: string;
  model?: string;
  /** Only events at or after this ISO time. */
  since?: string;
}

/** Where alert events go; newest first when listed. */
export interface AlertEventStore {
  append(event: AlertEvent): void;
  list(query?: AlertEventQuery): AlertEvent[];
  /** The newest event of every (rule, model, version) series: what the evaluator restores after a restart. */
  latestPerSeries(): AlertEvent[];
}

const DEFAULT_LIMIT = 100;

function matches(event: AlertEvent, query: AlertEventQuery): boolean {
  return (
    (query.rule === undefined || event.rule === query.rule) &&
    (query.model === undefined || event.model === query.model) &&
    (query.since === undefined || Date.parse(event.at) >= Date.parse(query.since))
  );
}

/** Events in memory, the oldest dropped beyond `capacity`. */
export class MemoryAlertEventStore implements AlertEventStore {
  private readonly events: AlertEvent[] = [];

  constructor(private readonly capacity = 10_000) {}

  append(event: AlertEvent): void {
    this.events.push({ ...event });
    if (this.events.length > this.capacity) this.events.splice(0, this.events.length - this.capacity);
  }

  list(query: AlertEventQuery = {}): AlertEvent[] {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const out: AlertEvent[] = [];
    for (let i = this.events.length - 1; i >= 0 && out.length < limit; i--) {
      const event = this.events[i];
      if (event !== undefined && matches(event, query)) out.push({ ...event });
    }
    return out;
  }

  latestPerSeries(): AlertEvent[] {
    const latest = new Map<string, AlertEvent>();
    for (const event of this.events) latest.set(seriesKey(event.rule, event.model, event.version), event);
    return [...latest.values()].map((e) => ({ ...e }));
  }
}

/** The key of one alert series. */
export function seriesKey(rule: string, model: string, version: string): string {
  return JSON.stringify([rule, model, version]);
}

interface AlertEventRow {
  rule: string;
  model: string;
  version: string;
  metric: string;
  state: string;
  value: number | null;
  op: string;
  threshold: number;
  samples: number;
  severity: string;
  started_at: string;
  at: string;
  at_ms: number;
  message: string;
}

const COLUMNS =
  'rule, model, version, metric, state, value, op, threshold, samples, severity, started_at, at, message';

/**
 * Events in the table `alert_events` of a database the caller opened (and closes): the table and
 * its indexes are created if missing, so the store can share the monitor's database.
 */
export class SqliteAlertEventStore implements AlertEventStore {
  private readonly insert;

  constructor(private readonly db: BetterSqlite.Database) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS alert_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        rule TEXT NOT NULL,
        model TEXT NOT NULL,
        version TEXT NOT NULL,
        metric TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('firing', 'resolved')),
        value REAL,
        op TEXT NOT NULL,
        threshold REAL NOT NULL,
        samples INTEGER NOT NULL,
        severity TEXT NOT NULL,
        started_at TEXT NOT NULL,
        at TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        message TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS alert_events_at_ms ON alert_events (at_ms);
      CREATE INDEX IF NOT EXISTS alert_events_series ON alert_events (rule, model, version, id);
    `);
    this.insert = db.prepare<[AlertEventRow]>(
      `INSERT INTO alert_events (${COLUMNS}, at_ms) VALUES (@rule, @model, @version, @metric, @state, @value, @op, @threshold, @samples, @severity, @started_at, @at, @message, @at_ms)`,
    );
  }

  append(event: AlertEvent): void {
    this.insert.run({
      ...event,
      value: event.value !== null && Number.isFinite(event.value) ? event.value : null,
      at_ms: Date.parse(event.at),
    });
  }

  list(query: AlertEventQuery = {}): AlertEvent[] {
    const where: string[] = [];
    const params: Record<string, string | number> = { limit: query.limit ?? DEFAULT_LIMIT };
    if (query.rule !== undefined) {
      where.push('rule = @rule');
      params['rule'] = query.rule;
    }
    if (query.model !== undefined) {
      where.push('model = @model');
      params['model'] = query.model;
    }
    if (query.since !== undefined) {
      where.push('at_ms >= @since');
      params['since'] = Date.parse(query.since);
    }
    const sql = `SELECT ${COLUMNS} FROM alert_events ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT @limit`;
    return (this.db.prepare(sql).all(params) as AlertEventRow[]).map(toEvent);
  }

  latestPerSeries(): AlertEvent[] {
    const sql = `SELECT ${COLUMNS} FROM alert_events WHERE id IN (SELECT MAX(id) FROM alert_events GROUP BY rule, model, version) ORDER BY id`;
    return (this.db.prepare(sql).all() as AlertEventRow[]).map(toEvent);
  }
}

function toEvent(row: Omit<AlertEventRow, 'at_ms'>): AlertEvent {
  return {
    rule: row.rule,
    model: row.model,
    version: row.version,
    metric: row.metric as AlertMetricName,
    state: row.state as AlertEvent['state'],
    value: row.value,
    op: row.op as AlertOp,
    threshold: row.threshold,
    samples: row.samples,
    severity: row.severity as AlertSeverity,
    started_at: row.started_at,
    at: row.at,
    message: row.message,
  };
}
