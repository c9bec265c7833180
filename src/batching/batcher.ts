/**
 * The dynamic batcher of one model version (after Triton's): requests queue on the main thread,
 * compatible ones are joined into one batch, `run` executes the batch (one message to a worker),
 * and the outputs are cut back per request. It knows nothing of ONNX or workers: `run` is given.
 *
 * Which requests make a batch, and when, is the BatchFormer's (batch-former.ts); with a pipeline
 * depth of 2, a full batch goes to a busy instance ahead of time (double buffering).
 *
 * Timers: none per request. One delay timer (only when maxQueueDelayUs > 0) and one deadline timer
 * for the whole queue (only while some queued request has a timeout).
 */
import { type TendError, errors } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { BatchFormer, DelayTimer } from './batch-former.js';
import { batchKey, concatBatch, requestBatchSize, splitBatch } from './batch-tensors.js';
import type {
  BatchObserver,
  BatchRequest,
  BatchResult,
  DynamicBatcherOptions,
  RunFunction,
  RunOutput,
} from './batcher-types.js';
import { computeTimings } from './compute-timings.js';
import type { ComputeTimings } from './compute-timings.js';
import { QueueDeadlines } from './queue-deadlines.js';
import { validateBatchPolicy } from './policy.js';
import type { BatchPolicy } from './policy.js';
import { RequestQueue } from './request-queue.js';
import { PendingRequest } from './pending-request.js';

// The contract's types lived here first; importers of './batcher.js' keep working.
export type {
  BatchObserver,
  BatchRequest,
  BatchResult,
  CancelSignal,
  DynamicBatcherOptions,
  RunFunction,
  RunOutput,
} from './batcher-types.js';

const MS_TO_NS = 1e6;

function clientDisconnected(): TendError {
  return errors.unavailable('client disconnected');
}

/** Queue, batch and run the requests of one model version. */
export class DynamicBatcher {
  readonly name: string;
  readonly policy: Readonly<BatchPolicy>;
  readonly concurrency: number;

  private readonly run: RunFunction;
  private readonly observer: BatchObserver | undefined;
  /** False when each request must run alone (no batch dimension, or batching turned off). */
  private readonly batching: boolean;
  /** Batches in flight at most: concurrency × pipeline depth, the extra ones full batches only. */
  private readonly maxInFlightBatches: number;

  private readonly queue: RequestQueue<PendingRequest>;
  private readonly former: BatchFormer<PendingRequest>;
  private readonly deadlines = new QueueDeadlines<PendingRequest>(() => this.pump());
  private readonly delayTimer = new DelayTimer(() => this.pump());

  private inFlightBatches = 0;
  private inFlightRequests = 0;
  private accepting = true;
  private draining = false;
  private closedReason: string | null = null;
  private drainWaiters: (() => void)[] = [];

  constructor(name: string, policy: BatchPolicy, run: RunFunction, options: DynamicBatcherOptions = {}) {
    validateBatchPolicy(policy);
    const concurrency = options.concurrency ?? 1;
    if (!(Number.isInteger(concurrency) && concurrency >= 1)) {
      throw errors.invalidArgument(`batcher concurrency must be an integer >= 1, got ${concurrency}`);
    }
    const depth = options.pipelineDepth ?? 1;
    if (!(Number.isInteger(depth) && depth >= 1)) {
      throw errors.invalidArgument(`batcher pipeline depth must be an integer >= 1, got ${depth}`);
    }
    this.name = name;
    this.policy = Object.freeze({ ...policy, preferredBatchSizes: [...policy.preferredBatchSizes] });
    this.concurrency = concurrency;
    this.run = run;
    this.observer = options.observer;
    this.batching = policy.dynamicBatching && policy.maxBatchSize > 0;
    // Sending ahead only makes sense for batches: a request alone is never "full".
    this.maxInFlightBatches = this.batching ? concurrency * depth : concurrency;
    this.queue = new RequestQueue(policy.priorityLevels);
    this.former = new BatchFormer(this.policy, this.queue);
  }

  /** Requests queued, not yet dispatched. */
  get pendingCount(): number {
    return this.queue.size;
  }

  /** Requests inside running batches. */
  get inFlightCount(): number {
    return this.inFlightRequests;
  }

  /** Batches running now (at most `concurrency`). */
  get inFlightBatchCount(): number {
    return this.inFlightBatches;
  }

