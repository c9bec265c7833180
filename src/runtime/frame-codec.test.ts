import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Tensor } from '../core/tensor.js';
import { decodeFrame, encodeFrame, FrameReader } from './frame-codec.js';

function tensors(): Tensor[] {
  const wide = new Float64Array([1, 2, 3, 4, 5, 6]);
  return [
    { name: 'f32', datatype: 'FP32', shape: [2, 2], data: new Float32Array([1.5, -0, Number.NaN, Infinity]) },
    { name: 'view', datatype: 'FP64', shape: [2], data: wide.subarray(2, 4) },
    { name: 'i64', datatype: 'INT64', shape: [2], data: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]) },
    { name: 'u64', datatype: 'UINT64', shape: [1], data: new BigUint64Array([2n ** 64n - 1n]) },
    { name: 'buf', datatype: 'UINT8', shape: [3], data: Buffer.from([1, 2, 255]) },
    { name: 'i8', datatype: 'INT8', shape: [2], data: new Int8Array([-128, 127]) },
    { name: 'half', datatype: 'FP16', shape: [1], data: new Uint16Array([0x3c00]) },
    { name: 'i16', datatype: 'INT16', shape: [1], data: new Int16Array([-2]) },
    { name: 'u32', datatype: 'UINT32', shape: [1], data: new Uint32Array([4e9]) },
    { name: 'i32', datatype: 'INT32', shape: [1], data: new Int32Array([-7]) },
    { name: 'empty', datatype: 'FP32', shape: [0, 4], data: new Float32Array(0) },
    { name: 'text', datatype: 'BYTES', shape: [2], data: ['héllo', '{"$view":"x"}'] },
  ];
}

function frameOf(message: unknown): Buffer {
  return Buffer.concat(encodeFrame(message));
}

test('a frame carries every tensor type exactly, as arrays that own their buffers', () => {
  const message = { type: 'result', id: 7, outputs: tensors(), computeNs: 12345 };
  const frame = frameOf(message);
  assert.equal(frame.readUInt32LE(0), frame.length - 4);
  const decoded = decodeFrame(frame.subarray(4)) as typeof message;
  assert.equal(decoded.id, 7);
  assert.equal(decoded.computeNs, 12345);
  const want = tensors();
  for (const [i, tensor] of decoded.outputs.entries()) {
    const expected = want[i]!;
    assert.equal(tensor.name, expected.name);
    assert.deepEqual(tensor.shape, expected.shape);
    if (Array.isArray(expected.data)) {
      assert.deepEqual(tensor.data, expected.data);
      continue;
    }
    const data = tensor.data as Exclude<Tensor['data'], string[]>;
    const expectedType = expected.data instanceof Uint8Array ? Uint8Array : expected.data.constructor;
    assert.equal(data.constructor, expectedType, tensor.name);
    assert.equal(data.byteOffset, 0);
    assert.equal(data.byteLength, data.buffer.byteLength, `${tensor.name} owns its buffer`);
    assert.deepEqual(
      Buffer.from(data.buffer),
      Buffer.from(expected.data.buffer, expected.data.byteOffset, expected.data.byteLength),
    );
  }
});

test('the reader finds frames whatever the chunk boundaries, several in a chunk or one split byte by byte', () => {
  const messages = [
    { type: 'run', id: 1, inputs: tensors() },
    { type: 'release' },
    { type: 'run', id: 2, inputs: tensors().slice(0, 1) },
  ];
  const stream = Buffer.concat(messages.map(frameOf));
  for (const size of [1, 3, 7, 64, stream.length]) {
    const seen: unknown[] = [];
    const reader = new FrameReader((m) => seen.push(m));
    for (let at = 0; at < stream.length; at += size) reader.push(stream.subarray(at, at + size));
    assert.equal(seen.length, 3, `chunks of ${size}`);
    assert.deepEqual(
      seen.map((m) => (m as { type: string }).type),
      ['run', 'release', 'run'],
    );
    assert.deepEqual(
      (seen[2] as { inputs: Tensor[] }).inputs[0]!.data,
      new Float32Array([1.5, -0, Number.NaN, Infinity]),
    );
  }
});

test('a detached array cannot be encoded; neither can an unknown view type', () => {
  const detached = new Float32Array(4);
  structuredClone(detached.buffer, { transfer: [detached.buffer] });
  assert.throws(() => encodeFrame({ inputs: [{ data: detached }] }), /detached/);
  assert.throws(() => encodeFrame({ data: new Uint8ClampedArray(2) }), /Uint8ClampedArray/);
  assert.throws(() => encodeFrame({ data: new DataView(new ArrayBuffer(2)) }), /DataView/);
});
