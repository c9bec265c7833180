import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VersionStatistics, emptyStatistics } from './statistics.js';
import type { ExecutionTimings, ModelStatistics } from './statistics.js';

const zero = { count: 0, ns: 0 };

function phases(input: number, infer: number, output: number): ExecutionTimings {
  return { computeInputNs: input, computeInferNs: infer, computeOutputNs: output };
}

/** Every number anywhere in the snapshot, with its path. */
function numbersOf(value: unknown, path = '', out: [string, number][] = []): [string, number][] {
  if (typeof value === 'number') out.push([path, value]);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) numbersOf(v, `${path}.${k}`, out);
  }
  return out;
}

test("a version without traffic reports Triton's shape with zeros, keys in Triton's order", () => {
  const empty = emptyStatistics('digits', '3');
  assert.equal(
    JSON.stringify(empty),
    JSON.stringify({
      name: 'digits',
      version: '3',
      last_inference: 0,
      inference_count: 0,
      execution_count: 0,
      inference_stats: {
        success: zero,
        fail: zero,
        queue: zero,
        compute_input: zero,
        compute_infer: zero,
        compute_output: zero,
      },
      batch_stats: [],
    }),
  );
  assert.deepEqual(new VersionStatistics().snapshot('digits', '3'), empty);
});

test('batched, single and failed requests: rows, executions, per-request and per-batch-size totals', () => {
  let now = 1_700_000_000_000;
  const stats = new VersionStatistics(() => now);
  // Three requests (2 + 1 + 1 rows) run as one batch of 4.
  const batch4 = phases(100, 1000, 10);
  stats.batchExecuted(4, batch4);
  stats.requestSucceeded(2, 5000, { queueNs: 300, ...batch4 });
  stats.requestSucceeded(1, 5100, { queueNs: 400, ...batch4 });
  stats.requestSucceeded(1, 5200, { queueNs: 500, ...batch4 });
  // One request of 1 row run alone.
  now += 5;
  const batch1 = phases(50, 700, 0);
  stats.batchExecuted(1, batch1);
  stats.requestSucceeded(1, 900, { queueNs: 20, ...batch1 });
  // A failed request counts in fail and last_inference only.
  now += 7;
  stats.requestFailed(250);
  // A second execution of size 4 adds to the same batch_stats entry.
  stats.batchExecuted(4, phases(120, 1100, 12));

  const s = stats.snapshot('digits', '1');
  assert.equal(s.last_inference, 1_700_000_000_012);
  assert.equal(s.inference_count, 5);
  assert.equal(s.execution_count, 3);
  assert.deepEqual(s.inference_stats, {
    success: { count: 4, ns: 5000 + 5100 + 5200 + 900 },
    fail: { count: 1, ns: 250 },
    queue: { count: 4, ns: 300 + 400 + 500 + 20 },
    // Each request carries the phases of its batch: three times the batch of 4, once the batch of 1.
    compute_input: { count: 4, ns: 3 * 100 + 50 },
    compute_infer: { count: 4, ns: 3 * 1000 + 700 },
    compute_output: { count: 4, ns: 3 * 10 + 0 },
  });
  // Sorted by batch_size although size 4 was seen first.
  assert.deepEqual(s.batch_stats, [
    {
      batch_size: 1,
      compute_input: { count: 1, ns: 50 },
      compute_infer: { count: 1, ns: 700 },
      compute_output: { count: 1, ns: 0 },
    },
    {
      batch_size: 4,
      compute_input: { count: 2, ns: 220 },
      compute_infer: { count: 2, ns: 2100 },
      compute_output: { count: 2, ns: 22 },
    },
  ]);
  assert.deepEqual(Object.keys(s.batch_stats[0] ?? {}), [
    'batch_size',
    'compute_input',
    'compute_infer',
    'compute_output',
  ]);
});

test('a model without batching counts one row and one execution per request', () => {
  const stats = new VersionStatistics(() => 42);
  for (let i = 0; i < 3; i++) {
    const p = phases(10, 20, 0);
    stats.batchExecuted(1, p);
    stats.requestSucceeded(1, 40, { queueNs: 5, ...p });
  }
  const s = stats.snapshot('plain', '2');
  assert.equal(s.inference_count, 3);
  assert.equal(s.execution_count, 3);
  assert.deepEqual(s.inference_stats.success, { count: 3, ns: 120 });
  assert.deepEqual(
    s.batch_stats.map((b) => [b.batch_size, b.compute_infer.count]),
    [[1, 3]],
  );
});

test('fractional ns are summed exactly and rounded only in the snapshot', () => {
  const stats = new VersionStatistics(() => 1000.6);
  const p = phases(0.4, 0.4, 0.4);
  stats.batchExecuted(2, p);
  stats.requestSucceeded(1, 0.4, { queueNs: 0.4, ...p });
  stats.requestSucceeded(1, 0.4, { queueNs: 0.4, ...p });
  const s = stats.snapshot('m', '1');
  assert.equal(s.last_inference, 1001);
  assert.deepEqual(s.inference_stats.success, { count: 2, ns: 1 });
  assert.deepEqual(s.inference_stats.compute_infer, { count: 2, ns: 1 });
  assert.deepEqual(s.batch_stats[0]?.compute_input, { count: 1, ns: 0 });
  for (const [path, n] of numbersOf(s)) assert.ok(Number.isInteger(n), `${path} = ${n}`);
});

test('negative or NaN timings from a bad clock count as 0: no value goes below zero', () => {
  const stats = new VersionStatistics();
  const bad = phases(-5, Number.NaN, -1);
  stats.batchExecuted(3, bad);
  stats.requestSucceeded(3, -10, { queueNs: Number.NaN, ...bad });
  stats.requestFailed(-3);
  stats.requestSucceeded(0, 10, { queueNs: 1, ...phases(1, 1, 1) });
  const s = stats.snapshot('m', '1');
  assert.equal(s.inference_count, 3);
  assert.equal(s.inference_stats.success.count, 2);
  assert.equal(s.inference_stats.success.ns, 10);
  assert.equal(s.inference_stats.fail.count, 1);
  assert.ok(s.last_inference > 0);
  for (const [path, n] of numbersOf(s)) assert.ok(Number.isFinite(n) && n >= 0, `${path} = ${n}`);
});

test('snapshots are independent copies: later recording does not change an earlier one', () => {
  const stats = new VersionStatistics(() => 1);
  stats.batchExecuted(1, phases(1, 2, 3));
  const before: ModelStatistics = stats.snapshot('m', '1');
  stats.batchExecuted(1, phases(1, 2, 3));
  stats.requestFailed(9);
  assert.equal(before.execution_count, 1);
  assert.deepEqual(before.batch_stats[0]?.compute_infer, { count: 1, ns: 2 });
  assert.deepEqual(before.inference_stats.fail, zero);
  assert.equal(stats.snapshot('m', '1').execution_count, 2);
});
