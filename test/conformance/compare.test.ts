import { test } from 'node:test';
import assert from 'node:assert/strict';
import { floatToHalfBits } from '../../src/core/fp16.js';
import type { Tensor } from '../../src/core/tensor.js';
import { compareOutputs, tensorDifference } from './compare.js';
import { decodeBinaryResponse, encodeBinaryRequest } from './binary-client.js';
import { reasonCategory, uncarriableReason } from './cases.js';

const fp32 = (values: number[], shape = [values.length]): Tensor => ({
  name: 'y',
  datatype: 'FP32',
  shape,
  data: Float32Array.from(values),
});

test('floats agree within rtol/atol; NaN equals NaN, infinities only themselves', () => {
  assert.equal(tensorDifference(fp32([1, 100, NaN, Infinity]), fp32([1.0009, 100.09, NaN, Infinity])), null);
  assert.match(tensorDifference(fp32([1.002]), fp32([1])) ?? '', /1 of 1 elements differ.*first at 0/);
  assert.match(tensorDifference(fp32([0]), fp32([NaN])) ?? '', /differ/);
  assert.match(tensorDifference(fp32([-Infinity]), fp32([Infinity])) ?? '', /differ/);
  // atol carries values near zero, where rtol alone allows nothing.
  assert.equal(tensorDifference(fp32([5e-6]), fp32([0])), null);
  const half = (v: number[]): Tensor => ({
    name: 'y',
    datatype: 'FP16',
    shape: [v.length],
    data: Uint16Array.from(v, floatToHalfBits),
  });
  assert.equal(tensorDifference(half([0.5, NaN]), half([0.5, NaN])), null);
  assert.match(tensorDifference(half([0.5]), half([0.75])) ?? '', /0.5 vs 0.75/);
});

test('integers, booleans and strings compare exactly; shape and datatype must match', () => {
  const i64 = (v: bigint[]): Tensor => ({
    name: 'y',
    datatype: 'INT64',
    shape: [v.length],
    data: BigInt64Array.from(v),
  });
  assert.equal(tensorDifference(i64([2n ** 62n + 1n]), i64([2n ** 62n + 1n])), null);
  assert.match(
    tensorDifference(i64([2n ** 62n]), i64([2n ** 62n + 1n])) ?? '',
    /element 0 is 4611686018427387904, expected 4611686018427387905/,
  );
  const text = (v: string[]): Tensor => ({ name: 'y', datatype: 'BYTES', shape: [v.length], data: v });
  assert.match(tensorDifference(text(['a', 'b']), text(['a', 'c'])) ?? '', /element 1 is "b", expected "c"/);
  assert.match(
    tensorDifference(fp32([1, 2], [2, 1]), fp32([1, 2], [2])) ?? '',
    /shape \[2, 1\], expected \[2\]/,
  );
  assert.match(
    tensorDifference({ ...fp32([1]), datatype: 'FP64', data: new Float64Array([1]) }, fp32([1])) ?? '',
    /datatype FP64, expected FP32/,
  );
  assert.equal(tensorDifference(fp32([], [0, 3]), fp32([], [0, 3])), null);
  assert.deepEqual(compareOutputs([], [fp32([1])]), ["output 'y' is missing"]);
});

test('the binary client round-trips every element kind through the extension layout', () => {
  const inputs: Tensor[] = [
    { name: 's', datatype: 'BYTES', shape: [3], data: ['', 'héllo', 'x'] },
    { name: 'b', datatype: 'BOOL', shape: [2], data: Uint8Array.from([1, 0]) },
    { name: 'u', datatype: 'UINT64', shape: [], data: BigUint64Array.from([2n ** 64n - 1n]) },
    { name: 'e', datatype: 'FP32', shape: [0, 2], data: new Float32Array(0) },
  ];
  const { body, headerLength } = encodeBinaryRequest(inputs);
  const header = JSON.parse(body.subarray(0, headerLength).toString()) as {
    inputs: { parameters: { binary_data_size: number } }[];
  };
  assert.deepEqual(
    header.inputs.map((i) => i.parameters.binary_data_size),
    [4 + 4 + 6 + 4 + 1, 2, 8, 0],
  );
  // A response has the same layout with `outputs`; reuse the request bytes as one.
  const responseHeader = Buffer.from(JSON.stringify({ outputs: header.inputs }));
  assert.deepEqual(
    decodeBinaryResponse(Buffer.concat([responseHeader, body.subarray(headerLength)]), responseHeader.length),
    inputs,
  );
  const truncated = Buffer.from(
    '{"outputs":[{"name":"y","datatype":"FP32","shape":[2],"parameters":{"binary_data_size":8}}]}',
  );
  assert.throws(() => decodeBinaryResponse(truncated, truncated.length), /runs past the end/);
});

test('types V2 cannot carry are named with their category', () => {
  const reason = uncarriableReason('input', {
    name: 'x',
    datatype: null,
    onnx_type: 'seq(tensor(float))',
    shape: null,
  });
  assert.equal(reason, "input 'x' is seq(tensor(float))");
  assert.equal(reasonCategory(reason ?? ''), 'seq');
  assert.equal(reasonCategory("output 'y' is tensor(bfloat16)"), 'bfloat16');
  assert.equal(reasonCategory("input 'o' is optional(tensor(float))"), 'optional');
  assert.equal(
    uncarriableReason('output', { name: 'y', datatype: 'FP16', onnx_type: 'tensor(float16)', shape: [] }),
    null,
  );
});
