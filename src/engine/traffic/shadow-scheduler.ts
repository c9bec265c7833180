/**
 * When mirrored (shadow) requests run: after the callers, never beside them. A shadow costs the
 * caller through the CPU it takes (the shadow's worker, and the main thread's share of queueing and
 * comparing), so mirrored work yields:
 *
 * - it runs only while the champion's batcher has nothing queued and nothing running; while callers
 *   wait, mirrored requests wait (each is counted once as `deferred`);
 * - one shadow batch at a time per endpoint, and the champion is asked again before each batch;
 * - waiting requests of a batched shadow are joined into one request of at most the shadow's largest
 *   batch, so the main thread does one round trip, not one per mirrored request (when the joined
 *   batch fails, each request runs alone, as the batcher does);
 * - a shadow batch is kept short: the first is one row, and the cap on rows doubles after a full
 *   batch that took at most `maxBatchMs` and halves after one that took over twice that. A caller that
 *   arrives while a shadow batch runs shares the CPU with it about that long at most, whatever the
 *   model's size (a tiny model soon gets full batches; a large one, a row at a time);
 * - nothing queues without bound: at most `maxPending` requests per endpoint wait or run (more are
 *   refused and counted as skipped), and a request that waited `maxWaitMs` for the champion to go idle
 *   is dropped and counted as skipped (`skipped_expired`). The share that was mirrored is reported;
 * - the main thread is shared by every caller: while its event loop was busy more than
 *   `maxLoopShare` of the last window (loop-meter.ts), no request is mirrored (each is counted as
 *   skipped, `skipped_busy`, before anything is copied) and waiting ones do not start. A saturated
 *   server gives callers all of its main thread; the shadow sees the requests of its quieter moments.
 *
 * Not chosen: a cap on the shadow worker's CPU share (for a small model the shadow's worker time is a
 * few percent of a core once batched, so a cap would not bind; the harm is overlap with callers and
 * main-thread work per mirrored request, which the rules above address, the last one as a cap on the
 * main thread's share); a lower OS priority for the
 * shadow's threads (Node gives no thread id for a worker, and onnxruntime's pool threads are not
 * reachable from JavaScript; os.setPriority takes a process); one intra-op thread for the shadow's
 * session (session options come from the model's config, which the champion and its shadow share,
 * and are applied by the runtime: a per-role option would reach into serving and runtime).
 */
import { batchKey, concatBatch, splitBatch } from '../../batching/index.js';
import type { Logger } from '../../core/logger.js';
import type { Tensor } from '../../core/tensor.js';
import type { ServedVersion } from '../serving/served-version.js';
import { LoopMeter } from './loop-meter.js';
import type { ShadowComparisons, ShadowPair } from './shadow-compare.js';

/** How mirrored requests are bounded and paced. */
export interface ShadowPolicy {
  /** Mirrored requests of one endpoint that may wait or run at once; more are skipped. */
  maxPending: number;
  /** The longest a mirrored request waits for the champion to go idle before it is dropped (skipped). */
  maxWaitMs: number;
  /** How often waiting mirrored requests are looked at; they gather in between. */
  tickMs: number;
  /** The run time (round trip included) a shadow batch is sized for; at least one row per batch. */
  maxBatchMs: number;
  /** Above this busy share of the main thread's event loop (0–1), nothing is mirrored or started. */
  maxLoopShare: number;
  /** The window over which that share is measured. */
  loopWindowMs: number;
}

/**
 * Mirrored requests of one endpoint allowed to wait or run at once. Mirroring doubles the work; when
 * the shadow falls this far behind, requests are counted as skipped instead of queueing without
 * bound and taking the champion's CPU and memory.
 */
export const MAX_SHADOW_IN_FLIGHT = 256;

export const DEFAULT_SHADOW_POLICY: Readonly<ShadowPolicy> = Object.freeze({
  maxPending: MAX_SHADOW_IN_FLIGHT,
  maxWaitMs: 1000,
  tickMs: 5,
  maxBatchMs: 5,
  maxLoopShare: 0.7,
  loopWindowMs: 100,
});

/** What the scheduler needs from the engine. */
export interface ShadowHost {
  readonly logger: Logger;
  /** A registry version of `name`, loaded (or failed: check isReady). */
  version(name: string, version: number): Promise<ServedVersion>;
  /** Run one request on a version (inputs are consumed). */
  run(target: ServedVersion, inputs: Tensor[]): Promise<Tensor[]>;
}

interface ShadowJob {
  pair: ShadowPair;
  champion: ServedVersion;
  inputs: Tensor[];
  championOutputs: readonly Tensor[];
  enqueuedAtMs: number;
  deferred: boolean;
}

/** One endpoint's mirrored requests; kept while the server runs (one per endpoint that had a shadow). */
interface Lane {
  jobs: ShadowJob[];
  /** Requests reserved, waiting or running (each given back once). */
  slots: number;
  running: boolean;
  /** Rows the next shadow batch may hold (see maxBatchMs). */
  rows: number;
}

