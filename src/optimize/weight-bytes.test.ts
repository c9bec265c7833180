import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create, GraphBuilder, TensorProtoSchema, TensorProto_DataType } from '../onnx/index.js';
import { quantizedWeightRatio, tensorBytes, weightBytes } from './weight-bytes.js';
import { quantizeDynamic } from './quantize-dynamic.js';

test('initializer bytes are split into float32, int8/uint8 and the rest, subgraphs included', () => {
  const inner = new GraphBuilder('inner')
    .output('t', 'FP32', [3])
    .initializer('k', new Float32Array(3), [3])
    .node('Identity', ['k'], ['t'])
    .buildGraph();
  const model = new GraphBuilder('m')
    .input('c', 'BOOL', [])
    .output('y', 'FP32', [3])
    .initializer('w', new Float32Array(10), [2, 5])
    .initializer('q', new Int8Array(10), [2, 5], 'INT8')
    .initializer('z', new Uint8Array(1), [], 'UINT8')
    .initializer('shape', new BigInt64Array(2), [2])
    .node('If', ['c'], ['y'], { then_branch: { graph: inner }, else_branch: { graph: inner } })
    .build();
  assert.deepEqual(weightBytes(model), {
    float32_bytes: 40 + 12 + 12,
    int8_bytes: 11,
    other_bytes: 16,
    total_bytes: 91,
  });
});

test('tensor bytes follow dims and type whatever field holds the data', () => {
  const typed = create(TensorProtoSchema, {
    name: 't',
    dims: [3n],
    dataType: TensorProto_DataType.FLOAT,
    floatData: [1, 2, 3],
  });
  assert.equal(tensorBytes(typed), 12);
  const int4 = create(TensorProtoSchema, { name: 'i', dims: [5n], dataType: TensorProto_DataType.INT4 });
  assert.equal(tensorBytes(int4), 3);
  const strings = create(TensorProtoSchema, {
    name: 's',
    dims: [2n],
    dataType: TensorProto_DataType.STRING,
    stringData: [new Uint8Array(3), new Uint8Array(4)],
  });
  assert.equal(tensorBytes(strings), 7);
});

test('the quantized-weight ratio counts int8 values and the scales added, not the constants left in float', () => {
  const model = new GraphBuilder('mlp')
    .input('x', 'FP32', ['batch', 64])
    .output('y', 'FP32', ['batch', 32])
    .initializer('mean', new Float32Array(64), [64])
    .initializer(
      'w',
      Float32Array.from({ length: 64 * 32 }, (_, i) => Math.sin(i)),
      [64, 32],
    )
    .node('Sub', ['x', 'mean'], ['xc'])
    .node('MatMul', ['xc', 'w'], ['y'])
    .build();
  const result = quantizeDynamic(model, {});
  const ratio = quantizedWeightRatio(
    model,
    result.model,
    result.quantized.map((q) => q.weight),
  );
  // 2048 int8 bytes + one zero point + one 4-byte scale over 8192 fp32 bytes.
  assert.ok(Math.abs(ratio - (2048 + 1 + 4) / 8192) < 1e-9, String(ratio));
  assert.ok(Number.isNaN(quantizedWeightRatio(model, result.model, ['mean-not-a-weight'])));
});
