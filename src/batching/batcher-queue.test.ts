import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TendError } from '../core/errors.js';
import { DynamicBatcher } from './batcher.js';
import { FAIL_MARKER, FakeRun, blocker, fp32, testPolicy as policy, values } from './fake-run.test-helper.js';
import { hasCode } from '../core/test-support.test-helper.js';

test('higher priority levels go first and fill the batch first; FIFO within a level', async () => {
  const fake = new FakeRun();
  const batcher = new DynamicBatcher(
    'm',
    policy({ maxBatchSize: 3, priorityLevels: 3, defaultPriorityLevel: 3 }),
    fake.run,
  );
  fake.hold();
  const first = blocker(batcher);
  const pending = [
    batcher.submit({ inputs: [fp32([1], 1)] }),
    batcher.submit({ inputs: [fp32([2], 1)], priority: 2 }),
    batcher.submit({ inputs: [fp32([3], 1)], priority: 1 }),
    batcher.submit({ inputs: [fp32([4], 1)], priority: 3 }),
    batcher.submit({ inputs: [fp32([5], 1)], priority: 1 }),
  ];
  fake.release();
  await Promise.all([first, ...pending]);
  assert.deepEqual(values(fake.calls[1]?.[0]), [3, 5, 2]);
  assert.deepEqual(values(fake.calls[2]?.[0]), [1, 4]);
  await assert.rejects(
    batcher.submit({ inputs: [fp32([1], 1)], priority: 4 }),
    hasCode('TEND_INVALID_ARGUMENT'),
  );
  await assert.rejects(
    batcher.submit({ inputs: [fp32([1], 1)], priority: 0 }),
    hasCode('TEND_INVALID_ARGUMENT'),
  );
});

test('a submit beyond maxQueueSize rejects with TEND_QUEUE_FULL and a retry hint', async () => {
  const fake = new FakeRun();
  const batcher = new DynamicBatcher('m', policy({ maxQueueSize: 2 }), fake.run);
  fake.hold();
  const queued = [blocker(batcher), blocker(batcher), blocker(batcher)];
  await assert.rejects(blocker(batcher), (err: unknown) => {
    hasCode('TEND_QUEUE_FULL')(err);
    assert.equal((err as TendError).status, 503);
    assert.equal((err as TendError).retryAfterSeconds, 1);
    return true;
  });
  fake.release();
  await Promise.all(queued);
  assert.deepEqual(fake.batchSizes, [1, 2]);
});

test('a request still queued after its timeout rejects with TEND_QUEUE_TIMEOUT and never runs', async () => {
  const fake = new FakeRun();
  const batcher = new DynamicBatcher('m', policy({ defaultTimeoutUs: 1_000 }), fake.run);
  fake.hold();
  const first = blocker(batcher);
  await assert.rejects(batcher.submit({ inputs: [fp32([1, 1], 2)] }), (err: unknown) => {
    hasCode('TEND_QUEUE_TIMEOUT')(err);
    assert.equal((err as TendError).status, 504);
    return true;
  });
  assert.equal(batcher.pendingCount, 0);
  fake.release();
  await first; // dispatched before its deadline: not cancelled
  assert.deepEqual(fake.batchSizes, [1]);
});

test('a per-request timeout overrides the default; requests without one keep waiting', async () => {
  const fake = new FakeRun();
  const batcher = new DynamicBatcher('m', policy({ maxBatchSize: 1 }), fake.run);
  fake.hold();
  const first = blocker(batcher);
  const patient = batcher.submit({ inputs: [fp32([1, 1], 2)] });
  const hasty = batcher.submit({ inputs: [fp32([2, 2], 2)], timeoutUs: 1_000 });
  await assert.rejects(hasty, hasCode('TEND_QUEUE_TIMEOUT'));
  await assert.rejects(
    batcher.submit({ inputs: [fp32([1, 1], 2)], timeoutUs: -5 }),
    hasCode('TEND_INVALID_ARGUMENT'),
  );
  fake.release();
  await Promise.all([first, patient]);
  assert.equal(fake.calls.length, 2);
});

test('an aborted signal removes the request from the queue and run never sees it', async () => {
  const fake = new FakeRun();
  const batcher = new DynamicBatcher('m', policy(), fake.run);
  fake.hold();
  const first = blocker(batcher);
  const controller = new AbortController();
  const gone = batcher.submit({ inputs: [fp32([9, 9], 2)], signal: controller.signal });
  const stays = batcher.submit({ inputs: [fp32([1, 1], 2)] });
  controller.abort();
  await assert.rejects(gone, hasCode('TEND_UNAVAILABLE', 'client disconnected'));
  assert.equal(batcher.pendingCount, 1);
  await assert.rejects(
    batcher.submit({ inputs: [fp32([1, 1], 2)], signal: AbortSignal.abort() }),
    hasCode('TEND_UNAVAILABLE', 'client disconnected'),
  );
  fake.release();
  await Promise.all([first, stays]);
  assert.deepEqual(fake.batchSizes, [1, 1]);
  assert.deepEqual(values(fake.calls[1]?.[0]), [1, 1]);
});

