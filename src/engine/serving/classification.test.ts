import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTendError } from '../../core/errors.js';
import { checkClassificationK, classify } from './classification.js';

test('top-k per batch row, highest first, with labels', () => {
  const t = {
    name: 'p',
    datatype: 'FP32' as const,
    shape: [2, 3],
    data: new Float32Array([0.1, 0.7, 0.2, 0.5, 0.25, 0.25]),
  };
  const out = classify(t, 2, true, ['cat', 'dog', 'fox']);
  assert.deepEqual(out.shape, [2, 2]);
  assert.equal(out.datatype, 'BYTES');
  assert.deepEqual(out.data, [
    `${Math.fround(0.7)}:1:dog`,
    `${Math.fround(0.2)}:2:fox`,
    '0.5:0:cat',
    '0.25:1:dog',
  ]);
});

test('without labels, unbatched, k above the class count, integer scores', () => {
  const t = { name: 'y', datatype: 'INT64' as const, shape: [3], data: new BigInt64Array([3n, 9n, -1n]) };
  assert.deepEqual(classify(t, 10, false, undefined), {
    name: 'y',
    datatype: 'BYTES',
    shape: [3],
    data: ['9:1', '3:0', '-1:2'],
  });
});

test('k must be a positive integer; BYTES outputs cannot be classified', () => {
  for (const bad of [0, -1, 1.5, '2', null]) {
    assert.throws(
      () => checkClassificationK('p', bad),
      (e: unknown) => isTendError(e) && e.code === 'TEND_INVALID_INPUT',
    );
  }
  assert.equal(checkClassificationK('p', 3), 3);
  assert.throws(
    () => classify({ name: 's', datatype: 'BYTES', shape: [1], data: ['a'] }, 1, false, undefined),
    /numeric scores/,
  );
});
