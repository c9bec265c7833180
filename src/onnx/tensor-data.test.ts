import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { TensorProtoSchema, TensorProto_DataType as Elem } from './proto.js';
import { readTensorData, tensorProto } from './tensor-data.js';
import { GraphBuilder } from './builder.js';
import { isTendError } from '../core/errors.js';
import type { DataType, TensorData } from '../core/tensor.js';

const invalidModel = (pattern: RegExp) => (e: unknown) =>
  isTendError(e) && e.code === 'TEND_INVALID_MODEL' && pattern.test(e.message);

test('every V2 datatype survives tensorProto → readTensorData', () => {
  const cases: [DataType, TensorData][] = [
    ['FP32', new Float32Array([1.5, -2, 3e-8, 0])],
    ['FP64', new Float64Array([Math.PI, -1, 0, 1e300])],
    ['FP16', new Uint16Array([0x3c00, 0xc000, 0, 0x7bff])],
    ['INT64', new BigInt64Array([-(2n ** 62n), -1n, 0n, 2n ** 62n])],
    ['UINT64', new BigUint64Array([0n, 1n, 2n ** 63n, 7n])],
    ['INT32', new Int32Array([-(2 ** 31), -1, 0, 2 ** 31 - 1])],
    ['UINT32', new Uint32Array([0, 1, 2 ** 32 - 1, 7])],
    ['INT16', new Int16Array([-32768, -1, 0, 32767])],
    ['UINT16', new Uint16Array([0, 1, 65535, 7])],
    ['INT8', new Int8Array([-128, -1, 0, 127])],
    ['UINT8', new Uint8Array([0, 1, 255, 7])],
    ['BOOL', new Uint8Array([0, 1, 1, 0])],
    ['BYTES', ['a', '', 'héllo', '☃']],
  ];
  for (const [datatype, data] of cases) {
    const decoded = readTensorData(tensorProto('t', data, [2, 2], datatype));
    assert.deepEqual(decoded, { datatype, dims: [2, 2], data }, datatype);
  }
});

test('the datatype defaults from the array type and raw data is little-endian', () => {
  const t = tensorProto('w', new Int32Array([1, 256]), [2]);
  assert.equal(t.dataType, Elem.INT32);
  assert.deepEqual(Array.from(t.rawData), [1, 0, 0, 0, 0, 1, 0, 0]);
  // A view into a larger buffer encodes only its own elements.
  const view = new Float32Array([9, 1, 2, 9]).subarray(1, 3);
  assert.deepEqual(readTensorData(tensorProto('v', view, [2])).data, new Float32Array([1, 2]));
  assert.deepEqual(readTensorData(tensorProto('s', new Float32Array([7]), [])), {
    datatype: 'FP32',
    dims: [],
    data: new Float32Array([7]),
  });
});

test('typed fields (float_data, int32_data, int64_data...) decode too', () => {
  const of = (init: Parameters<typeof create<typeof TensorProtoSchema>>[1]) =>
    readTensorData(create(TensorProtoSchema, init));
  assert.deepEqual(
    of({ dataType: Elem.FLOAT, dims: [2n], floatData: [1, 2] }).data,
    new Float32Array([1, 2]),
  );
  assert.deepEqual(
    of({ dataType: Elem.FLOAT16, dims: [1n], int32Data: [0x3c00] }).data,
    new Uint16Array([0x3c00]),
  );
  assert.deepEqual(
    of({ dataType: Elem.INT64, dims: [2n], int64Data: [5n, -5n] }).data,
    new BigInt64Array([5n, -5n]),
  );
  assert.deepEqual(
    of({ dataType: Elem.UINT32, dims: [1n], uint64Data: [4000000000n] }).data,
    new Uint32Array([4000000000]),
  );
  assert.deepEqual(
    of({ dataType: Elem.DOUBLE, dims: [1n], doubleData: [0.25] }).data,
    new Float64Array([0.25]),
  );
  assert.deepEqual(of({ dataType: Elem.BOOL, dims: [2n], int32Data: [1, 0] }).data, new Uint8Array([1, 0]));
});

test('undecodable tensors are TEND_INVALID_MODEL', () => {
  assert.throws(
    () => readTensorData(create(TensorProtoSchema, { name: 'b', dataType: Elem.BFLOAT16, dims: [1n] })),
    invalidModel(/'b' has type bfloat16/),
  );
  assert.throws(
    () =>
      readTensorData(
        create(TensorProtoSchema, {
          name: 'r',
          dataType: Elem.FLOAT,
          dims: [2n],
          rawData: new Uint8Array(4),
        }),
      ),
    invalidModel(/4 bytes of raw data, dims need 8/),
  );
  assert.throws(
    () =>
      readTensorData(
        create(TensorProtoSchema, { name: 'f', dataType: Elem.FLOAT, dims: [3n], floatData: [1] }),
      ),
    invalidModel(/1 values, dims need 3/),
  );
  const model = new GraphBuilder('g')
    .input('x', 'FP32', [1])
    .output('y', 'FP32', [1])
    .externalInitializer('w', 'FP32', [1], 'weights.bin')
    .node('Add', ['x', 'w'], ['y'])
    .build();
  const w = model.graph?.initializer[0];
  assert.ok(w);
  assert.throws(() => readTensorData(w), invalidModel(/external file/));
});

test('raw data parsed from a Node Buffer at an offset decodes its own bytes, not the start of the buffer', () => {
  const proto = tensorProto('x', new BigInt64Array([10n, -3n]), [2]);
  const bytes = toBinary(TensorProtoSchema, proto);
  // A file read with readFileSync is a Buffer; the tensor sits after other bytes, as in a model file.
  const file = Buffer.concat([Buffer.from([7, 7, 7, 7, 7]), Buffer.from(bytes)]);
  const parsed = fromBinary(TensorProtoSchema, file.subarray(5));
  assert.deepEqual(Array.from(readTensorData(parsed).data as BigInt64Array), [10n, -3n]);
});