/** True while callers' work is queued on the champion's batcher or running on its workers. */
export function championBusy(champion: ServedVersion): boolean {
  const batcher = champion.batcher;
  return batcher !== undefined && (batcher.pendingCount > 0 || batcher.inFlightCount > 0);
}

function samePair(a: ShadowPair, b: ShadowPair): boolean {
  return a.champion === b.champion && a.shadow === b.shadow;
}

/** dim 0 of a request's inputs when it can join a batch of at most `max`, else 0. */
function batchItems(inputs: readonly Tensor[], max: number): number {
  const size = inputs[0]?.shape[0];
  if (size === undefined || !Number.isInteger(size) || size < 1 || size > max) return 0;
  return inputs.every((t) => t.shape[0] === size) ? size : 0;
}

/**
 * Mirrored requests per endpoint, run when the champion is idle.
 * @example if (scheduler.reserve('digits', pair)) scheduler.mirror('digits', champion, 4, copy, outputs)
 */
export class ShadowScheduler {
  private readonly lanes = new Map<string, Lane>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly comparisons: ShadowComparisons,
    private readonly host: ShadowHost,
    private readonly policy: Readonly<ShadowPolicy> = DEFAULT_SHADOW_POLICY,
    /** Milliseconds clock for waits and batch times (injected in tests). */
    private readonly now: () => number = () => performance.now(),
    /** The main thread's busy share over the last window (injected in tests). */
    loopShare?: () => number,
  ) {
    if (loopShare === undefined) {
      const meter = new LoopMeter(policy.loopWindowMs);
      this.loopShare = () => meter.share();
    } else this.loopShare = loopShare;
  }

  private readonly loopShare: () => number;

  /** True while the main thread is too busy with callers for mirrored work. */
  private loopBusy(): boolean {
    return this.loopShare() > this.policy.maxLoopShare;
  }

  private lane(endpoint: string): Lane {
    let lane = this.lanes.get(endpoint);
    if (lane === undefined) {
      lane = { jobs: [], slots: 0, running: false, rows: 1 };
      this.lanes.set(endpoint, lane);
    }
    return lane;
  }

  /**
   * Take a slot for one request of `endpoint`, or count it as skipped when the main thread is busy
   * (see maxLoopShare) or `maxPending` requests already wait or run. A slot taken is given back
   * when its mirrored request ends, or by release().
   */
  reserve(endpoint: string, pair: ShadowPair): boolean {
    const lane = this.lane(endpoint);
    if (this.loopBusy()) {
      this.comparisons.recordSkipped(endpoint, pair, 'busy');
      return false;
    }
    if (lane.slots >= this.policy.maxPending) {
      this.comparisons.recordSkipped(endpoint, pair, 'full');
      return false;
    }
    lane.slots += 1;
    return true;
  }

  /** Give back a slot of reserve() whose request was not mirrored (the champion failed). */
  release(endpoint: string): void {
    const lane = this.lanes.get(endpoint);
    if (lane === undefined) return;
    lane.slots = Math.max(0, lane.slots - 1);
  }

  /** Mirrored requests of `endpoint` waiting for the champion to go idle. */
  waiting(endpoint: string): number {
    return this.lanes.get(endpoint)?.jobs.length ?? 0;
  }

  /** Queue a copy of a request (slot reserved) for the shadow; it runs once the champion is idle. Never throws. */
  mirror(
    endpoint: string,
    champion: ServedVersion,
    shadowVersion: number,
    inputs: Tensor[],
    championOutputs: readonly Tensor[],
  ): void {
    this.lane(endpoint).jobs.push({
      pair: { champion: champion.version, shadow: shadowVersion },
      champion,
      inputs,
      championOutputs,
      enqueuedAtMs: this.now(),
      deferred: false,
    });
    this.arm();
  }

  private arm(): void {
    if (this.timer !== undefined) return;
    for (const lane of this.lanes.values()) {
      if (lane.jobs.length === 0) continue;
      this.timer = setTimeout(() => this.tick(), this.policy.tickMs);
      this.timer.unref();
      return;
    }
  }

  private tick(): void {
    this.timer = undefined;
    const now = this.now();
    for (const [endpoint, lane] of this.lanes) {
      this.expire(endpoint, lane, now);
      if (!lane.running && lane.jobs.length > 0) {
        this.drain(endpoint, lane).catch((err: unknown) =>
          this.host.logger.error({ endpoint, err: (err as Error).message }, 'shadow scheduler failed'),
        );
      }
    }
    this.arm();
  }

  /** Drop the requests that waited longer than maxWaitMs: skipped, slot given back. */
  private expire(endpoint: string, lane: Lane, now: number): void {
    const oldest = lane.jobs[0];
    if (oldest === undefined || now - oldest.enqueuedAtMs <= this.policy.maxWaitMs) return;
    const kept: ShadowJob[] = [];
    for (const job of lane.jobs) {
      if (now - job.enqueuedAtMs <= this.policy.maxWaitMs) kept.push(job);
      else {
        this.comparisons.recordSkipped(endpoint, job.pair, 'expired');
        lane.slots = Math.max(0, lane.slots - 1);
      }
    }
    lane.jobs = kept;
  }

  /** Run the lane's waiting requests, one shadow batch at a time, while the champion stays idle. */
  private async drain(endpoint: string, lane: Lane): Promise<void> {
    lane.running = true;
    try {
      for (let head = lane.jobs[0]; head !== undefined; head = lane.jobs[0]) {
        if (championBusy(head.champion) || this.loopBusy()) {
          this.defer(endpoint, lane);
          return;
        }
        let shadow: ServedVersion;
        try {
          shadow = await this.host.version(endpoint, head.pair.shadow);
        } catch (err) {
          this.finish(endpoint, lane, this.take(lane, head.pair, null, 0, 0), err);
          continue;
        }
        const max = shadow.isReady ? shadow.maxBatchSize : 0;
        const key = max > 0 && batchItems(head.inputs, max) > 0 ? batchKey(head.inputs) : null;
        const jobs = this.take(lane, head.pair, key, max, Math.min(lane.rows, max));
        await this.runChunk(endpoint, lane, shadow, jobs);
      }
    } finally {
      lane.running = false;
      this.arm();
    }
  }

  private defer(endpoint: string, lane: Lane): void {
    for (const job of lane.jobs) {
      if (job.deferred) continue;
      job.deferred = true;
      this.comparisons.recordDeferred(endpoint, job.pair);
    }
  }

  /**
   * Take the next shadow batch out of the lane: with a batch key, the waiting requests of that pair
   * and key that fit the shadow's max batch size `max`, in order, up to `rows` rows (the first one
   * always); without one, every waiting request of the pair that cannot join a batch (each runs on
   * its own).
   */
  private take(lane: Lane, pair: ShadowPair, key: string | null, max: number, rows: number): ShadowJob[] {
    const taken: ShadowJob[] = [];
    const kept: ShadowJob[] = [];
    let items = 0;
    for (const job of lane.jobs) {
      if (!samePair(job.pair, pair)) kept.push(job);
      else if (key === null) {
        if (max > 0 && batchItems(job.inputs, max) > 0) kept.push(job);
        else taken.push(job);
      } else {
        const size = batchItems(job.inputs, max);
        if (size > 0 && (taken.length === 0 || items + size <= rows) && batchKey(job.inputs) === key) {
          taken.push(job);
          items += size;
        } else kept.push(job);
      }
    }
    lane.jobs = kept;
    return taken;
  }

  private async runChunk(
    endpoint: string,
    lane: Lane,
    shadow: ServedVersion,
    jobs: ShadowJob[],
  ): Promise<void> {
    const first = jobs[0];
    if (first === undefined) return;
    const max = shadow.isReady ? shadow.maxBatchSize : 0;
    if (max > 0 && batchItems(first.inputs, max) > 0) {
      const sizes = jobs.map((j) => batchItems(j.inputs, max));
      const total = sizes.reduce((a, b) => a + b, 0);
      const started = this.now();
      try {
        const inputs =
          jobs.length === 1
            ? first.inputs
            : concatBatch(
                jobs.map((j) => j.inputs),
                total,
              );
        const outputs = await this.host.run(shadow, inputs);
        const tookMs = this.now() - started;
        if (tookMs <= this.policy.maxBatchMs && total >= lane.rows) lane.rows = Math.min(max, 2 * lane.rows);
        else if (tookMs > 2 * this.policy.maxBatchMs) lane.rows = Math.max(1, Math.floor(lane.rows / 2));
        const perJob = jobs.length === 1 ? [outputs] : splitBatch(outputs, sizes, total);
        jobs.forEach((job, i) => this.finish(endpoint, lane, [job], undefined, perJob[i]));
        return;
      } catch (err) {
        if (jobs.length === 1) {
          this.finish(endpoint, lane, jobs, err);
          return;
        }
        // The joined batch's error is not any one request's: each runs alone below, so that one
        // bad request counts one shadow error and the others are still compared.
      }
    }
    await Promise.all(
      jobs.map(async (job) => {
        try {
          const outputs = await this.host.run(shadow, job.inputs);
          this.finish(endpoint, lane, [job], undefined, outputs);
        } catch (err) {
          this.finish(endpoint, lane, [job], err);
        }
      }),
    );
  }

  /** Record the outcome of mirrored requests (compared, or failed) and give their slots back. */
  private finish(
    endpoint: string,
    lane: Lane,
    jobs: readonly ShadowJob[],
    error: unknown,
    outputs?: readonly Tensor[],
  ): void {
    for (const job of jobs) {
      lane.slots = Math.max(0, lane.slots - 1);
      if (outputs === undefined) {
        this.comparisons.recordError(endpoint, job.pair, error);
        continue;
      }
      try {
        this.comparisons.compare(endpoint, job.pair, job.championOutputs, outputs);
      } catch (err) {
        // An answer that cannot be compared is the shadow's failure, never the scheduler's.
        this.comparisons.recordError(endpoint, job.pair, err);
      }
    }
    if (outputs === undefined && jobs.length > 0) {
      this.host.logger.debug(
        { endpoint, shadow: jobs[0]?.pair.shadow, requests: jobs.length, err: (error as Error)?.message },
        'shadow request failed',
      );
    }
  }
}
