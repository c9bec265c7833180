import { test } from 'node:test';
import assert from 'node:assert/strict';
import { speedVerdict } from './optimize-gate.js';
import type { ModelSpeed } from './optimize-measure.js';

function speed(rates: Record<number, number>): ModelSpeed {
  const byBatch = new Map(
    Object.entries(rates).map(([b, r]) => [Number(b), { p50_ms: 1, p99_ms: 1, items_per_s: r }]),
  );
  return { byBatch, batch1: byBatch.get(1) ?? null, best: null, roundRates: new Map() };
}

test('speed gate: slower than 0.95× at every batch size fails, with every ratio in the reason', () => {
  const v = speedVerdict(speed({ 1: 1000, 8: 4000 }), speed({ 1: 730, 8: 3000 }), 0.05);
  assert.equal(v.passes, false);
  assert.match(
    v.text,
    /slower than its parent at every batch size measured \(0\.73× at batch 1, 0\.75× at batch 8; limit 0\.95×/,
  );
  assert.deepEqual(
    v.by_batch.map((b) => b.ratio),
    [0.73, 0.75],
  );
});

test('speed gate: one batch size within the limit is enough; exactly at the limit passes', () => {
  assert.equal(speedVerdict(speed({ 1: 1000, 8: 4000 }), speed({ 1: 500, 8: 3800 }), 0.05).passes, true);
  const v = speedVerdict(speed({ 1: 1000 }), speed({ 1: 950 }), 0.05);
  assert.equal(v.passes, true);
  assert.match(v.text, /0\.95× the parent's at batch 1/);
  assert.equal(speedVerdict(speed({ 1: 1000 }), speed({ 1: 940 }), 0.05).passes, false);
  assert.equal(speedVerdict(speed({ 1: 1000 }), speed({ 1: 100 }), 1).passes, true);
});

test('speed gate: nothing measured passes (nothing to compare)', () => {
  assert.equal(speedVerdict(speed({}), speed({}), 0.05).passes, true);
});
