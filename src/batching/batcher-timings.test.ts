import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DynamicBatcher } from './batcher.js';
import type { BatchObserver, BatchResult } from './batcher.js';
import { computeTimings } from './compute-timings.js';
import type { ComputeTimings } from './compute-timings.js';
import { FAIL_MARKER, FakeRun, blocker, fp32, testPolicy as policy } from './fake-run.test-helper.js';
import { hasCode } from '../core/test-support.test-helper.js';

type Seen = [
  batchSize: number,
  requestCount: number,
  computeNs: number,
  ok: boolean,
  timings: ComputeTimings | undefined,
];

function recorder(): { seen: Seen[]; observer: BatchObserver } {
  const seen: Seen[] = [];
  return {
    seen,
    observer: { batchExecuted: (size, count, ns, ok, timings) => seen.push([size, count, ns, ok, timings]) },
  };
}

/** The invariants every result holds: no negative phase, and input + infer is the round trip. */
function assertPhases(r: BatchResult | ComputeTimings, computeNs: number): void {
  assert.ok(r.computeInputNs >= 0 && r.computeInferNs >= 0 && r.computeOutputNs >= 0, JSON.stringify(r));
  assert.ok(Math.abs(r.computeInputNs + r.computeInferNs - computeNs) < 1e-6);
}

test('computeTimings: infer is what run reported, capped at the round trip; input is the rest', () => {
  assert.deepEqual(computeTimings(1000, 600, 30), {
    computeInputNs: 400,
    computeInferNs: 600,
    computeOutputNs: 30,
  });
  assert.deepEqual(computeTimings(1000, 0, 0), {
    computeInputNs: 1000,
    computeInferNs: 0,
    computeOutputNs: 0,
  });
  // Measured on another clock, the run may seem longer than the round trip: all of it is inference then.
  assert.deepEqual(computeTimings(1000, 1200, 0), {
    computeInputNs: 0,
    computeInferNs: 1000,
    computeOutputNs: 0,
  });
  for (const unknown of [undefined, -5, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.deepEqual(computeTimings(1000, unknown, 0), {
      computeInputNs: 0,
      computeInferNs: 1000,
      computeOutputNs: 0,
    });
  }
  assert.deepEqual(computeTimings(-1, 5, -2), { computeInputNs: 0, computeInferNs: 0, computeOutputNs: 0 });
});

test("every request of a batch gets the batch's phases, its own row count, and the observer gets them too", async () => {
  const fake = new FakeRun();
  fake.inferNs = 1;
  const { seen, observer } = recorder();
  const batcher = new DynamicBatcher('m', policy(), fake.run, { observer });
  fake.hold();
  const first = blocker(batcher);
  const a = batcher.submit({ inputs: [fp32([1, 2, 3, 4], 2)] });
  const b = batcher.submit({ inputs: [fp32([5, 6], 2)] });
  fake.release();
  const [r0, ra, rb] = await Promise.all([first, a, b]);

  assert.equal(r0.requestBatchSize, 1);
  assert.equal(r0.computeOutputNs, 0); // ran alone: nothing to split
  assert.equal(ra.requestBatchSize, 2);
  assert.equal(rb.requestBatchSize, 1);
  assert.equal(ra.batchSize, 3);
  for (const r of [r0, ra, rb]) {
    assertPhases(r, r.computeNs);
    assert.equal(r.computeInferNs, Math.min(1, r.computeNs));
  }
  const phasesOf = (r: ComputeTimings): number[] => [r.computeInputNs, r.computeInferNs, r.computeOutputNs];
  assert.deepEqual(phasesOf(ra), phasesOf(rb));
  assert.equal(ra.computeNs, rb.computeNs);

  assert.deepEqual(
    seen.map(([size, count, , ok]) => [size, count, ok]),
    [
      [1, 1, true],
      [3, 2, true],
    ],
  );
  const [, batchCall] = seen;
  assert.ok(batchCall?.[4] !== undefined);
  assert.equal(batchCall[2], ra.computeNs);
  assert.deepEqual(phasesOf(batchCall[4]), phasesOf(ra));
});

test('without inferNs from run the whole round trip counts as inference', async () => {
  const batcher = new DynamicBatcher('m', policy(), new FakeRun().run);
  const r = await batcher.submit({ inputs: [fp32([1, 2], 2)] });
  assert.equal(r.computeInferNs, r.computeNs);
  assert.equal(r.computeInputNs, 0);
  assert.equal(r.computeOutputNs, 0);
});

test('an inferNs beyond the round trip is capped, so compute_input never goes negative', async () => {
  const fake = new FakeRun();
  fake.inferNs = 1e15;
  const batcher = new DynamicBatcher('m', policy(), fake.run);
  fake.hold();
  const first = blocker(batcher);
  const a = batcher.submit({ inputs: [fp32([1, 2], 2)] });
  const b = batcher.submit({ inputs: [fp32([3, 4], 2)] });
  fake.release();
  for (const r of await Promise.all([first, a, b])) {
    assert.equal(r.computeInferNs, r.computeNs);
    assert.equal(r.computeInputNs, 0);
    assertPhases(r, r.computeNs);
  }
});

test('a failed batch gives no timings; each re-run alone reports its own', async () => {
  const fake = new FakeRun();
  fake.inferNs = 0;
  const { seen, observer } = recorder();
  const batcher = new DynamicBatcher('m', policy(), fake.run, { observer });
  fake.hold();
  const first = blocker(batcher);
  const good = batcher.submit({ inputs: [fp32([1, 1], 2)] });
  const bad = batcher.submit({ inputs: [fp32([FAIL_MARKER, 0], 2)] });
  fake.release();
  await assert.rejects(bad, hasCode('TEND_INFERENCE_FAILED'));
  const [r] = await Promise.all([good, first]);
  assert.equal(r.batchSize, 1);
  assert.equal(r.computeOutputNs, 0);
  assert.equal(r.computeInferNs, 0);
  assert.equal(r.computeInputNs, r.computeNs);
  assert.deepEqual(
    seen.map(([size, count, , ok, timings]) => [size, count, ok, timings !== undefined]),
    [
      [1, 1, true, true],
      [2, 2, false, false],
      [1, 1, true, true],
      [1, 1, false, false],
    ],
  );
  for (const [, , computeNs, ok, timings] of seen) if (ok && timings) assertPhases(timings, computeNs);
});

test('an observer written for four arguments keeps working', async () => {
  const sizes: number[] = [];
  const batcher = new DynamicBatcher('m', policy(), new FakeRun().run, {
    observer: {
      batchExecuted: (size: number, _count: number, _ns: number, ok: boolean) =>
        void (ok && sizes.push(size)),
    },
  });
  await batcher.submit({ inputs: [fp32([1, 2, 3, 4], 2)] });
  assert.deepEqual(sizes, [2]);
});