  /** Queue a request; resolves with its own outputs once the batch it joined has run. */
  submit(request: BatchRequest): Promise<BatchResult> {
    if (!this.accepting) return Promise.reject(this.notAccepting());
    const signal = request.signal;
    if (signal?.aborted) return Promise.reject(clientDisconnected());
    const policy = this.policy;
    if (policy.maxQueueSize > 0 && this.queue.size >= policy.maxQueueSize) {
      return Promise.reject(errors.queueFull(this.name, this.queue.size));
    }
    let size = 1;
    let level: number;
    let timeoutUs: number;
    try {
      if (policy.maxBatchSize > 0) size = requestBatchSize(request.inputs, policy.maxBatchSize);
      level = this.levelOf(request.priority);
      timeoutUs = this.timeoutOf(request.timeoutUs);
      const cap = request.maxTimeoutUs;
      if (cap !== undefined && cap > 0 && (timeoutUs === 0 || timeoutUs > cap)) timeoutUs = cap;
    } catch (err) {
      return Promise.reject(err);
    }
    const key = this.batching ? batchKey(request.inputs) : '';

    const now = performance.now();
    let resolve!: (result: BatchResult) => void;
    let reject!: (err: unknown) => void;
    const promise = new Promise<BatchResult>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const deadlineMs = timeoutUs > 0 ? now + timeoutUs / 1000 : Infinity;
    const entry = new PendingRequest(
      key,
      size,
      level,
      request.inputs,
      now,
      deadlineMs,
      timeoutUs,
      signal,
      resolve,
      reject,
    );
    this.queue.push(entry);
    if (signal !== undefined) {
      entry.onAbort = () => this.abandon(entry, clientDisconnected());
      signal.addEventListener('abort', entry.onAbort, { once: true });
    }
    this.pump(now);
    // Only a request left waiting needs its deadline watched; one dispatched at once never times out.
    if (timeoutUs > 0 && entry.queued) this.deadlines.add(entry, this.queue.size, now);
    return promise;
  }

  /** Stop accepting (submit rejects TEND_UNAVAILABLE), let queued + in-flight work finish. */
  drain(): Promise<void> {
    this.accepting = false;
    this.draining = true;
    const done = new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    // No more requests can join, so whatever waits for the batching delay goes now.
    this.pump();
    this.settleDrain();
    return done;
  }

  /** Reject everything queued with TEND_UNAVAILABLE and stop; batches already running still finish. */
  close(reason?: string): void {
    if (this.closedReason !== null) return;
    this.accepting = false;
    this.closedReason = reason ?? `model '${this.name}' is shutting down`;
    this.clearTimers();
    for (const entry of this.queue.removeAll()) {
      this.detachAbort(entry);
      entry.reject(errors.unavailable(this.closedReason));
    }
    this.settleDrain();
  }

  private notAccepting(): TendError {
    return errors.unavailable(
      this.closedReason ?? `model '${this.name}' is draining and accepts no new requests`,
    );
  }

  private levelOf(priority: number | undefined): number {
    if (priority === undefined) return this.policy.defaultPriorityLevel - 1;
    if (!(Number.isInteger(priority) && priority >= 1 && priority <= this.policy.priorityLevels)) {
      throw errors.invalidArgument(
        `priority must be an integer from 1 to ${this.policy.priorityLevels}, got ${priority}`,
      );
    }
    return priority - 1;
  }

  private timeoutOf(timeoutUs: number | undefined): number {
    if (timeoutUs === undefined || timeoutUs === 0) return this.policy.defaultTimeoutUs;
    if (!(Number.isFinite(timeoutUs) && timeoutUs > 0)) {
      throw errors.invalidArgument(`timeout must be a number of microseconds >= 0, got ${timeoutUs}`);
    }
    return timeoutUs;
  }

  /** Dispatch batches while execution slots are free and the policy says go. */
  private pump(now = performance.now()): void {
    if (this.closedReason !== null) return;
    if (this.deadlines.active) {
      this.deadlines.expire(now, this.expireEntry);
      this.settleDrain();
    }
    while (this.inFlightBatches < this.maxInFlightBatches) {
      const head = this.queue.peek();
      if (head === undefined) {
        // Nothing waits for the delay any more; a stray timer would only keep the process alive.
        this.delayTimer.clear();
        return;
      }
      let batch: PendingRequest[] | null;
      if (this.inFlightBatches >= this.concurrency) batch = this.former.full(head);
      else if (!this.batching) batch = [head];
      else {
        const decision = this.former.form(head, now, this.draining);
        if ('waitUntilMs' in decision) this.delayTimer.arm(decision.waitUntilMs, now);
        batch = 'batch' in decision ? decision.batch : null;
      }
      if (batch === null) return;
      this.dispatch(batch, now);
    }
  }

  private dispatch(batch: PendingRequest[], now: number): void {
    for (const entry of batch) {
      this.queue.remove(entry);
      this.detachAbort(entry);
    }
    this.inFlightBatches++;
    this.inFlightRequests += batch.length;
    void this.execute(batch, now);
  }

