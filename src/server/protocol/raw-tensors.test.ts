import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBytesElements, rawTensorBytes, tensorDataFromRaw } from './raw-tensors.js';

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
  assert.throws(
    () => decodeBytesElements('x', good.subarray(0, 8), 2),
    /element 1 has a truncated length prefix/,
  );
  assert.throws(
    () => decodeBytesElements('x', good.subarray(0, good.length - 1), 2),
    /declares 1 bytes but only 0 remain/,
  );
  assert.throws(() => decodeBytesElements('x', Buffer.concat([good, Buffer.alloc(2)]), 2), /2 bytes follow/);
});

test('raw bytes round-trip for fixed-size types and BYTES', () => {
  const f = tensorDataFromRaw('f', 'FP32', [2], Buffer.from(new Float32Array([1.5, -2]).buffer), 'raw');
  assert.deepEqual(Array.from(f as Float32Array), [1.5, -2]);
  assert.deepEqual(
    rawTensorBytes({ name: 'f', datatype: 'FP32', shape: [2], data: f }),
    Buffer.from(new Float32Array([1.5, -2]).buffer),
  );
  const s = rawTensorBytes({ name: 's', datatype: 'BYTES', shape: [2], data: ['ab', 'é'] });
  assert.deepEqual(tensorDataFromRaw('s', 'BYTES', [2], s, 'raw'), ['ab', 'é']);
});

test('raw bytes of the wrong size are refused with the sizes in the message', () => {
  assert.throws(
    () => tensorDataFromRaw('x', 'INT64', [3], Buffer.alloc(16), 'raw_input_contents'),
    /raw_input_contents is 16 bytes but shape \[3\] of INT64 needs 24/,
  );
  assert.throws(() => tensorDataFromRaw('b', 'BOOL', [2], Buffer.from([1, 3]), 'raw'), /BOOL element 1 is 3/);
});
