import { test } from 'node:test';
import assert from 'node:assert/strict';
import { binaryInputReader, binaryOutputChoice, decodeBytesElements, splitBinaryBody } from './v2-binary.js';

function bytesElements(items: string[]): Buffer {
  return Buffer.concat(
    items.flatMap((s) => {
      const text = Buffer.from(s);
      const len = Buffer.alloc(4);
      len.writeUInt32LE(text.length);
      return [len, text];
    }),
  );
}

test('BYTES elements decode from length-prefixed bytes', () => {
  assert.deepEqual(decodeBytesElements('x', bytesElements(['a', '', 'héllo']), 3), ['a', '', 'héllo']);
});

test('BYTES with a truncated length prefix, a short element or extra bytes are refused', () => {
  const good = bytesElements(['ab', 'c']);
  assert.throws(() => decodeBytesElements('x', good.subarray(0, 8), 2), /element 1 has a truncated length prefix/);
  assert.throws(() => decodeBytesElements('x', good.subarray(0, good.length - 1), 2), /declares 1 bytes but only 0 remain/);
  assert.throws(() => decodeBytesElements('x', Buffer.concat([good, Buffer.alloc(2)]), 2), /2 bytes follow/);
});

test('the reader copies fixed-size elements into aligned arrays and checks BOOL values', () => {
  const body = Buffer.concat([Buffer.alloc(1), Buffer.from(new Int32Array([7, -8]).buffer), Buffer.from([1, 0, 2])]);
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
  assert.deepEqual(binaryOutputChoice({ parameters: { binary_data_output: true } }), { all: true, names: new Set() });
  assert.deepEqual(binaryOutputChoice({ outputs: [{ name: 'y', parameters: { binary_data: true } }, { name: 'z' }] }), { all: false, names: new Set(['y']) });
});
