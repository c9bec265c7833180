import { test } from 'node:test';
import assert from 'node:assert/strict';
import { median, nearestRank } from './percentile.js';

test('nearest rank and median', () => {
  const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(nearestRank(sorted, 0.5), 50);
  assert.equal(nearestRank(sorted, 0.99), 99);
  assert.equal(nearestRank(sorted, 1), 100);
  assert.equal(nearestRank([7], 0.99), 7);
  assert.equal(nearestRank([], 0.5), undefined);
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
  assert.throws(() => median([]));
});
