import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Tensor } from '../core/tensor.js';
import { DynamicBatcher } from './batcher.js';
import { FakeRun, blocker, fp32, testPolicy as policy, values } from './fake-run.test-helper.js';
import { hasCode } from '../core/test-support.test-helper.js';

test('requests waiting while the slot is busy run as one batch and get their own rows back', async () => {
  const fake = new FakeRun();
  const batcher = new DynamicBatcher('m', policy(), fake.run);
  fake.hold();
  const first = blocker(batcher);
  assert.deepEqual(fake.batchSizes, [1]);
  const a = batcher.submit({ inputs: [fp32([1, 2, 3, 4], 2)] });
  const b = batcher.submit({ inputs: [fp32([5, 6], 2)] });
  assert.equal(batcher.pendingCount, 2);
  assert.equal(batcher.inFlightCount, 1);
  fake.release();
  const [r0, ra, rb] = await Promise.all([first, a, b]);
  assert.deepEqual(fake.batchSizes, [1, 3]);
  assert.deepEqual(values(fake.calls[1]?.[0]), [1, 2, 3, 4, 5, 6]);
  assert.equal(r0.batchSize, 1);
  assert.equal(ra.batchSize, 3);
  assert.deepEqual(ra.outputs[0]?.shape, [2, 2]);
  assert.deepEqual(values(ra.outputs[0]), [2, 4, 6, 8]);
  assert.deepEqual(rb.outputs[0]?.shape, [1, 2]);
  assert.deepEqual(values(rb.outputs[0]), [10, 12]);
  assert.ok(ra.queueNs >= 0 && ra.computeNs >= 0);
  assert.equal(batcher.pendingCount, 0);
  assert.equal(batcher.inFlightCount, 0);
});

test('split outputs are views of the batch output; an output without the batch dim goes whole to each', async () => {
  const fake = new FakeRun();
  const batcher = new DynamicBatcher('m', policy(), fake.run);
  fake.hold();
  const first = blocker(batcher);
  const a = batcher.submit({ inputs: [fp32([1, 2], 2)] });
  const b = batcher.submit({ inputs: [fp32([3, 4], 2)] });
  fake.release();
  const [, ra, rb] = await Promise.all([first, a, b]);
  const batchOut = fake.outputs[1]?.[0]?.data as Float32Array;
  const aOut = ra.outputs[0]?.data as Float32Array;
  const bOut = rb.outputs[0]?.data as Float32Array;
  assert.equal(aOut.buffer, batchOut.buffer);
  assert.equal(bOut.buffer, batchOut.buffer);
  assert.equal(bOut.byteOffset, batchOut.byteOffset + 2 * Float32Array.BYTES_PER_ELEMENT);
  // The scalar `call` output is shared, not split.
  assert.equal(ra.outputs[1], fake.outputs[1]?.[1]);
  assert.equal(rb.outputs[1], fake.outputs[1]?.[1]);
});

test('a request that runs alone gets its tensors passed through and the run outputs untouched', async () => {
  const fake = new FakeRun();
  const batcher = new DynamicBatcher('m', policy(), fake.run);
  const input = fp32([1, 2], 2);
  const result = await batcher.submit({ inputs: [input] });
  assert.equal(fake.calls[0]?.[0], input);
  assert.equal(result.outputs, fake.outputs[0]);
});

