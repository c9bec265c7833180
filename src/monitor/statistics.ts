/**
 * Per-model-version statistics in the shape of the KServe V2 / Triton statistics extension
 * (`GET /v2/models[/{m}[/versions/{v}]]/stats`, gRPC `ModelStatistics`): cumulative counts and
 * nanosecond totals since the version was loaded. Recording is O(1) and allocates nothing except
 * the first time a batch size is seen; the JSON objects are built only by `snapshot`.
 */

/** A count and the total time of what was counted (Triton's StatisticDuration). */
export interface DurationStat {
  count: number;
  ns: number;
}

/** Triton's InferStatistics: success and fail per request, the rest per successful request. */
export interface InferenceStats {
  success: DurationStat;
  fail: DurationStat;
  queue: DurationStat;
  compute_input: DurationStat;
  compute_infer: DurationStat;
  compute_output: DurationStat;
}

/** Triton's InferBatchStatistics: the compute phases of every execution of one batch size. */
export interface BatchStats {
  batch_size: number;
  compute_input: DurationStat;
  compute_infer: DurationStat;
  compute_output: DurationStat;
}

/** Triton's ModelStatistics, as it leaves the process (HTTP JSON, gRPC message fields). */
export interface ModelStatistics {
  name: string;
  version: string;
  /** Time of the last request (succeeded or failed), ms since the epoch; 0 if none. */
  last_inference: number;
  /** Rows answered successfully (a request of batch 8 counts 8). */
  inference_count: number;
  /** Successful model executions (8 requests run as one batch count 1). */
  execution_count: number;
  inference_stats: InferenceStats;
  batch_stats: BatchStats[];
}

/** The body of a statistics response. */
export interface ModelStatisticsResponse {
  model_stats: ModelStatistics[];
}

/** The compute phases of one execution, in ns (the batcher's ComputeTimings fits as is). */
export interface ExecutionTimings {
  computeInputNs: number;
  computeInferNs: number;
  computeOutputNs: number;
}

/** The timings of one successful request, in ns (the batcher's BatchResult fits as is). */
export interface RequestTimings extends ExecutionTimings {
  queueNs: number;
}

/** Running totals of one {count, ns} statistic; ns kept unrounded until the snapshot. */
class Duration {
  count = 0;
  ns = 0;

  add(ns: number): void {
    this.count++;
    this.ns += ns;
  }

  toJSON(): DurationStat {
    return { count: this.count, ns: Math.round(this.ns) };
  }
}

class BatchSizeCounters {
  readonly input = new Duration();
  readonly infer = new Duration();
  readonly output = new Duration();

  constructor(readonly batchSize: number) {}
}

/** Bad clocks or callers must not drive a total below zero or turn it into NaN. */
function nonNegative(ns: number): number {
  return ns > 0 ? ns : 0;
}

/**
 * The statistics of one served model version.
 *
 * @example
 * const stats = new VersionStatistics();
 * // batcher observer: (size, count, ns, ok, timings) => { if (ok && timings) stats.batchExecuted(size, timings); }
 * stats.requestSucceeded(result.requestBatchSize, totalNs, result); // result: the batcher's BatchResult
 * stats.snapshot('digits', '1');
 */
export class VersionStatistics {
  private lastInferenceMs = 0;
  private inferenceCount = 0;
  private executionCount = 0;
  private readonly success = new Duration();
  private readonly fail = new Duration();
  private readonly queue = new Duration();
  private readonly computeInput = new Duration();
  private readonly computeInfer = new Duration();
  private readonly computeOutput = new Duration();
  private readonly batches = new Map<number, BatchSizeCounters>();

  /** `clockMs` gives last_inference (ms since the epoch); injectable for tests. */
  constructor(private readonly clockMs: () => number = Date.now) {}

  /**
   * A request answered: `rows` is its own batch size (1 for a model without batching), `totalNs`
   * its time from arrival at the engine to outputs ready, `timings` its queue time and the compute
   * phases of the batch that carried it.
   */
  requestSucceeded(rows: number, totalNs: number, timings: RequestTimings): void {
    this.lastInferenceMs = this.clockMs();
    this.inferenceCount += rows > 0 ? rows : 0;
    this.success.add(nonNegative(totalNs));
    this.queue.add(nonNegative(timings.queueNs));
    this.computeInput.add(nonNegative(timings.computeInputNs));
    this.computeInfer.add(nonNegative(timings.computeInferNs));
    this.computeOutput.add(nonNegative(timings.computeOutputNs));
  }

  /** A request that failed (bad input, run error, queue full or timeout), after `totalNs`. */
  requestFailed(totalNs: number): void {
    this.lastInferenceMs = this.clockMs();
    this.fail.add(nonNegative(totalNs));
  }

  /** One successful model execution of `batchSize` rows (the sum over the requests it carried). */
  batchExecuted(batchSize: number, timings: ExecutionTimings): void {
    this.executionCount++;
    let counters = this.batches.get(batchSize);
    if (counters === undefined) {
      counters = new BatchSizeCounters(batchSize);
      this.batches.set(batchSize, counters);
    }
    counters.input.add(nonNegative(timings.computeInputNs));
    counters.infer.add(nonNegative(timings.computeInferNs));
    counters.output.add(nonNegative(timings.computeOutputNs));
  }

  /** The statistics so far, as Triton reports them; ns rounded to integers, batch_stats by batch_size. */
  snapshot(name: string, version: string): ModelStatistics {
    const batchStats: BatchStats[] = [];
    for (const c of this.batches.values()) {
      batchStats.push({
        batch_size: c.batchSize,
        compute_input: c.input.toJSON(),
        compute_infer: c.infer.toJSON(),
        compute_output: c.output.toJSON(),
      });
    }
    batchStats.sort((a, b) => a.batch_size - b.batch_size);
    return {
      name,
      version,
      last_inference: Math.round(this.lastInferenceMs),
      inference_count: this.inferenceCount,
      execution_count: this.executionCount,
      inference_stats: {
        success: this.success.toJSON(),
        fail: this.fail.toJSON(),
        queue: this.queue.toJSON(),
        compute_input: this.computeInput.toJSON(),
        compute_infer: this.computeInfer.toJSON(),
        compute_output: this.computeOutput.toJSON(),
      },
      batch_stats: batchStats,
    };
  }
}

/** The statistics of a version that has seen no traffic (or is not loaded). */
export function emptyStatistics(name: string, version: string): ModelStatistics {
  return new VersionStatistics().snapshot(name, version);
}
