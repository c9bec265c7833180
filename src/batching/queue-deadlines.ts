/**
 * Queue deadlines in a binary min-heap, so one timer can serve the whole queue. Entries that leave
 * the queue early (dispatched, aborted) are not searched for: they are dropped lazily when they
 * reach the top, and swept out when they come to outnumber the live ones.
 */

export interface Deadlined {
  /** performance.now() time (ms) after which the entry has waited too long. */
  readonly deadlineMs: number;
  /** False once the entry has left the queue; the heap then ignores it. */
  readonly queued: boolean;
}

export class DeadlineHeap<E extends Deadlined> {
  private items: E[] = [];

  /** Entries held, including stale ones not yet dropped. */
  get size(): number {
    return this.items.length;
  }

  /** Add an entry; `liveBound` (an upper bound on live entries) decides when to sweep stale ones. */
  push(entry: E, liveBound: number): void {
    if (this.items.length >= 64 && this.items.length > 2 * liveBound) this.sweep();
    this.items.push(entry);
    this.siftUp(this.items.length - 1);
  }

  /** The queued entry with the earliest deadline. */
  peek(): E | undefined {
    let top = this.items[0];
    while (top !== undefined && !top.queued) {
      this.pop();
      top = this.items[0];
    }
    return top;
  }

  /** Remove and return the top entry (live or not). */
  pop(): E | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  clear(): void {
    this.items = [];
  }

  private sweep(): void {
    this.items = this.items.filter((e) => e.queued);
    for (let i = (this.items.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  private siftUp(index: number): void {
    const items = this.items;
    const entry = items[index] as E;
    let i = index;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent] as E;
      if (p.deadlineMs <= entry.deadlineMs) break;
      items[i] = p;
      i = parent;
    }
    items[i] = entry;
  }

  private siftDown(index: number): void {
    const items = this.items;
    const n = items.length;
    const entry = items[index] as E;
    let i = index;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      let child = left;
      if (right < n && (items[right] as E).deadlineMs < (items[left] as E).deadlineMs) child = right;
      const c = items[child] as E;
      if (c.deadlineMs >= entry.deadlineMs) break;
      items[i] = c;
      i = child;
    }
    items[i] = entry;
  }
}

/** The queue's deadlines plus the one timer that wakes the batcher when the earliest one passes. */
export class QueueDeadlines<E extends Deadlined> {
  private readonly heap = new DeadlineHeap<E>();
  private timer: NodeJS.Timeout | null = null;
  private timerAtMs = 0;

  /** `wake` runs when the earliest deadline may have passed; it should call expire(). */
  constructor(private readonly wake: () => void) {}

  /** True while some entry (maybe stale) is tracked. */
  get active(): boolean {
    return this.heap.size > 0;
  }

  /** Track a queued entry (and arm the timer if it is now the earliest); `liveBound` bounds queued entries. */
  add(entry: E, liveBound: number, now: number): void {
    this.heap.push(entry, liveBound);
    this.arm(now);
  }

  /** Hand every queued entry whose deadline is at or before `now` to `onExpired`; re-arm for the rest. */
  expire(now: number, onExpired: (entry: E) => void): void {
    for (let top = this.heap.peek(); top !== undefined && top.deadlineMs <= now; top = this.heap.peek()) {
      this.heap.pop();
      onExpired(top);
    }
    this.arm(now);
  }

  /** Forget every entry and stop the timer. */
  clear(): void {
    this.heap.clear();
    this.stop();
  }

  private arm(now: number): void {
    const top = this.heap.peek();
    // An empty queue keeps a timer already armed, unreferenced: it fires once (if the process still
    // runs), finds nothing due, and is not re-armed. Clearing it here would cost a clearTimeout and a
    // setTimeout per batch on a busy server, where the queue empties at every dispatch and every
    // request carries the request-timeout deadline; ref()/unref() only count.
    if (top === undefined) {
      this.timer?.unref();
      return;
    }
    // An earlier timer is fine: when it fires, expire() re-arms for what is left.
    if (this.timer !== null && this.timerAtMs <= top.deadlineMs) {
      this.timer.ref();
      return;
    }
    this.stop();
    this.timerAtMs = top.deadlineMs;
    // Timers may fire a little early; expire() then finds nothing due and re-arms.
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.wake();
      },
      Math.max(1, Math.ceil(top.deadlineMs - now)),
    );
  }

  private stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