test('requests with other shapes or datatypes are not mixed, and the head goes first', async () => {
  const fake = new FakeRun();
  const batcher = new DynamicBatcher('m', policy(), fake.run);
  fake.hold();
  const first = blocker(batcher);
  const int32: Tensor = { name: 'x', datatype: 'INT32', shape: [1, 2], data: new Int32Array([7, 8]) };
  const renamed = fp32([9, 9], 2, 'other');
  const pending = [
    batcher.submit({ inputs: [fp32([1, 1, 1], 3)] }),
    batcher.submit({ inputs: [fp32([2, 2], 2)] }),
    batcher.submit({ inputs: [int32] }),
    batcher.submit({ inputs: [fp32([3, 3, 3], 3)] }),
    batcher.submit({ inputs: [renamed] }),
    batcher.submit({ inputs: [fp32([4, 4], 2)] }),
  ];
  fake.release();
  const results = await Promise.all([first, ...pending]);
  assert.deepEqual(
    fake.calls.map((inputs) => [inputs[0]?.name, inputs[0]?.datatype, inputs[0]?.shape]),
    [
      ['x', 'FP32', [1, 2]],
      ['x', 'FP32', [2, 3]],
      ['x', 'FP32', [2, 2]],
      ['x', 'INT32', [1, 2]],
      ['other', 'FP32', [1, 2]],
    ],
  );
  assert.deepEqual(values(fake.calls[1]?.[0]), [1, 1, 1, 3, 3, 3]);
  assert.deepEqual(Array.from(results[3]?.outputs[0]?.data as Int32Array), [14, 16]);
});

test('a batch never exceeds maxBatchSize and stops at the first request that does not fit', async () => {
  const fake = new FakeRun();
  const batcher = new DynamicBatcher('m', policy({ maxBatchSize: 4 }), fake.run);
  fake.hold();
  const first = blocker(batcher);
  const pending = [
    batcher.submit({ inputs: [fp32([1, 1, 1], 1)] }),
    batcher.submit({ inputs: [fp32([2, 2], 1)] }),
    batcher.submit({ inputs: [fp32([3], 1)] }),
    batcher.submit({ inputs: [fp32([4, 4, 4, 4], 1)] }),
  ];
  fake.release();
  const results = await Promise.all([first, ...pending]);
  assert.deepEqual(fake.batchSizes, [1, 3, 3, 4]);
  assert.deepEqual(values(results[2]?.outputs[0]), [4, 4]);
  assert.deepEqual(values(results[3]?.outputs[0]), [6]);
});

test('requests larger than maxBatchSize or with disagreeing batch dims are rejected at submit', async () => {
  const fake = new FakeRun();
  const batcher = new DynamicBatcher('m', policy({ maxBatchSize: 2 }), fake.run);
  await assert.rejects(batcher.submit({ inputs: [fp32([1, 2, 3], 1)] }), hasCode('TEND_INVALID_INPUT'));
  await assert.rejects(
    batcher.submit({ inputs: [fp32([1, 2], 1), fp32([1], 1, 'y')] }),
    hasCode('TEND_INVALID_INPUT'),
  );
  await assert.rejects(batcher.submit({ inputs: [] }), hasCode('TEND_INVALID_INPUT'));
  assert.equal(fake.calls.length, 0);
});

test('with a delay, a batch waits until a preferred size is reachable, then goes at once', async () => {
  const fake = new FakeRun();
  const batcher = new DynamicBatcher(
    'm',
    policy({ maxQueueDelayUs: 60_000_000, preferredBatchSizes: [3] }),
    fake.run,
  );
  const a = batcher.submit({ inputs: [fp32([1], 1)] });
  const b = batcher.submit({ inputs: [fp32([2], 1)] });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(fake.calls.length, 0);
  assert.equal(batcher.pendingCount, 2);
  const c = batcher.submit({ inputs: [fp32([3], 1)] });
  assert.deepEqual(fake.batchSizes, [3]);
  const results = await Promise.all([a, b, c]);
  assert.deepEqual(
    results.map((r) => r.batchSize),
    [3, 3, 3],
  );
});

test('with a delay, reaching maxBatchSize dispatches without waiting', async () => {
  const fake = new FakeRun();
  const batcher = new DynamicBatcher('m', policy({ maxBatchSize: 2, maxQueueDelayUs: 60_000_000 }), fake.run);
  const a = batcher.submit({ inputs: [fp32([1], 1)] });
  assert.equal(fake.calls.length, 0);
  const b = batcher.submit({ inputs: [fp32([2], 1)] });
  assert.deepEqual(fake.batchSizes, [2]);
  await Promise.all([a, b]);
});

