import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TendError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { batchKey, concatBatch, requestBatchSize, splitBatch } from './batch-tensors.js';

const hasCode = (code: string) => (e: unknown) => e instanceof TendError && e.code === code;

const t = (name: string, datatype: Tensor['datatype'], shape: number[], data: Tensor['data']): Tensor => ({
  name,
  datatype,
  shape,
  data,
});

test('batchKey is equal exactly when names, order, datatypes and non-batch dims agree', () => {
  const ids = (rows: number) => t('b', 'INT64', [rows], new BigInt64Array(rows));
  const base = batchKey([t('a', 'FP32', [1, 3], new Float32Array(3)), ids(1)]);
  assert.equal(base, batchKey([t('a', 'FP32', [5, 3], new Float32Array(15)), ids(5)]));
  const different = [
    [t('b', 'INT64', [1], new BigInt64Array(1)), t('a', 'FP32', [1, 3], new Float32Array(3))],
    [t('a', 'FP64', [1, 3], new Float64Array(3)), t('b', 'INT64', [1], new BigInt64Array(1))],
    [t('a', 'FP32', [1, 4], new Float32Array(4)), t('b', 'INT64', [1], new BigInt64Array(1))],
    [t('a', 'FP32', [1, 3, 1], new Float32Array(3)), t('b', 'INT64', [1], new BigInt64Array(1))],
    [t('a', 'FP32', [1, 3], new Float32Array(3))],
    [t('a', 'FP32', [1, 3], new Float32Array(3)), t('c', 'INT64', [1], new BigInt64Array(1))],
  ];
  for (const inputs of different) assert.notEqual(batchKey(inputs), base);
  // Names that contain the separators cannot collide.
  const one = (name: string) => t(name, 'FP32', [1], new Float32Array(1));
  assert.notEqual(batchKey([one('a|FP32;1:b')]), batchKey([one('a'), one('b')]));
});

test('requestBatchSize reads dim 0 and rejects what cannot be batched', () => {
  assert.equal(requestBatchSize([t('a', 'FP32', [2, 3], new Float32Array(6))], 4), 2);
  const bad = (inputs: Tensor[]) =>
    assert.throws(() => requestBatchSize(inputs, 4), hasCode('TEND_INVALID_INPUT'));
  bad([]);
  bad([t('a', 'FP32', [], new Float32Array(1))]);
  bad([t('a', 'FP32', [0, 3], new Float32Array(0))]);
  bad([t('a', 'FP32', [5, 1], new Float32Array(5))]);
  bad([t('a', 'FP32', [2], new Float32Array(2)), t('b', 'FP32', [1], new Float32Array(1))]);
});

test('concatBatch joins numeric, BOOL, FP16 and BYTES inputs along dim 0 into fresh arrays', () => {
  const r1 = [
    t('f', 'FP32', [1, 2], new Float32Array([1, 2])),
    t('b', 'BOOL', [1], new Uint8Array([1])),
    t('h', 'FP16', [1], new Uint16Array([0x3c00])),
    t('s', 'BYTES', [1, 2], ['a', 'b']),
    t('i', 'INT64', [1], new BigInt64Array([-1n])),
  ];
  const r2 = [
    t('f', 'FP32', [2, 2], new Float32Array([3, 4, 5, 6]).subarray(0, 4)),
    t('b', 'BOOL', [2], new Uint8Array([0, 1])),
    t('h', 'FP16', [2], new Uint16Array([0, 0x4000])),
    t('s', 'BYTES', [2, 2], ['c', 'd', 'e', 'f']),
    t('i', 'INT64', [2], new BigInt64Array([2n ** 62n, 3n])),
  ];
  const joined = concatBatch([r1, r2], 3);
  assert.deepEqual(
    joined.map((x) => [x.name, x.datatype, x.shape]),
    [
      ['f', 'FP32', [3, 2]],
      ['b', 'BOOL', [3]],
      ['h', 'FP16', [3]],
      ['s', 'BYTES', [3, 2]],
      ['i', 'INT64', [3]],
    ],
  );
  assert.deepEqual(joined[0]?.data, new Float32Array([1, 2, 3, 4, 5, 6]));
  assert.deepEqual(joined[1]?.data, new Uint8Array([1, 0, 1]));
  assert.deepEqual(joined[2]?.data, new Uint16Array([0x3c00, 0, 0x4000]));
  assert.deepEqual(joined[3]?.data, ['a', 'b', 'c', 'd', 'e', 'f']);
  assert.deepEqual(joined[4]?.data, new BigInt64Array([-1n, 2n ** 62n, 3n]));
  assert.notEqual((joined[0]?.data as Float32Array).buffer, (r1[0]?.data as Float32Array).buffer);
  // The requests' own shapes are not touched.
  assert.deepEqual(r1[0]?.shape, [1, 2]);
});

test('concatBatch fails clearly when a request holds the wrong kind of data', () => {
  const ok = [t('x', 'FP32', [1], new Float32Array(1))];
  const wrong = [t('x', 'FP32', [1], ['1'])];
  assert.throws(() => concatBatch([ok, wrong], 2), hasCode('TEND_INTERNAL'));
});

test('splitBatch gives views per request, and outputs without the batch dim whole', () => {
  const y = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]);
  const outputs = [
    t('y', 'FP32', [4, 2], y),
    t('mean', 'FP32', [], new Float32Array([4.5])),
    t('per_class', 'FP32', [2], new Float32Array([1, 2])),
    t('s', 'BYTES', [4], ['a', 'b', 'c', 'd']),
  ];
  const [first, second] = splitBatch(outputs, [3, 1], 4);
  assert.ok(first !== undefined && second !== undefined);
  assert.deepEqual(first[0]?.shape, [3, 2]);
  assert.deepEqual(second[0], t('y', 'FP32', [1, 2], y.subarray(6, 8)));
  assert.equal((second[0]?.data as Float32Array).buffer, y.buffer);
  assert.equal((second[0]?.data as Float32Array).byteOffset, 6 * 4);
  assert.equal(first[1], outputs[1]);
  assert.equal(second[2], outputs[2]);
  assert.deepEqual(first[3]?.data, ['a', 'b', 'c']);
  assert.deepEqual(second[3], t('s', 'BYTES', [1], ['d']));
  assert.deepEqual(outputs[0]?.shape, [4, 2]);
});

test('splitBatch rejects an output whose data does not divide into the batch', () => {
  const outputs = [t('y', 'FP32', [2, 2], new Float32Array(3))];
  assert.throws(() => splitBatch(outputs, [1, 1], 2), hasCode('TEND_INTERNAL'));
});
