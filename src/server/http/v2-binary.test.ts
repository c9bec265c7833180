import { test } from 'node:test';
import assert from 'node:assert/strict';
import { binaryInputReader, binaryOutputChoice, splitBinaryBody } from './v2-binary.js';

test('the reader copies fixed-size elements into aligned arrays and checks BOOL values', () => {
  const body = Buffer.concat([
    Buffer.alloc(1),
    Buffer.from(new Int32Array([7, -8]).buffer),
    Buffer.from([1, 0, 2]),
  ]);
  const reader = binaryInputReader(body.subarray(1)); // unaligned on purpose
  assert.deepEqual(Array.from(reader.read('a', 'INT32', [2], 8) as Int32Array), [7, -8]);
  assert.throws(() => reader.read('b', 'BOOL', [3], 3), /BOOL element 2 is 2/);
  assert.throws(() => binaryInputReader(Buffer.alloc(4)).read('c', 'FP32', [1], -1), /non-negative integer/);
});

test('header length and output choice', () => {
  const { json, binary } = splitBinaryBody(Buffer.from('{}abc'), '2');
  assert.equal(json.toString(), '{}');
  assert.equal(binary.toString(), 'abc');
  assert.throws(() => splitBinaryBody(Buffer.from('{}'), '-1'), /non-negative integer/);
  assert.deepEqual(binaryOutputChoice({ parameters: { binary_data_output: true } }), {
    all: true,
    names: new Set(),
  });
  assert.deepEqual(
    binaryOutputChoice({ outputs: [{ name: 'y', parameters: { binary_data: true } }, { name: 'z' }] }),
    { all: false, names: new Set(['y']) },
  );
});
