import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Tensor } from '../src/core/tensor.js';
import { SMALL_CNN, TEXT_ENCODER_6L, tensorBytes, v2BinaryBody, v2JsonBody } from './models.js';

test('v2BinaryBody puts a JSON header declaring each input size, then the raw bytes in order', () => {
  const inputs: Tensor[] = [
    { name: 'a', datatype: 'FP32', shape: [1, 2], data: Float32Array.of(1.5, -2) },
    { name: 'b', datatype: 'INT64', shape: [1, 1], data: BigInt64Array.of(7n) },
  ];
  const { body, headerLength } = v2BinaryBody(inputs);
  const header = JSON.parse(body.subarray(0, headerLength).toString('utf8')) as {
    inputs: { name: string; shape: number[]; datatype: string; parameters: { binary_data_size: number } }[];
    parameters: { binary_data_output: boolean };
  };
  assert.deepEqual(
    header.inputs.map((i) => [i.name, i.datatype, i.shape, i.parameters.binary_data_size]),
    [
      ['a', 'FP32', [1, 2], 8],
      ['b', 'INT64', [1, 1], 8],
    ],
  );
  assert.equal(header.parameters.binary_data_output, true);
  assert.deepEqual(
    body.subarray(headerLength),
    Buffer.concat([tensorBytes(inputs[0] as Tensor), tensorBytes(inputs[1] as Tensor)]),
  );
  assert.throws(() => tensorBytes({ name: 's', datatype: 'BYTES', shape: [1], data: ['x'] }), /BYTES/);
});

test('the bench inputs are the same over JSON and binary (exact in JSON)', () => {
  for (const model of [SMALL_CNN, TEXT_ENCODER_6L]) {
    const inputs = model.makeInputs(1);
    const json = JSON.parse(v2JsonBody(inputs)) as { inputs: { data: number[] }[] };
    for (const [i, t] of inputs.entries()) {
      const Ctor = t.datatype === 'INT64' ? BigInt64Array : Float32Array;
      const back =
        t.datatype === 'INT64'
          ? BigInt64Array.from(json.inputs[i]?.data ?? [], BigInt)
          : (Ctor as Float32ArrayConstructor).from(json.inputs[i]?.data ?? []);
      assert.deepEqual(Buffer.from(back.buffer), tensorBytes(t));
    }
  }
});
