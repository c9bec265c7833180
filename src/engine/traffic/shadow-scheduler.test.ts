import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../core/logger.js';
import type { Tensor } from '../../core/tensor.js';
import type { ServedVersion } from '../serving/served-version.js';
import { ShadowComparisons } from './shadow-compare.js';
import { championBusy, ShadowScheduler, type ShadowHost, type ShadowPolicy } from './shadow-scheduler.js';

const PAIR = { champion: 1, shadow: 2 };
/** The main-thread guard's settings; each test gives the busy share it wants (idle unless said). */
const LOOP = { maxLoopShare: 0.7, loopWindowMs: 100 };

/** A champion whose batcher queue and running count the test sets. */
function fakeChampion(): { version: ServedVersion; queue: { pendingCount: number; inFlightCount: number } } {
  const queue = { pendingCount: 0, inFlightCount: 0 };
  return { version: { version: 1, batcher: queue } as unknown as ServedVersion, queue };
}

function fakeShadow(maxBatchSize: number): ServedVersion {
  return { version: 2, isReady: true, maxBatchSize } as unknown as ServedVersion;
}

function row(x: number): Tensor[] {
  return [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: Float32Array.from([x, -x]) }];
}

/** Scores with the argmax at column 0 when x > 0: the "model" both versions run. */
function answer(inputs: readonly Tensor[]): Tensor[] {
  const x = inputs[0] as Tensor;
  return [{ name: 'y', datatype: 'FP32', shape: [...x.shape], data: (x.data as Float32Array).slice() }];
}

interface Harness {
  scheduler: ShadowScheduler;
  /** The scheduler's clock: it moves only when a test moves it. */
  clock: { ms: number };
  comparisons: ShadowComparisons;
  /** Batch sizes (dim 0) of every shadow run, in order. */
  runs: number[];
  /** The main thread's busy share the scheduler reads. */
  loop: { share: number };
}

function harness(shadow: ServedVersion, policy: Partial<ShadowPolicy> = {}): Harness {
  const comparisons = new ShadowComparisons();
  const runs: number[] = [];
  const clock = { ms: 0 };
  const loop = { share: 0 };
  const host: ShadowHost = {
    logger: silentLogger,
    version: () => Promise.resolve(shadow),
    run: (_target, inputs) => {
      runs.push(inputs[0]?.shape[0] ?? 0);
      return Promise.resolve(answer(inputs));
    },
  };
  const scheduler = new ShadowScheduler(
    comparisons,
    host,
    {
      maxPending: 256,
      maxWaitMs: 10_000,
      tickMs: 1,
      maxBatchMs: 1000,
      ...LOOP,
      ...policy,
    },
    () => clock.ms,
    () => loop.share,
  );
  return { scheduler, comparisons, runs, clock, loop };
}

