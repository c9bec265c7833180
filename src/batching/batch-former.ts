/**
 * The batch former: which queued requests make the next batch, and when. Policy only (sizes and
 * delays over a RequestQueue); the batcher owns the timers and the dispatch.
 *
 * - Preferred sizes cut a batch with or without a delay (as Triton's): a model that runs batches of
 *   4 best gets batches of 4 even when 16 requests wait.
 * - Without a delay (or while draining) whatever waits goes at once, up to the max batch size.
 * - With a delay, a batch waits for the max size, a preferred size, or the head's delay to end.
 * - Double buffering: with every instance busy, only a full batch (the largest preferred size, else
 *   the max) is sent ahead; anything less keeps waiting, and growing, for a free instance.
 */
import type { BatchPolicy } from './policy.js';
import type { QueueEntry, RequestQueue } from './request-queue.js';

/** What the former needs of a queued request beyond the queue's own fields. */
export interface FormableEntry extends QueueEntry {
  readonly enqueuedAtMs: number;
}

/** Take the batch now, or wait until `dueMs` (then ask again). */
export type FormDecision<E> = { batch: E[] } | { waitUntilMs: number };

export class BatchFormer<E extends FormableEntry> {
  private readonly maxItems: number;
  private readonly delayMs: number;
  private readonly preferred: ReadonlySet<number> | null;
  private readonly minPreferred: number;
  /** A batch this big may be sent ahead to a busy instance. */
  private readonly fullItems: number;

  constructor(
    policy: Readonly<BatchPolicy>,
    private readonly queue: RequestQueue<E>,
  ) {
    const sizes = policy.preferredBatchSizes;
    this.maxItems = policy.maxBatchSize;
    this.delayMs = policy.maxQueueDelayUs / 1000;
    this.preferred = sizes.length > 0 ? new Set(sizes) : null;
    this.minPreferred = sizes.length > 0 ? Math.min(...sizes) : 0;
    this.fullItems = sizes.length > 0 ? Math.max(...sizes) : policy.maxBatchSize;
  }

  /** The batch to give a free instance, with `head` first. */
  form(head: E, now: number, draining: boolean): FormDecision<E> {
    const { queue, maxItems } = this;
    const available = queue.itemsFor(head.key);
    if (this.preferred !== null && available >= this.minPreferred) {
      const preferred = queue.collectPreferred(head.key, maxItems, this.preferred);
      if (preferred !== null) return { batch: preferred };
    }
    if (this.delayMs === 0 || draining || available >= maxItems)
      return { batch: queue.collect(head.key, maxItems) };
    const dueMs = head.enqueuedAtMs + this.delayMs;
    if (now >= dueMs) return { batch: queue.collect(head.key, maxItems) };
    return { waitUntilMs: dueMs };
  }

  /** A full batch with `head` first to send ahead to a busy instance, or null when there is none yet. */
  full(head: E): E[] | null {
    const { queue, fullItems } = this;
    if (queue.itemsFor(head.key) < fullItems) return null;
    return this.preferred !== null
      ? queue.collectPreferred(head.key, fullItems, this.preferred)
      : queue.collect(head.key, fullItems);
  }
}

/** The one timer that wakes the batcher when the head's delay ends. */
export class DelayTimer {
  private timer: NodeJS.Timeout | null = null;
  private atMs = 0;

  constructor(private readonly fire: () => void) {}

  /** Fire at `dueMs` (or earlier if already armed for earlier). */
  arm(dueMs: number, now: number): void {
    if (this.timer !== null && this.atMs <= dueMs) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.atMs = dueMs;
    // Timers may fire a little early; the batcher then finds the delay not over and re-arms.
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.fire();
      },
      Math.max(1, Math.ceil(dueMs - now)),
    );
  }

  clear(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
