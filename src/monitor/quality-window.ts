/**
 * A sliding window of labelled predictions for the live monitor: the last `maxRows` rows, the rows
 * of the last `maxAgeMs`, or both. Metrics are computed from the rows on demand (10k rows of 10
 * classes take ~15–50 ms), so adding a row stays O(1) for rows that arrive in time order.
 */
import { errors } from '../core/errors.js';
import {
  classificationMetrics,
  regressionMetrics,
  validateClassificationRow,
  validateRegressionRow,
} from './quality.js';
import type {
  AverageOver,
  ClassificationMetrics,
  ClassificationRow,
  RegressionMetrics,
  RegressionRow,
} from './quality.js';

export type QualityTask = 'classification' | 'regression';

export type QualityRowOf<T extends QualityTask> = T extends 'classification'
  ? ClassificationRow
  : RegressionRow;
export type QualityMetricsOf<T extends QualityTask> = T extends 'classification'
  ? ClassificationMetrics
  : RegressionMetrics;

interface WindowBounds {
  /** Keep at most this many rows (the most recent by timestamp). */
  maxRows?: number;
  /** Keep rows whose timestamp is at most this many ms before now. */
  maxAgeMs?: number;
  /** Clock in ms since the epoch; default Date.now. */
  now?: () => number;
}

export type QualityWindowOptions<T extends QualityTask> = WindowBounds & {
  task: T;
} & (T extends 'classification' ? { numClasses: number; averageOver?: AverageOver } : unknown);

/** Below this many evicted slots the backing arrays are not compacted (amortises the copy). */
const COMPACT_MIN = 1024;

/**
 * Labelled rows within a count and/or time bound, and their quality metrics.
 * @example
 * const w = new QualityWindow({ task: 'classification', numClasses: 3, maxRows: 10_000 });
 * w.add({ label: 2, predicted: 2, probabilities: [0.1, 0.2, 0.7] });
 * w.compute().f1_macro;
 */
export class QualityWindow<T extends QualityTask> {
  readonly task: T;
  readonly maxRows: number | undefined;
  readonly maxAgeMs: number | undefined;
  private readonly numClasses: number;
  private readonly averageOver: AverageOver;
  private readonly now: () => number;
  // Rows sorted by timestamp; slots before `head` are evicted and reclaimed by compaction.
  private rows: QualityRowOf<T>[] = [];
  private timestamps: number[] = [];
  private head = 0;

  constructor(options: QualityWindowOptions<T>) {
    const { task, maxRows, maxAgeMs } = options;
    if (task !== 'classification' && task !== 'regression') {
      throw errors.invalidArgument(`task must be 'classification' or 'regression', got '${String(task)}'`);
    }
    if (maxRows === undefined && maxAgeMs === undefined) {
      throw errors.invalidArgument('a quality window needs maxRows, maxAgeMs or both');
    }
    if (maxRows !== undefined && !(Number.isInteger(maxRows) && maxRows > 0)) {
      throw errors.invalidArgument(`maxRows must be a positive integer, got ${maxRows}`);
    }
    if (maxAgeMs !== undefined && !(Number.isFinite(maxAgeMs) && maxAgeMs > 0)) {
      throw errors.invalidArgument(`maxAgeMs must be a positive number of ms, got ${maxAgeMs}`);
    }
    this.task = options.task;
    this.maxRows = maxRows;
    this.maxAgeMs = maxAgeMs;
    this.now = options.now ?? Date.now;
    const classification = options as WindowBounds & { numClasses?: number; averageOver?: AverageOver };
    this.numClasses = classification.numClasses ?? 0;
    this.averageOver = classification.averageOver ?? 'observed';
    if (task === 'classification') {
      const k = this.numClasses;
      if (!Number.isInteger(k) || k < 2) {
        throw errors.invalidArgument(
          `numClasses must be an integer of at least 2, got ${String(classification.numClasses)}`,
        );
      }
      if (this.averageOver !== 'observed' && this.averageOver !== 'all') {
        throw errors.invalidArgument(
          `averageOver must be 'observed' or 'all', got '${String(this.averageOver)}'`,
        );
      }
    }
  }

  /** Rows currently held (after the last eviction). */
  get size(): number {
    return this.rows.length - this.head;
  }

  /** Adds a labelled row; invalid rows throw TEND_INVALID_ARGUMENT and are not kept. */
  add(row: QualityRowOf<T>, timestampMs: number = this.now()): void {
    if (!Number.isFinite(timestampMs)) {
      throw errors.invalidArgument(`timestampMs must be a finite number, got ${timestampMs}`);
    }
    const stored = this.validated(row);
    const last = this.timestamps[this.timestamps.length - 1];
    if (last === undefined || timestampMs >= last) {
      this.rows.push(stored);
      this.timestamps.push(timestampMs);
    } else {
      // Late feedback: keep the time order so that both bounds evict the oldest rows first.
      const at = this.upperBound(timestampMs);
      this.rows.splice(at, 0, stored);
      this.timestamps.splice(at, 0, timestampMs);
    }
    this.evict(this.now());
  }

  /** Drops every row. */
  clear(): void {
    this.rows = [];
    this.timestamps = [];
    this.head = 0;
  }

  /** Metrics of the rows in the window at `nowMs` (default: the clock). */
  compute(nowMs: number = this.now()): QualityMetricsOf<T> {
    this.evict(nowMs);
    const rows = this.rows.slice(this.head);
    if (this.task === 'classification') {
      return classificationMetrics(rows as ClassificationRow[], {
        numClasses: this.numClasses,
        averageOver: this.averageOver,
      }) as QualityMetricsOf<T>;
    }
    return regressionMetrics(rows as RegressionRow[]) as QualityMetricsOf<T>;
  }

  private validated(row: QualityRowOf<T>): QualityRowOf<T> {
    if (this.task === 'regression') {
      const r = row as RegressionRow;
      validateRegressionRow(r, this.size);
      return { label: r.label, predicted: r.predicted } as QualityRowOf<T>;
    }
    const r = row as ClassificationRow;
    validateClassificationRow(r, this.numClasses, this.size);
    // A copy, so that a caller reusing its buffers cannot change rows already in the window.
    const copy: ClassificationRow = { label: r.label, predicted: r.predicted };
    if (r.probabilities !== undefined) copy.probabilities = Float64Array.from(r.probabilities);
    return copy as QualityRowOf<T>;
  }

  /** First index in [head, length) whose timestamp is greater than t. */
  private upperBound(t: number): number {
    let lo = this.head;
    let hi = this.timestamps.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.timestamps[mid] as number) <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private evict(nowMs: number): void {
    if (this.maxRows !== undefined && this.size > this.maxRows) this.head = this.rows.length - this.maxRows;
    if (this.maxAgeMs !== undefined) {
      const oldest = nowMs - this.maxAgeMs;
      while (this.head < this.timestamps.length && (this.timestamps[this.head] as number) < oldest)
        this.head++;
    }
    if (this.head >= COMPACT_MIN && this.head * 2 >= this.rows.length) {
      this.rows = this.rows.slice(this.head);
      this.timestamps = this.timestamps.slice(this.head);
      this.head = 0;
    }
  }
}