test('with a short delay, a lone request runs once the delay is over, with whatever joined it', async () => {
  const fake = new FakeRun();
  const batcher = new DynamicBatcher(
    'm',
    policy({ maxQueueDelayUs: 2_000, preferredBatchSizes: [4] }),
    fake.run,
  );
  const a = batcher.submit({ inputs: [fp32([1], 1)] });
  const b = batcher.submit({ inputs: [fp32([2], 1)] });
  assert.equal(fake.calls.length, 0);
  const results = await Promise.all([a, b]);
  assert.deepEqual(fake.batchSizes, [2]);
  assert.equal(results[0]?.batchSize, 2);
});

test('drain dispatches requests still waiting for the delay', async () => {
  const fake = new FakeRun();
  const batcher = new DynamicBatcher('m', policy({ maxQueueDelayUs: 60_000_000 }), fake.run);
  const a = batcher.submit({ inputs: [fp32([1], 1)] });
  const b = batcher.submit({ inputs: [fp32([2], 1)] });
  await batcher.drain();
  assert.deepEqual(fake.batchSizes, [2]);
  await Promise.all([a, b]);
});

test('concurrency 2 keeps two batches in flight and queues the rest', async () => {
  const fake = new FakeRun();
  const batcher = new DynamicBatcher('m', policy({ dynamicBatching: false }), fake.run, { concurrency: 2 });
  fake.hold();
  const pending = [blocker(batcher), blocker(batcher), blocker(batcher), blocker(batcher)];
  assert.equal(batcher.inFlightBatchCount, 2);
  assert.equal(batcher.pendingCount, 2);
  assert.equal(fake.inFlight, 2);
  fake.release();
  await Promise.all(pending);
  assert.equal(fake.maxInFlight, 2);
  assert.deepEqual(fake.batchSizes, [1, 1, 1, 1]);
});

test('maxBatchSize 0 runs each request alone with its shapes untouched', async () => {
  const fake = new FakeRun();
  const batcher = new DynamicBatcher('m', policy({ maxBatchSize: 0 }), fake.run);
  fake.hold();
  const inputs = [fp32([1, 2, 3, 4, 5, 6], 3), fp32([1, 2, 3, 4, 5, 6], 3)];
  const pending = inputs.map((input) => batcher.submit({ inputs: [input] }));
  fake.release();
  const results = await Promise.all(pending);
  assert.equal(fake.calls.length, 2);
  assert.equal(fake.calls[0]?.[0], inputs[0]);
  assert.equal(fake.calls[1]?.[0], inputs[1]);
  assert.deepEqual(results[1]?.outputs[0]?.shape, [2, 3]);
  assert.equal(results[1]?.batchSize, 1);
});

test('INT64 and BYTES inputs are concatenated and split per request', async () => {
  const fake = new FakeRun();
  const batcher = new DynamicBatcher('m', policy(), fake.run);
  const request = (ids: bigint[], words: string[]) =>
    batcher.submit({
      inputs: [
        { name: 'ids', datatype: 'INT64', shape: [ids.length, 1], data: BigInt64Array.from(ids) },
        { name: 'words', datatype: 'BYTES', shape: [words.length], data: words },
      ],
    });
  fake.hold();
  const first = request([0n], ['zero']);
  const a = request([1n, 2n], ['one', 'two']);
  const b = request([9007199254740993n], ['big']);
  fake.release();
  const [, ra, rb] = await Promise.all([first, a, b]);
  const batch = fake.calls[1] ?? [];
  assert.ok(batch[0]?.data instanceof BigInt64Array);
  assert.deepEqual(Array.from(batch[0].data), [1n, 2n, 9007199254740993n]);
  assert.deepEqual(batch[1]?.data, ['one', 'two', 'big']);
  assert.deepEqual(Array.from(ra.outputs[0]?.data as BigInt64Array), [2n, 3n]);
  assert.deepEqual(ra.outputs[1]?.data, ['ONE', 'TWO']);
  assert.deepEqual(Array.from(rb.outputs[0]?.data as BigInt64Array), [9007199254740994n]);
  assert.deepEqual(rb.outputs[1], { name: 'words_out', datatype: 'BYTES', shape: [1], data: ['BIG'] });
});

