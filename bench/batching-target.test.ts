import { test } from 'node:test';
import assert from 'node:assert/strict';
import { servedPreferredBatch } from './batching-target.js';
import type { ComputeCeiling } from './compute.js';

function sweep(rates: [number, number][]): ComputeCeiling {
  const perBatch = rates.map(([batch, itemsPerSecond]) => ({ batch, itemsPerSecond }));
  const best = perBatch.reduce((a, b) => (b.itemsPerSecond > a.itemsPerSecond ? b : a));
  return { model: 'm', intraOpThreads: 2, allowSpinning: false, perBatch, best };
}

test('the served preferred batch is the best batch that lets two batches be in flight', () => {
  const encoder = sweep([
    [1, 52],
    [2, 59],
    [4, 62],
    [8, 52],
    [16, 46],
    [32, 70],
  ]);
  assert.equal(servedPreferredBatch(encoder, 16), 4);
  const tiny = sweep([
    [4, 979],
    [8, 1101],
    [16, 975],
    [32, 1133],
  ]);
  assert.equal(servedPreferredBatch(tiny, 16), 8);
  assert.equal(servedPreferredBatch(tiny, 2), 1);
});
