/**
 * The waiting requests of one batcher: FIFO per priority level, and within each level a second
 * FIFO per batch key so that forming a batch walks only compatible requests. Both are intrusive
 * doubly linked lists, so push, remove (abort, timeout, dispatch) and peek are O(1) and forming a
 * batch costs O(requests taken), however many incompatible requests wait in between.
 */

/** A queued item: what the queue needs to know plus its links (owned by the queue). */
export class QueueEntry {
  /** True while the entry sits in a queue. */
  queued = false;
  levelPrev: QueueEntry | null = null;
  levelNext: QueueEntry | null = null;
  keyPrev: QueueEntry | null = null;
  keyNext: QueueEntry | null = null;

  constructor(
    /** Requests with equal keys may share a batch. */
    readonly key: string,
    /** Items this request adds to a batch (its dim 0). */
    readonly size: number,
    /** 0-based priority level; 0 is served first. */
    readonly level: number,
  ) {}
}

interface KeyChain {
  head: QueueEntry | null;
  tail: QueueEntry | null;
  /** Sum of the sizes of the entries in the chain. */
  items: number;
}

interface Level {
  head: QueueEntry | null;
  tail: QueueEntry | null;
  chains: Map<string, KeyChain>;
}

export class RequestQueue<E extends QueueEntry> {
  private readonly levels: Level[];
  private count = 0;

  constructor(levelCount: number) {
    this.levels = [];
    for (let i = 0; i < levelCount; i++) this.levels.push({ head: null, tail: null, chains: new Map() });
  }

  /** Requests waiting. */
  get size(): number {
    return this.count;
  }

  /** Append at the tail of the entry's level. */
  push(entry: E): void {
    const level = this.levels[entry.level];
    if (level === undefined) throw new RangeError(`no priority level ${entry.level}`);
    entry.levelPrev = level.tail;
    entry.levelNext = null;
    if (level.tail === null) level.head = entry;
    else level.tail.levelNext = entry;
    level.tail = entry;

    let chain = level.chains.get(entry.key);
    if (chain === undefined) {
      chain = { head: null, tail: null, items: 0 };
      level.chains.set(entry.key, chain);
    }
    entry.keyPrev = chain.tail;
    entry.keyNext = null;
    if (chain.tail === null) chain.head = entry;
    else chain.tail.keyNext = entry;
    chain.tail = entry;
    chain.items += entry.size;

    entry.queued = true;
    this.count++;
  }

  /** Take an entry out wherever it is; a no-op for an entry not queued. */
  remove(entry: E): void {
    if (!entry.queued) return;
    const level = this.levels[entry.level] as Level;
    if (entry.levelPrev === null) level.head = entry.levelNext;
    else entry.levelPrev.levelNext = entry.levelNext;
    if (entry.levelNext === null) level.tail = entry.levelPrev;
    else entry.levelNext.levelPrev = entry.levelPrev;

    const chain = level.chains.get(entry.key) as KeyChain;
    if (entry.keyPrev === null) chain.head = entry.keyNext;
    else entry.keyPrev.keyNext = entry.keyNext;
    if (entry.keyNext === null) chain.tail = entry.keyPrev;
    else entry.keyNext.keyPrev = entry.keyPrev;
    chain.items -= entry.size;
    // Drop empty chains so that a stream of distinct shapes does not grow the map forever.
    if (chain.head === null) level.chains.delete(entry.key);

    entry.levelPrev = entry.levelNext = entry.keyPrev = entry.keyNext = null;
    entry.queued = false;
    this.count--;
  }

  /** The request that goes next: the oldest of the highest non-empty level. */
  peek(): E | undefined {
    for (const level of this.levels) {
      if (level.head !== null) return level.head as E;
    }
    return undefined;
  }

  /** Items waiting (sum of sizes) over all levels for one batch key. */
  itemsFor(key: string): number {
    let items = 0;
    for (const level of this.levels) items += level.chains.get(key)?.items ?? 0;
    return items;
  }

  /**
   * The requests with this key in dispatch order (level by level, FIFO within a level), taken
   * while they fit in maxItems; stops at the first that does not fit so later ones never jump it.
   * Does not remove them.
   */
  collect(key: string, maxItems: number): E[] {
    const taken: E[] = [];
    let items = 0;
    for (const level of this.levels) {
      for (let e = level.chains.get(key)?.head ?? null; e !== null; e = e.keyNext) {
        if (items + e.size > maxItems) return taken;
        taken.push(e as E);
        items += e.size;
      }
    }
    return taken;
  }

  /**
   * Like collect, but cut to the longest prefix whose total is one of `sizes`;
   * null when no prefix reaches one of them.
   */
  collectPreferred(key: string, maxItems: number, sizes: ReadonlySet<number>): E[] | null {
    const taken = this.collect(key, maxItems);
    let items = 0;
    let cut = 0;
    for (let i = 0; i < taken.length; i++) {
      items += (taken[i] as E).size;
      if (sizes.has(items)) cut = i + 1;
    }
    if (cut === 0) return null;
    taken.length = cut;
    return taken;
  }

  /** Empty the queue, returning its entries in dispatch order. */
  removeAll(): E[] {
    const all: E[] = [];
    for (const level of this.levels) {
      for (let e = level.head; e !== null; e = e.levelNext) all.push(e as E);
    }
    for (const e of all) this.remove(e);
    return all;
  }
}