  private async execute(batch: PendingRequest[], dispatchedAtMs: number): Promise<void> {
    try {
      if (batch.length === 1) await this.runAlone(batch[0] as PendingRequest, dispatchedAtMs);
      else await this.runTogether(batch, dispatchedAtMs);
    } finally {
      this.inFlightBatches--;
      this.inFlightRequests -= batch.length;
      this.pump();
      this.settleDrain();
    }
  }

  /** Run one request with its own tensors (no copy); its error, if any, is passed on unchanged. */
  private async runAlone(entry: PendingRequest, dispatchedAtMs: number): Promise<void> {
    const start = performance.now();
    try {
      const output = await this.callRun(entry.inputs);
      const computeNs = (performance.now() - start) * MS_TO_NS;
      // Alone, the run's outputs are the request's outputs: nothing to split.
      const timings = computeTimings(computeNs, output.inferNs, 0);
      this.observe(entry.size, 1, computeNs, true, timings);
      entry.resolve({
        outputs: output.outputs,
        batchSize: entry.size,
        requestBatchSize: entry.size,
        queueNs: (dispatchedAtMs - entry.enqueuedAtMs) * MS_TO_NS,
        computeNs,
        computeInputNs: timings.computeInputNs,
        computeInferNs: timings.computeInferNs,
        computeOutputNs: timings.computeOutputNs,
      });
    } catch (err) {
      this.observe(entry.size, 1, (performance.now() - start) * MS_TO_NS, false);
      entry.reject(err);
    }
  }

  private async runTogether(batch: PendingRequest[], dispatchedAtMs: number): Promise<void> {
    const sizes = new Array<number>(batch.length);
    const inputs = new Array<Tensor[]>(batch.length);
    let total = 0;
    for (let i = 0; i < batch.length; i++) {
      const entry = batch[i] as PendingRequest;
      sizes[i] = entry.size;
      inputs[i] = entry.inputs;
      total += entry.size;
    }
    const start = performance.now();
    let perRequest: Tensor[][];
    let computeNs: number;
    let timings: ComputeTimings;
    try {
      const output = await this.callRun(concatBatch(inputs, total));
      const ranAtMs = performance.now();
      computeNs = (ranAtMs - start) * MS_TO_NS;
      perRequest = splitBatch(output.outputs, sizes, total);
      timings = computeTimings(computeNs, output.inferNs, (performance.now() - ranAtMs) * MS_TO_NS);
    } catch {
      // The batch's error is not any one request's: re-run each alone so that one bad request
      // fails by itself and the others still get their results.
      this.observe(total, batch.length, (performance.now() - start) * MS_TO_NS, false);
      for (const entry of batch) await this.runAlone(entry, dispatchedAtMs);
      return;
    }
    this.observe(total, batch.length, computeNs, true, timings);
    for (let i = 0; i < batch.length; i++) {
      const entry = batch[i] as PendingRequest;
      entry.resolve({
        outputs: perRequest[i] as Tensor[],
        batchSize: total,
        requestBatchSize: entry.size,
        queueNs: (dispatchedAtMs - entry.enqueuedAtMs) * MS_TO_NS,
        computeNs,
        computeInputNs: timings.computeInputNs,
        computeInferNs: timings.computeInferNs,
        computeOutputNs: timings.computeOutputNs,
      });
    }
  }

  /** run, with a synchronous throw turned into a rejection so completion is always asynchronous. */
  private callRun(inputs: Tensor[]): Promise<RunOutput> {
    try {
      return this.run(inputs);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private observe(
    batchSize: number,
    requestCount: number,
    computeNs: number,
    ok: boolean,
    timings?: ComputeTimings,
  ): void {
    if (this.observer?.batchExecuted === undefined) return;
    try {
      this.observer.batchExecuted(batchSize, requestCount, computeNs, ok, timings);
    } catch {
      // Monitoring must never fail inference; a broken observer loses its own data only.
    }
  }

  /** Reject a request that is still queued (its client went away) without running it. */
  private abandon(entry: PendingRequest, err: TendError): void {
    if (!entry.queued) return;
    this.queue.remove(entry);
    this.detachAbort(entry);
    entry.reject(err);
    // The head may have changed to one whose delay is already over.
    this.pump();
    this.settleDrain();
  }

  private detachAbort(entry: PendingRequest): void {
    if (entry.onAbort === null) return;
    entry.signal?.removeEventListener('abort', entry.onAbort);
    entry.onAbort = null;
  }

  private readonly expireEntry = (entry: PendingRequest): void => {
    this.queue.remove(entry);
    this.detachAbort(entry);
    entry.reject(errors.queueTimeout(this.name, entry.timeoutUs));
  };

  private clearTimers(): void {
    this.delayTimer.clear();
    this.deadlines.clear();
  }

  private settleDrain(): void {
    if (this.accepting || this.queue.size > 0 || this.inFlightBatches > 0) return;
    if (this.drainWaiters.length === 0) return;
    this.clearTimers();
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
