/** The batcher's contract with its callers: requests in, results out, and the run function it is given. */
import type { Tensor } from '../core/tensor.js';
import type { ComputeTimings } from './compute-timings.js';

/**
 * What the batcher needs of a cancellation signal. An AbortSignal fits; the HTTP frontend passes a
 * lighter object, since creating an AbortController per request costs more than the rest of the queueing.
 */
export interface CancelSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

export interface BatchRequest {
  /** Already validated; with maxBatchSize > 0 every input's dim 0 is this request's batch size. */
  inputs: Tensor[];
  /** 1..priorityLevels, default policy.defaultPriorityLevel. */
  priority?: number;
  /** Overrides defaultTimeoutUs for this request; 0 or absent = the policy's default (as Triton). */
  timeoutUs?: number;
  /** The server's cap (limits.request_timeout_ms): whatever the request or the policy say, it waits no longer. */
  maxTimeoutUs?: number;
  /** Client gone: drop it from the queue, reject with TEND_UNAVAILABLE 'client disconnected'. */
  signal?: CancelSignal;
}

/** A request's outputs and timings; the compute phases are those of the batch that carried it. */
export interface BatchResult extends ComputeTimings {
  /** This request's slice of every output, in the order run returned them. */
  outputs: Tensor[];
  /** Size of the batch it ran in (sum of request batch sizes). */
  batchSize: number;
  /** This request's own batch size: dim 0 of its inputs, or 1 when the policy has no batch dimension. */
  requestBatchSize: number;
  /** Time from submit to dispatch. */
  queueNs: number;
  /** Time the run call took (round trip, batch concat included) = computeInputNs + computeInferNs. */
  computeNs: number;
}

export interface RunOutput {
  outputs: Tensor[];
  /** Time the model itself ran (e.g. inside session.run), ns; absent = the whole round trip. */
  inferNs?: number;
}

export type RunFunction = (inputs: Tensor[]) => Promise<RunOutput>;

export interface BatchObserver {
  /**
   * Called once per run call (a failed batch, then each individual re-run). Must not throw.
   * `timings` (the batch's compute phases) is given when ok is true.
   */
  batchExecuted?(
    batchSize: number,
    requestCount: number,
    computeNs: number,
    ok: boolean,
    timings?: ComputeTimings,
  ): void;
}

export interface DynamicBatcherOptions {
  /** Batches in flight at once (= instance count); default 1. */
  concurrency?: number;
  /**
   * Batches each instance may hold at once, default 1. At 2, a full batch (the largest preferred size,
   * else max batch size) is sent to a busy instance so that it runs right after the current one:
   * `run` must then accept a second call before the first resolves and queue it (a worker does).
   */
  pipelineDepth?: number;
  observer?: BatchObserver;
}
