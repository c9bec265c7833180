import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shuffledSplit, stratifiedSplit } from './split.js';
import { hasCode } from '../core/test-support.test-helper.js';

// 3 classes of 50, 30 and 20 rows, interleaved.
const labels = Int32Array.from({ length: 100 }, (_, i) => (i % 10 < 5 ? 0 : i % 10 < 8 ? 1 : 2));

function counts(indices: Int32Array): number[] {
  const c = [0, 0, 0];
  for (const i of indices) c[labels[i] as number]! += 1;
  return c;
}

test('stratified split keeps each class share on both sides and covers every row once', () => {
  const { train, test: testRows } = stratifiedSplit(labels, { testFraction: 0.2, seed: 1 });
  assert.deepEqual(counts(testRows), [10, 6, 4]);
  assert.deepEqual(counts(train), [40, 24, 16]);
  const all = [...train, ...testRows].sort((a, b) => a - b);
  assert.deepEqual(
    all,
    Array.from({ length: 100 }, (_, i) => i),
  );
  assert.deepEqual(
    [...train],
    [...train].sort((a, b) => a - b),
  );
});

test('stratified split is deterministic for a seed and changes with it', () => {
  const a = stratifiedSplit(labels, { testFraction: 0.3, seed: 9 });
  const b = stratifiedSplit(labels, { testFraction: 0.3, seed: 9 });
  const c = stratifiedSplit(labels, { testFraction: 0.3, seed: 10 });
  assert.deepEqual(a, b);
  assert.notDeepEqual([...a.test], [...c.test]);
});

test('every class of two or more rows lands on both sides', () => {
  const few = Int32Array.from([0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
  const { train, test: testRows } = stratifiedSplit(few, { testFraction: 0.1, seed: 0 });
  assert.ok([...testRows].some((i) => few[i] === 1));
  assert.ok([...train].some((i) => few[i] === 1));
});

test('shuffled split is deterministic and disjoint', () => {
  const a = shuffledSplit(10, { testFraction: 0.3, seed: 4 });
  assert.deepEqual(a, shuffledSplit(10, { testFraction: 0.3, seed: 4 }));
  assert.equal(a.test.length, 3);
  assert.deepEqual(
    [...a.train, ...a.test].sort((x, y) => x - y),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
});

test('rejects fractions outside (0, 1) and splits that leave a side empty', () => {
  const isArgError = hasCode('TEND_INVALID_ARGUMENT');
  for (const testFraction of [0, 1, -0.1, Number.NaN]) {
    assert.throws(() => stratifiedSplit(labels, { testFraction, seed: 0 }), isArgError);
    assert.throws(() => shuffledSplit(10, { testFraction, seed: 0 }), isArgError);
  }
  assert.throws(() => stratifiedSplit(Int32Array.from([0]), { testFraction: 0.5, seed: 0 }), isArgError);
  assert.throws(() => shuffledSplit(1, { testFraction: 0.5, seed: 0 }), isArgError);
});
