import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pairedRatio } from './statistics.js';

test('pairedRatio: geometric mean of the pair ratios, an interval around it, the same for the same runs', () => {
  const r = pairedRatio([0.8, 1.25, 1, 1]);
  assert.ok(Math.abs(r.ratio - 1) < 1e-12, 'ratios average as logarithms: 0.8 and 1.25 cancel');
  assert.ok(r.low <= r.ratio && r.ratio <= r.high);
  assert.ok(r.low >= 0.8 && r.high <= 1.25, 'the interval stays within the ratios seen');
  assert.deepEqual(pairedRatio([0.8, 1.25, 1, 1]), r);
  assert.equal(r.pairs, 4);
});

test('pairedRatio: a constant ratio has a zero-width interval; more pairs narrow it', () => {
  const c = pairedRatio([0.9, 0.9, 0.9]);
  assert.ok(
    Math.abs(c.ratio - 0.9) < 1e-12 && Math.abs(c.low - 0.9) < 1e-12 && Math.abs(c.high - 0.9) < 1e-12,
  );
  const few = pairedRatio([0.9, 1.1, 0.95, 1.05]);
  const many = pairedRatio(Array.from({ length: 64 }, (_, i) => [0.9, 1.1, 0.95, 1.05][i % 4] as number));
  assert.ok(many.high - many.low < few.high - few.low);
});

test('pairedRatio: non-positive and non-finite ratios are left out; none at all gives NaN', () => {
  assert.equal(pairedRatio([1, 0, Number.NaN, Infinity]).pairs, 1);
  assert.ok(Number.isNaN(pairedRatio([]).ratio));
});
