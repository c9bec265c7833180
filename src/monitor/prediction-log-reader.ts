/**
 * Reading the prediction log: windows of recent rows for quality and drift, and exports. Reads run on
 * a connection of their own (query-only), so they see every committed batch and never wait for the writer.
 */
import type Database from 'better-sqlite3';
import { KeyringSource } from '../core/encryption-env.js';
import { errors } from '../core/errors.js';
import { openMonitorDb, type MonitorDatabase } from './monitor-db.js';
import {
  COL,
  COLUMNS,
  FloatBlockReader,
  summaryOf,
  type LoggedRow,
  type RawRow,
} from './prediction-log-columns.js';
import {
  EXPORT_FORMATS,
  exportChunks,
  type ExportFormat,
  type ExportNames,
} from './prediction-log-export.js';
import type { FeatureSummary, LogQuery, WindowQuery, WindowRows } from './prediction-log-types.js';
import { NO_CLASS } from './prediction-log-types.js';

/** Rows fetched per page by exports. */
const EXPORT_PAGE_ROWS = 1000;

function checkQuery(query: WindowQuery): void {
  if (typeof query.model !== 'string' || query.model.length === 0)
    throw errors.invalidArgument('model must be a non-empty string');
  if (query.version !== undefined && !Number.isSafeInteger(query.version)) {
    throw errors.invalidArgument(`version must be an integer, got ${query.version}`);
  }
  if (query.sinceMs !== undefined && !Number.isFinite(query.sinceMs)) {
    throw errors.invalidArgument(
      `sinceMs must be a finite number of ms since the epoch, got ${query.sinceMs}`,
    );
  }
  if (query.last !== undefined && !(Number.isSafeInteger(query.last) && query.last >= 0)) {
    throw errors.invalidArgument(`last must be a non-negative integer, got ${query.last}`);
  }
}

/** The read side of monitor.db. */
export class PredictionLogReader {
  private readonly statements = new Map<string, Database.Statement<unknown[]>>();

  constructor(
    private readonly db: MonitorDatabase,
    private readonly ownsDb = false,
    /** Keys for float blocks sealed at rest (none: a sealed block is a clear error). */
    private readonly keys: KeyringSource = KeyringSource.of(null),
  ) {}

  /**
   * Open monitor.db for reading only (e.g. `tend log export` next to a running server).
   * @throws TendError TEND_NOT_FOUND when the file does not exist.
   */
  static open(path: string, keys?: KeyringSource): PredictionLogReader {
    return new PredictionLogReader(openMonitorDb(path, { mustExist: true, queryOnly: true }), true, keys);
  }

  /**
   * Logged rows of a model (a version), oldest first: all since `sinceMs`, or the newest `last` of them.
   * Feature and score arrays are views into blocks shared by neighbouring rows: copy before changing them.
   */
  window(query: WindowQuery): WindowRows {
    checkQuery(query);
    // One read transaction: retention between the rows and their blocks would leave holes.
    return this.db.transaction(() => this.readWindow(query))();
  }

  private readWindow(query: WindowQuery): WindowRows {
    const newestFirst = query.last !== undefined;
    const raws = this.statement(query, newestFirst ? 'DESC' : 'ASC', newestFirst).all(
      ...this.params(query),
      ...(newestFirst ? [query.last] : []),
    ) as RawRow[];
    const floats = new FloatBlockReader(this.db, this.keys);
    const n = raws.length;
    const out: WindowRows = {
      count: n,
      requestIds: new Array<string>(n),
      rows: new Int32Array(n),
      versions: new Int32Array(n),
      routes: new Array<string>(n),
      timeMs: new Float64Array(n),
      latencyMs: new Float64Array(n),
      features: new Array<Float32Array | null>(n),
      featureSummaries: new Array<FeatureSummary | null>(n),
      predictedClass: new Int32Array(n),
      probabilities: new Array<Float32Array | null>(n),
      value: new Float64Array(n),
      label: new Int32Array(n),
      labelValue: new Float64Array(n),
      feedbackTimeMs: new Float64Array(n),
    };
    for (let k = 0; k < n; k++) {
      const raw = raws[k] as RawRow;
      const i = newestFirst ? n - 1 - k : k;
      out.requestIds[i] = raw[COL.requestId] as string;
      out.rows[i] = raw[COL.row] as number;
      out.versions[i] = raw[COL.version] as number;
      out.routes[i] = raw[COL.route] as string;
      out.timeMs[i] = raw[COL.timeMs] as number;
      out.latencyMs[i] = raw[COL.latencyMs] as number;
      out.features[i] = floats.features(raw);
      out.featureSummaries[i] = summaryOf(raw);
      out.predictedClass[i] = (raw[COL.predictedClass] as number | null) ?? NO_CLASS;
      out.probabilities[i] = floats.probabilities(raw);
      out.value[i] = (raw[COL.value] as number | null) ?? NaN;
      out.label[i] = (raw[COL.label] as number | null) ?? NO_CLASS;
      out.labelValue[i] = (raw[COL.labelValue] as number | null) ?? NaN;
      out.feedbackTimeMs[i] = (raw[COL.feedbackMs] as number | null) ?? NaN;
    }
    return out;
  }

