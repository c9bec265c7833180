/**
 * Time series for the dashboard, per model version and time bucket: request rate, latency p50 and
 * p99 (from the prediction log), error rate and mean batch size (from the version's counters,
 * sampled every few seconds), and quality (accuracy or RMSE over the labelled rows of the bucket).
 * Pure: the caller reads the rows and the samples.
 */
import { nearestRank } from '../../core/percentile.js';
import { NO_CLASS, type WindowRows } from '../../monitor/prediction-log.js';
import type { PredictionTask } from '../serving/prediction-capture.js';

/** Cumulative counters of a version at one moment. */
export interface CounterSample {
  t: number;
  ok: number;
  failed: number;
  /** Rows answered (inference_count) and model runs (execution_count). */
  rows: number;
  runs: number;
}

export interface VersionSeries {
  version: string;
  /** Bucket starts, ms since the epoch. */
  t: number[];
  requests_per_s: (number | null)[];
  p50_ms: (number | null)[];
  p99_ms: (number | null)[];
  error_rate: (number | null)[];
  mean_batch_size: (number | null)[];
  quality_metric: 'accuracy' | 'rmse' | null;
  quality: (number | null)[];
  labelled: number[];
}

/** Fewer labelled rows than this in a bucket: no quality point (too noisy to draw). */
const MIN_LABELLED_PER_BUCKET = 5;

const round = (x: number | null, digits = 4): number | null =>
  x === null || !Number.isFinite(x) ? null : Math.round(x * 10 ** digits) / 10 ** digits;

/** The latest sample at or before `t` (samples oldest first). */
function sampleAt(samples: readonly CounterSample[], t: number): CounterSample | undefined {
  let found: CounterSample | undefined;
  for (const s of samples) {
    if (s.t > t) break;
    found = s;
  }
  return found;
}

export function versionSeries(input: {
  version: number;
  rows: WindowRows;
  samples: readonly CounterSample[];
  task: PredictionTask;
  startMs: number;
  bucketMs: number;
  buckets: number;
  samplingRate: number;
}): VersionSeries {
  const { rows, bucketMs, buckets, startMs } = input;
  const t = Array.from({ length: buckets }, (_, i) => startMs + i * bucketMs);
  const latencies: number[][] = t.map(() => []);
  const requestIds: Set<string>[] = t.map(() => new Set());
  const hits: number[] = t.map(() => 0);
  const labelled: number[] = t.map(() => 0);
  const sqErr: number[] = t.map(() => 0);
  for (let i = 0; i < rows.count; i++) {
    const b = Math.floor(((rows.timeMs[i] as number) - startMs) / bucketMs);
    if (b < 0 || b >= buckets) continue;
    requestIds[b]?.add(rows.requestIds[i] as string);
    if ((rows.rows[i] as number) === 0) latencies[b]?.push(rows.latencyMs[i] as number);
    if (input.task === 'classification') {
      const label = rows.label[i] as number;
      if (label !== NO_CLASS && (rows.predictedClass[i] as number) !== NO_CLASS) {
        labelled[b] = (labelled[b] as number) + 1;
        if (label === rows.predictedClass[i]) hits[b] = (hits[b] as number) + 1;
      }
    } else if (input.task === 'regression') {
      const y = rows.labelValue[i] as number;
      const p = rows.value[i] as number;
      if (Number.isFinite(y) && Number.isFinite(p)) {
        labelled[b] = (labelled[b] as number) + 1;
        sqErr[b] = (sqErr[b] as number) + (y - p) ** 2;
      }
    }
  }
  const seconds = bucketMs / 1000;
  const rate = Math.max(input.samplingRate, 1e-9);
  const counters = t.map((start) => {
    const a = sampleAt(input.samples, start);
    const b = sampleAt(input.samples, start + bucketMs);
    if (!a || !b || b.t <= a.t) return { error: null, batch: null };
    const ok = b.ok - a.ok;
    const failed = b.failed - a.failed;
    const runs = b.runs - a.runs;
    return {
      error: ok + failed > 0 ? failed / (ok + failed) : null,
      batch: runs > 0 ? (b.rows - a.rows) / runs : null,
    };
  });
  const metric = input.task === 'classification' ? 'accuracy' : input.task === 'regression' ? 'rmse' : null;
  return {
    version: String(input.version),
    t,
    requests_per_s: requestIds.map((ids) => round(ids.size / rate / seconds, 2)),
    p50_ms: latencies.map((l) =>
      round(
        nearestRank(
          [...l].sort((x, y) => x - y),
          0.5,
        ) ?? null,
        3,
      ),
    ),
    p99_ms: latencies.map((l) =>
      round(
        nearestRank(
          [...l].sort((x, y) => x - y),
          0.99,
        ) ?? null,
        3,
      ),
    ),
    error_rate: counters.map((c) => round(c.error)),
    mean_batch_size: counters.map((c) => round(c.batch, 2)),
    quality_metric: metric,
    quality: labelled.map((n, b) => {
      if (n < MIN_LABELLED_PER_BUCKET || metric === null) return null;
      return metric === 'accuracy'
        ? round((hits[b] as number) / n)
        : round(Math.sqrt((sqErr[b] as number) / n));
    }),
    labelled,
  };
}