test('the constructor rejects an unusable policy or concurrency', () => {
  const run = new FakeRun().run;
  assert.throws(
    () => new DynamicBatcher('m', policy({ priorityLevels: 0 }), run),
    hasCode('TEND_INVALID_CONFIG'),
  );
  assert.throws(
    () => new DynamicBatcher('m', policy(), run, { concurrency: 0 }),
    hasCode('TEND_INVALID_ARGUMENT'),
  );
});

test('without a delay, preferred sizes still cut the batch: 16 waiting go as batches of 4', async () => {
  const fake = new FakeRun();
  const batcher = new DynamicBatcher('m', policy({ maxBatchSize: 16, preferredBatchSizes: [4] }), fake.run);
  fake.hold();
  const first = blocker(batcher);
  const rest = Array.from({ length: 16 }, (_, i) => batcher.submit({ inputs: [fp32([i, i], 2)] }));
  fake.release();
  const results = await Promise.all([first, ...rest]);
  assert.deepEqual(fake.batchSizes, [1, 4, 4, 4, 4]);
  assert.deepEqual(values(results[16]?.outputs[0]), [30, 30]);
  // Fewer than the smallest preferred size go together at once (no delay to wait for more).
  fake.hold();
  const again = blocker(batcher);
  const three = [0, 1, 2].map((i) => batcher.submit({ inputs: [fp32([i, i], 2)] }));
  fake.release();
  await Promise.all([again, ...three]);
  assert.deepEqual(fake.batchSizes.slice(5), [1, 3]);
});

test('pipeline depth 2 sends a full batch ahead to a busy instance, never a partial one', async () => {
  const fake = new FakeRun();
  const batcher = new DynamicBatcher('m', policy({ maxBatchSize: 4 }), fake.run, { pipelineDepth: 2 });
  fake.hold();
  const first = blocker(batcher);
  const partial = [1, 2, 3].map((i) => batcher.submit({ inputs: [fp32([i, i], 2)] }));
  // Three of four: they wait for the instance (and may still grow), as at depth 1.
  assert.equal(fake.calls.length, 1);
  assert.equal(batcher.pendingCount, 3);
  const fourth = batcher.submit({ inputs: [fp32([4, 4], 2)] });
  // Now full: sent ahead while the first still runs.
  assert.equal(fake.calls.length, 2);
  assert.equal(fake.inFlight, 2);
  assert.equal(batcher.inFlightBatchCount, 2);
  const more = [5, 6, 7, 8, 9].map((i) => batcher.submit({ inputs: [fp32([i, i], 2)] }));
  // At most depth × concurrency batches in flight, however many full batches wait.
  assert.equal(fake.calls.length, 2);
  assert.equal(batcher.pendingCount, 5);
  fake.release();
  const results = await Promise.all([first, ...partial, fourth, ...more]);
  assert.deepEqual(fake.batchSizes, [1, 4, 4, 1]);
  assert.deepEqual(
    results.map((r) => values(r.outputs[0])[0]),
    [0, 2, 4, 6, 8, 10, 12, 14, 16, 18],
  );
  assert.equal(fake.maxInFlight, 2);
});

test('pipeline depth must be an integer >= 1', () => {
  const fake = new FakeRun();
  for (const pipelineDepth of [0, 1.5, Number.NaN]) {
    assert.throws(
      () => new DynamicBatcher('m', policy(), fake.run, { pipelineDepth }),
      hasCode('TEND_INVALID_ARGUMENT', /pipeline depth must be an integer >= 1/),
    );
  }
});

test('pipeline depth 2 keeps requests alone when batching is off', async () => {
  const fake = new FakeRun();
  const batcher = new DynamicBatcher('m', policy({ dynamicBatching: false }), fake.run, { pipelineDepth: 2 });
  fake.hold();
  const all = [1, 2, 3].map((i) => batcher.submit({ inputs: [fp32([i, i], 2)] }));
  assert.equal(fake.calls.length, 1);
  fake.release();
  await Promise.all(all);
  assert.deepEqual(fake.batchSizes, [1, 1, 1]);
  assert.equal(fake.maxInFlight, 1);
});