  /**
   * Write the rows of a query to `write` as CSV or JSON lines, a page at a time; returns the rows written.
   * @example reader.export({ model: 'digits' }, 'csv', (chunk) => process.stdout.write(chunk))
   */
  export(
    query: LogQuery,
    format: ExportFormat,
    write: (chunk: string) => void,
    names: ExportNames = {},
  ): number {
    let rows = 0;
    for (const chunk of this.exportChunks(query, format, names)) {
      rows += chunk.rows;
      write(chunk.text);
    }
    return rows;
  }

  /** The pages of an export, to be written at the caller's pace (e.g. yielding to the event loop between them). */
  *exportChunks(
    query: LogQuery,
    format: ExportFormat,
    names: ExportNames = {},
  ): Generator<{ text: string; rows: number }> {
    checkQuery(query);
    if (!EXPORT_FORMATS.includes(format))
      throw errors.invalidArgument(`export format must be csv, jsonl or ndjson, got '${String(format)}'`);
    yield* exportChunks(
      format,
      names,
      () => this.shapeOf(query),
      () => this.pages(query),
    );
  }

  /** Rows in the log (all models). */
  count(): number {
    return this.db.prepare('SELECT count(*) FROM predictions').pluck().get() as number;
  }

  close(): void {
    if (this.ownsDb) this.db.close();
  }

  /** The widest features and probabilities rows of a query, and whether any row has a summary: the CSV columns. */
  private shapeOf(query: LogQuery): { features: number; probabilities: number; summaries: boolean } {
    const where = this.where(query);
    const shape = this.db
      .prepare(
        `SELECT max(features_count), max(probabilities_count), count(summary_count) FROM predictions WHERE ${where}`,
      )
      .raw()
      .get(...this.params(query)) as [number | null, number | null, number];
    return { features: shape[0] ?? 0, probabilities: shape[1] ?? 0, summaries: shape[2] > 0 };
  }

  /** Keyset pages in (time_ms, id) order: each page starts where the previous ended, using the index. */
  private *pages(query: LogQuery): Generator<LoggedRow[]> {
    const page = this.db
      .prepare(
        `SELECT ${COLUMNS} FROM predictions WHERE ${this.where({ ...query, sinceMs: 0 })}
           AND (time_ms > ? OR id > ?) ORDER BY time_ms, id LIMIT ${EXPORT_PAGE_ROWS}`,
      )
      .raw();
    const floats = new FloatBlockReader(this.db, this.keys);
    const base = [query.model, ...(query.version === undefined ? [] : [query.version])];
    // Each page with its blocks in one read transaction; none is held open between pages.
    const readPage = this.db.transaction((afterTime: number, afterId: number): LoggedRow[] => {
      floats.clear();
      return (page.all(...base, afterTime, afterTime, afterId) as RawRow[]).map((raw) => ({
        raw,
        features: floats.features(raw),
        probabilities: floats.probabilities(raw),
      }));
    });
    let afterTime = query.sinceMs ?? -Infinity;
    let afterId = -1;
    for (;;) {
      const rows = readPage(afterTime, afterId);
      if (rows.length > 0) yield rows;
      if (rows.length < EXPORT_PAGE_ROWS) return;
      const last = (rows[rows.length - 1] as LoggedRow).raw;
      afterTime = last[COL.timeMs] as number;
      afterId = last[COL.id] as number;
    }
  }

  private where(query: LogQuery): string {
    return [
      'model = ?',
      ...(query.version === undefined ? [] : ['version = ?']),
      ...(query.sinceMs === undefined ? [] : ['time_ms >= ?']),
    ].join(' AND ');
  }

  private params(query: LogQuery): unknown[] {
    return [
      query.model,
      ...(query.version === undefined ? [] : [query.version]),
      ...(query.sinceMs === undefined ? [] : [query.sinceMs]),
    ];
  }

  /**
   * The logged features of rows named by request id and row (the newest row when an id repeats), as
   * copies; null for a row not in the log or logged without features.
   */
  featuresOf(model: string, rows: readonly { id: string; row: number }[]): (Float32Array | null)[] {
    const select = this.db
      .prepare(
        `SELECT ${COLUMNS} FROM predictions WHERE model = ? AND request_id = ? AND row_index = ? ORDER BY id DESC LIMIT 1`,
      )
      .raw();
    const floats = new FloatBlockReader(this.db, this.keys);
    return this.db.transaction(() =>
      rows.map(({ id, row }) => {
        const raw = select.get(model, id, row) as RawRow | undefined;
        const features = raw === undefined ? null : floats.features(raw);
        return features === null ? null : Float32Array.from(features);
      }),
    )();
  }

  private statement(query: LogQuery, order: 'ASC' | 'DESC', limited: boolean): Database.Statement<unknown[]> {
    const where = this.where(query);
    const key = `${where}|${order}|${limited}`;
    let statement = this.statements.get(key);
    if (statement === undefined) {
      statement = this.db
        .prepare(
          `SELECT ${COLUMNS} FROM predictions WHERE ${where} ORDER BY time_ms ${order}, id ${order}${limited ? ' LIMIT ?' : ''}`,
        )
        .raw();
      this.statements.set(key, statement);
    }
    return statement;
  }
}
