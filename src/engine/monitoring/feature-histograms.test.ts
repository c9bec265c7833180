import { test } from 'node:test';
import assert from 'node:assert/strict';
import { featureHistograms } from './feature-histograms.js';

test('numeric columns get 10 equal bins over both samples; shares sum to 1', () => {
  const reference = { x: Array.from({ length: 100 }, (_, i) => i / 10) };
  const current = { x: Array.from({ length: 50 }, (_, i) => 5 + i / 10) };
  const h = featureHistograms(reference, current)['x'];
  assert.equal(h?.kind, 'numeric');
  assert.equal(h?.edges?.length, 11);
  assert.equal(h?.edges?.[0], 0);
  assert.ok(Math.abs((h?.reference.reduce((a, b) => a + b, 0) ?? 0) - 1) < 1e-3);
  assert.equal(h?.current[0], 0, 'the current sample starts at 5');
  assert.ok((h?.current[9] ?? 0) > 0);
});

test('categorical and few-valued columns count by category; missing values are left out', () => {
  const h = featureHistograms({ c: ['a', 'b', 'a', null, 'c'] }, { c: ['a', 'z', 'z', null] })['c'];
  assert.equal(h?.kind, 'categorical');
  assert.deepEqual(h?.categories, ['a', 'b', 'c', 'other']);
  assert.deepEqual(h?.reference, [0.5, 0.25, 0.25, 0]);
  assert.deepEqual(h?.current, [0.3333, 0, 0, 0.6667]);
  const flat = featureHistograms({ k: [1, 1, 1] }, { k: [1] })['k'];
  assert.equal(flat?.kind, 'categorical', 'a constant column');
});
