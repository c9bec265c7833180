import { test } from 'node:test';
import assert from 'node:assert/strict';
import type ort from 'onnxruntime-node';
import type { Tensor } from '../core/tensor.js';
import { toOrtSessionOptions } from './session-settings.js';
import { fromOrtTensor, toOrtTensor } from './tensor-conversion.js';
import { prepareTransfer } from './transfer.js';

test('prepareTransfer transfers whole buffers and copies views, shared and repeated buffers', () => {
  const owned = new Float32Array([1, 2, 3, 4]);
  const big = new Int32Array([1, 2, 3, 4, 5, 6]);
  const view = big.subarray(2, 4);
  const shared = new Uint16Array(new SharedArrayBuffer(4));
  shared.set([7, 8]);
  const strings = ['a', 'b'];
  const tensors: Tensor[] = [
    { name: 'owned', datatype: 'FP32', shape: [4], data: owned },
    { name: 'view', datatype: 'INT32', shape: [2], data: view },
    { name: 'again', datatype: 'FP32', shape: [4], data: owned },
    { name: 'shared', datatype: 'FP16', shape: [2], data: shared },
    { name: 'strings', datatype: 'BYTES', shape: [2], data: strings },
    { name: 'empty', datatype: 'INT64', shape: [0], data: new BigInt64Array(0) },
  ];
  const { tensors: out, transfer } = prepareTransfer(tensors);
  const [a, v, again, s, str, empty] = out as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor];
  assert.equal(a.data, owned, 'a whole-buffer array is sent as is');
  assert.notEqual(v.data, view);
  assert.deepEqual(v.data, Int32Array.of(3, 4));
  assert.equal((v.data as Int32Array).buffer.byteLength, 8, 'the copy holds only the view');
  assert.notEqual(again.data, owned, 'a buffer already listed is copied, not listed twice');
  assert.deepEqual(again.data, owned);
  assert.ok((s.data as Uint16Array).buffer instanceof ArrayBuffer, 'shared memory is copied');
  assert.deepEqual(s.data, Uint16Array.of(7, 8));
  assert.equal(str.data, strings);
  assert.equal(empty.data.length, 0);
  assert.equal(transfer.length, 4);
  assert.equal(new Set(transfer).size, 4);
  assert.ok(!transfer.includes(big.buffer as ArrayBuffer));
});

test('prepareTransfer copies a Node Buffer view into a plain Uint8Array', () => {
  const buf = Buffer.from([1, 0, 1]);
  const { tensors } = prepareTransfer([{ name: 'b', datatype: 'BOOL', shape: [3], data: buf }]);
  const data = tensors[0]!.data;
  assert.equal(Object.getPrototypeOf(data), Uint8Array.prototype);
  assert.deepEqual(data, Uint8Array.of(1, 0, 1));
});

test('toOrtTensor maps tend datatypes onto onnxruntime types', () => {
  const cases: [Tensor, string][] = [
    [{ name: 'x', datatype: 'FP16', shape: [1], data: Uint16Array.of(0x3c00) }, 'float16'],
    [{ name: 'x', datatype: 'BOOL', shape: [2], data: Uint8Array.of(1, 0) }, 'bool'],
    [{ name: 'x', datatype: 'BYTES', shape: [1], data: ['s'] }, 'string'],
    [{ name: 'x', datatype: 'UINT64', shape: [1], data: BigUint64Array.of(1n) }, 'uint64'],
  ];
  for (const [tensor, type] of cases) {
    const converted = toOrtTensor(tensor);
    assert.equal(converted.type, type);
    assert.deepEqual(converted.dims, tensor.shape);
  }
  assert.throws(
    () => toOrtTensor({ name: 'x', datatype: 'FP32', shape: [3], data: new Float32Array(2) }),
    /size/,
  );
});

test('fromOrtTensor hands float16 out as Uint16Array bits even when ORT uses a Float16Array', () => {
  // Stands in for a Float16Array: same 2-byte elements, not a Uint16Array.
  const halfView = Int16Array.of(0x3c00, -0x4000);
  const fake = { type: 'float16', dims: [2], data: halfView } as unknown as ort.Tensor;
  const tensor = fromOrtTensor('y', fake);
  assert.equal(tensor.datatype, 'FP16');
  assert.ok(tensor.data instanceof Uint16Array);
  assert.deepEqual(tensor.data, Uint16Array.of(0x3c00, 0xc000));
  assert.equal((tensor.data as Uint16Array).buffer, halfView.buffer, 'no copy');
  const int4 = { type: 'int4', dims: [2], data: new Int8Array(1) } as unknown as ort.Tensor;
  assert.throws(() => fromOrtTensor('z', int4), /'z'.*int4/);
});

test('session options: sequential, no spinning by default, thread counts only when set', () => {
  const defaults = toOrtSessionOptions({ graphOptimizationLevel: 'extended', intraOpThreads: 0 });
  assert.equal(defaults.executionMode, 'sequential');
  assert.equal(defaults.graphOptimizationLevel, 'extended');
  assert.ok(!('intraOpNumThreads' in defaults));
  assert.ok(!('interOpNumThreads' in defaults));
  assert.deepEqual(defaults.extra, {
    session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } },
  });
  const tuned = toOrtSessionOptions({
    graphOptimizationLevel: 'all',
    intraOpThreads: 2,
    interOpThreads: 1,
    allowSpinning: true,
  });
  assert.equal(tuned.intraOpNumThreads, 2);
  assert.equal(tuned.interOpNumThreads, 1);
  assert.deepEqual(tuned.extra, {
    session: { intra_op: { allow_spinning: '1' }, inter_op: { allow_spinning: '1' } },
  });
});