function mirrorRows(h: Harness, champion: ServedVersion, values: readonly number[]): void {
  for (const x of values) {
    assert.equal(h.scheduler.reserve('e', PAIR), true);
    h.scheduler.mirror('e', champion, 2, row(x), answer(row(x)));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await sleep(2);
  assert.ok(condition(), 'condition not reached');
}

test('championBusy: queued or running caller work on the champion', () => {
  const { version, queue } = fakeChampion();
  assert.equal(championBusy(version), false);
  queue.pendingCount = 1;
  assert.equal(championBusy(version), true);
  queue.pendingCount = 0;
  queue.inFlightCount = 3;
  assert.equal(championBusy(version), true);
  assert.equal(championBusy({ version: 1 } as ServedVersion), false, 'no batcher: nothing of callers runs');
});

test('mirrored requests wait while callers are queued on the champion, then run', async () => {
  const { version: champion, queue } = fakeChampion();
  const h = harness(fakeShadow(8));
  queue.pendingCount = 2;
  mirrorRows(h, champion, [1, 2, 3]);
  await sleep(20);
  assert.deepEqual(h.runs, [], 'nothing ran on the shadow while callers waited');
  assert.equal(h.scheduler.waiting('e'), 3);
  const held = h.comparisons.endpoint('e');
  assert.equal(held?.deferred, 3, 'each held request counted once, however many ticks it waited');
  assert.equal(held?.count, 0);

  queue.pendingCount = 0;
  await until(() => h.comparisons.endpoint('e')?.count === 3);
  // The first shadow batch is one row (its time per row is not known yet); the rest go together.
  assert.deepEqual(h.runs, [1, 2], 'the other waiting requests went to the shadow as one batch');
  const done = h.comparisons.endpoint('e');
  assert.equal(done?.deferred, 3);
  assert.equal(done?.agreement_rate, 1);
  assert.equal(done?.mirrored_share, 1);
  assert.equal(h.scheduler.waiting('e'), 0);
});

test('a shadow batch never exceeds the shadow max batch size; the champion is asked before each batch', async () => {
  const { version: champion, queue } = fakeChampion();
  const comparisons = new ShadowComparisons();
  const runs: number[] = [];
  const host: ShadowHost = {
    logger: silentLogger,
    version: () => Promise.resolve(fakeShadow(2)),
    run: (_t, inputs) => {
      runs.push(inputs[0]?.shape[0] ?? 0);
      queue.inFlightCount = 1; // a caller's request arrived while the first shadow batch ran
      return Promise.resolve(answer(inputs));
    },
  };
  const scheduler = new ShadowScheduler(
    comparisons,
    host,
    {
      maxPending: 256,
      maxWaitMs: 10_000,
      tickMs: 1,
      maxBatchMs: 1000,
      ...LOOP,
    },
    () => 0,
    () => 0, // the main thread idle
  );
  for (const x of [1, 2, 3, 4, 5]) {
    scheduler.reserve('e', PAIR);
    scheduler.mirror('e', champion, 2, row(x), answer(row(x)));
  }
  await until(() => runs.length === 1);
  await sleep(20);
  assert.deepEqual(runs, [1], 'the next batch waits for the caller');
  assert.equal(scheduler.waiting('e'), 4);
  queue.inFlightCount = 0;
  host.run = (_t, inputs) => {
    runs.push(inputs[0]?.shape[0] ?? 0);
    return Promise.resolve(answer(inputs));
  };
  await until(() => comparisons.endpoint('e')?.count === 5);
  assert.deepEqual(runs, [1, 2, 2]);
});

test('requests that wait too long for an idle champion are dropped and counted as skipped', async () => {
  const { version: champion, queue } = fakeChampion();
  const h = harness(fakeShadow(8), { maxWaitMs: 5 });
  queue.inFlightCount = 1; // the champion never goes idle
  mirrorRows(h, champion, [1, 2]);
  await sleep(10);
  assert.equal(h.comparisons.endpoint('e')?.skipped, 0, 'within maxWaitMs they wait');
  h.clock.ms += 6;
  await until(() => h.comparisons.endpoint('e')?.skipped === 2);
  const s = h.comparisons.endpoint('e');
  assert.equal(s?.skipped_expired, 2);
  assert.equal(s?.count, 0);
  assert.equal(s?.mirrored_share, 0);
  assert.deepEqual(h.runs, []);
  assert.equal(h.scheduler.waiting('e'), 0);
  // Their slots came back: a full set can be reserved again.
  for (let i = 0; i < 256; i++) assert.equal(h.scheduler.reserve('e', PAIR), true);
  assert.equal(h.scheduler.reserve('e', PAIR), false);
  assert.equal(h.comparisons.endpoint('e')?.skipped, 3);
  assert.equal(h.comparisons.endpoint('e')?.skipped_expired, 2, 'the refusal is not an expiry');
});

test('the bound on waiting requests: beyond it requests are skipped, and the share says so', async () => {
  const { version: champion, queue } = fakeChampion();
  const h = harness(fakeShadow(8), { maxPending: 4 });
  queue.pendingCount = 1;
  mirrorRows(h, champion, [1, 2, 3, 4]);
  assert.equal(h.scheduler.reserve('e', PAIR), false);
  assert.equal(h.scheduler.reserve('e', PAIR), false);
  queue.pendingCount = 0;
  await until(() => h.comparisons.endpoint('e')?.count === 4);
  const s = h.comparisons.endpoint('e');
  assert.equal(s?.skipped, 2);
  assert.equal(s?.skipped_expired, 0);
  assert.equal(s?.mirrored_share, 4 / 6);
  assert.deepEqual(h.runs, [1, 2, 1], 'one row first, then batches of a doubling size');
});

test('while the main thread is busy with callers nothing is mirrored or started, and the counts say so', async () => {
  const { version: champion } = fakeChampion();
  const h = harness(fakeShadow(8));
  h.loop.share = 0.9; // above maxLoopShare 0.7
  assert.equal(h.scheduler.reserve('e', PAIR), false);
  assert.equal(h.scheduler.reserve('e', PAIR), false);
  const busy = h.comparisons.endpoint('e');
  assert.equal(busy?.skipped, 2);
  assert.equal(busy?.skipped_busy, 2);
  assert.equal(busy?.skipped_expired, 0);
  // Reserved while quiet, the loop turns busy before they start: they wait (deferred), then run.
  h.loop.share = 0.2;
  mirrorRows(h, champion, [1, 2, 3]);
  h.loop.share = 0.9;
  await sleep(20);
  assert.deepEqual(h.runs, []);
  assert.equal(h.comparisons.endpoint('e')?.deferred, 3);
  h.loop.share = 0.5;
  await until(() => h.comparisons.endpoint('e')?.count === 3);
  const after = h.comparisons.endpoint('e');
  assert.equal(after?.skipped_busy, 2);
  assert.equal(after?.mirrored_share, 3 / 5);
});

test('requests that cannot share a batch run one by one; a failed joined batch re-runs each request alone', async () => {
  const { version: champion } = fakeChampion();
  // Unbatched shadow (max batch 0): every request alone.
  const h = harness(fakeShadow(0));
  mirrorRows(h, champion, [1, 2, 3]);
  await until(() => h.comparisons.endpoint('e')?.count === 3);
  assert.deepEqual(h.runs, [1, 1, 1]);

  // Batched shadow that fails on one bad row (x = 2): the joined batch fails, each request re-runs
  // alone, and only the bad one counts an error (never a caller's).
  const comparisons = new ShadowComparisons();
  const runs: number[] = [];
  const host: ShadowHost = {
    logger: silentLogger,
    version: () => Promise.resolve(fakeShadow(8)),
    run: (_t, inputs) => {
      const x = inputs[0] as Tensor;
      runs.push(x.shape[0] ?? 0);
      if ((x.data as Float32Array).includes(2)) return Promise.reject(new Error('shadow broke'));
      return Promise.resolve(answer(inputs));
    },
  };
  const scheduler = new ShadowScheduler(
    comparisons,
    host,
    {
      maxPending: 3,
      maxWaitMs: 10_000,
      tickMs: 1,
      maxBatchMs: 1000,
      ...LOOP,
    },
    () => 0,
    () => 0, // the main thread idle
  );
  for (const x of [1, 2, 3]) {
    scheduler.reserve('e', PAIR);
    scheduler.mirror('e', champion, 2, row(x), answer(row(x)));
  }
  await until(() => comparisons.endpoint('e')?.count === 2);
  assert.deepEqual(runs, [1, 2, 1, 1], 'x=1 alone first; x=2 and x=3 joined, failed, then alone');
  assert.equal(comparisons.endpoint('e')?.shadow_errors, 1);
  assert.equal(comparisons.endpoint('e')?.last_error, 'shadow broke');
  assert.equal(comparisons.endpoint('e')?.error_rate, 1 / 3);
  for (let i = 0; i < 3; i++) assert.equal(scheduler.reserve('e', PAIR), true, 'slots came back');
});

test('a slow shadow gets short batches: the cap on rows grows only while batches stay within maxBatchMs', async () => {
  const { version: champion } = fakeChampion();
  const comparisons = new ShadowComparisons();
  const runs: number[] = [];
  const host: ShadowHost = {
    logger: silentLogger,
    version: () => Promise.resolve(fakeShadow(8)),
    run: (_t, inputs) => {
      runs.push(inputs[0]?.shape[0] ?? 0);
      clockMs += 10; // 10 ms for a batch: more than the 2 ms a shadow batch is sized for
      return Promise.resolve(answer(inputs));
    },
  };
  let clockMs = 0;
  const scheduler = new ShadowScheduler(
    comparisons,
    host,
    { maxPending: 256, maxWaitMs: 10_000, tickMs: 1, maxBatchMs: 2, ...LOOP },
    () => clockMs,
    () => 0,
  );
  for (const x of [1, 2, 3, 4]) {
    scheduler.reserve('e', PAIR);
    scheduler.mirror('e', champion, 2, row(x), answer(row(x)));
  }
  await until(() => comparisons.endpoint('e')?.count === 4);
  assert.deepEqual(runs, [1, 1, 1, 1], 'one row per shadow batch, never the whole queue at once');
});

test('the cap on rows doubles after quick batches up to the shadow max batch size, and halves after slow ones', async () => {
  const { version: champion, queue } = fakeChampion();
  const comparisons = new ShadowComparisons();
  const runs: number[] = [];
  let clockMs = 0;
  let batchMs = 1; // how long each shadow batch "takes" on the fake clock
  const host: ShadowHost = {
    logger: silentLogger,
    version: () => Promise.resolve(fakeShadow(8)),
    run: (_t, inputs) => {
      runs.push(inputs[0]?.shape[0] ?? 0);
      clockMs += batchMs;
      return Promise.resolve(answer(inputs));
    },
  };
  const policy = { maxPending: 256, maxWaitMs: 10_000, tickMs: 1, maxBatchMs: 4, ...LOOP };
  const scheduler = new ShadowScheduler(
    comparisons,
    host,
    policy,
    () => clockMs,
    () => 0,
  );
  const mirror = (n: number): void => {
    for (let i = 0; i < n; i++) {
      scheduler.reserve('e', PAIR);
      scheduler.mirror('e', champion, 2, row(i + 1), answer(row(i + 1)));
    }
  };
  queue.pendingCount = 1; // gather them all first
  mirror(31);
  queue.pendingCount = 0;
  await until(() => comparisons.endpoint('e')?.count === 31);
  assert.deepEqual(runs, [1, 2, 4, 8, 8, 8], 'doubling up to the max batch size of 8');
  runs.length = 0;
  batchMs = 9; // now each batch takes over twice maxBatchMs
  queue.pendingCount = 1;
  mirror(15);
  queue.pendingCount = 0;
  await until(() => comparisons.endpoint('e')?.count === 46);
  assert.deepEqual(runs, [8, 4, 2, 1]);
});