test('a failed batch is re-run one request at a time, so only the bad request fails', async () => {
  const fake = new FakeRun();
  const seen: [number, number, boolean][] = [];
  const batcher = new DynamicBatcher('m', policy(), fake.run, {
    observer: { batchExecuted: (size, count, _ns, ok) => seen.push([size, count, ok]) },
  });
  fake.hold();
  const first = blocker(batcher);
  const good1 = batcher.submit({ inputs: [fp32([1, 1], 2)] });
  const bad = batcher.submit({ inputs: [fp32([FAIL_MARKER, 0], 2)] });
  const good2 = batcher.submit({ inputs: [fp32([2, 2], 2)] });
  fake.release();
  await assert.rejects(bad, hasCode('TEND_INFERENCE_FAILED'));
  const [r1, r2] = await Promise.all([good1, good2, first]);
  assert.deepEqual(values(r1.outputs[0]), [2, 2]);
  assert.deepEqual(values(r2.outputs[0]), [4, 4]);
  assert.equal(r1.batchSize, 1);
  assert.deepEqual(fake.batchSizes, [1, 3, 1, 1, 1]);
  assert.deepEqual(seen, [
    [1, 1, true],
    [3, 3, false],
    [1, 1, true],
    [1, 1, false],
    [1, 1, true],
  ]);
});

test('a request that fails alone gets the error from run unchanged, even a synchronous throw', async () => {
  const boom = new Error('boom');
  const batcher = new DynamicBatcher('m', policy(), () => {
    throw boom;
  });
  await assert.rejects(batcher.submit({ inputs: [fp32([1], 1)] }), (err: unknown) => err === boom);
  const observerThrows = new DynamicBatcher('m', policy(), new FakeRun().run, {
    observer: {
      batchExecuted: () => {
        throw new Error('broken metrics');
      },
    },
  });
  await observerThrows.submit({ inputs: [fp32([1], 1)] });
});

test('drain refuses new requests and resolves once queued and running work is done', async () => {
  const fake = new FakeRun();
  const batcher = new DynamicBatcher('m', policy({ maxBatchSize: 1 }), fake.run);
  fake.hold();
  const pending = [blocker(batcher), blocker(batcher), blocker(batcher)];
  let drained = false;
  const draining = batcher.drain().then(() => (drained = true));
  await assert.rejects(blocker(batcher), hasCode('TEND_UNAVAILABLE'));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(drained, false);
  fake.release();
  await draining;
  assert.equal(fake.calls.length, 3);
  await Promise.all(pending);
  await batcher.drain(); // idle: resolves at once
});

test('close rejects what is queued, lets running batches finish and refuses new work', async () => {
  const fake = new FakeRun();
  const batcher = new DynamicBatcher(
    'm',
    policy({ maxBatchSize: 1, defaultTimeoutUs: 60_000_000 }),
    fake.run,
  );
  fake.hold();
  const running = blocker(batcher);
  const queued = [blocker(batcher), blocker(batcher)];
  const draining = batcher.drain();
  batcher.close('model unloaded');
  for (const q of queued) await assert.rejects(q, hasCode('TEND_UNAVAILABLE', 'model unloaded'));
  await assert.rejects(blocker(batcher), hasCode('TEND_UNAVAILABLE', 'model unloaded'));
  assert.equal(batcher.pendingCount, 0);
  fake.release();
  await running;
  await draining;
  assert.equal(fake.calls.length, 1);
});

test('aborting after dispatch does not cancel the run; the request still gets its result', async () => {
  const fake = new FakeRun();
  const batcher = new DynamicBatcher('m', policy({ defaultTimeoutUs: 60_000_000 }), fake.run);
  fake.hold();
  const controller = new AbortController();
  const running = batcher.submit({ inputs: [fp32([1, 2], 2)], signal: controller.signal });
  controller.abort();
  fake.release();
  assert.deepEqual(values((await running).outputs[0]), [2, 4]);
});

test('maxTimeoutUs caps the request timeout and the policy default', async () => {
  let release!: () => void;
  const blocked = new Promise<void>((r) => (release = r));
  const batcher = new DynamicBatcher('capped', policy({ defaultTimeoutUs: 10_000_000 }), async (inputs) => {
    await blocked;
    return { outputs: inputs, inferNs: 0 };
  });
  const first = blocker(batcher);
  const queued = batcher.submit({ inputs: [fp32([1, 1], 2)], timeoutUs: 30_000_000, maxTimeoutUs: 20_000 });
  await assert.rejects(queued, (err: TendError) => err.code === 'TEND_QUEUE_TIMEOUT');
  release();
  await first;
});
