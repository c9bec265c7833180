import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { isTendError } from '../core/errors.js';
import {
  checkModel,
  GraphBuilder,
  readTensorData,
  writeModel,
  create,
  TensorProtoSchema,
  TensorProto_DataType,
} from '../onnx/index.js';
import type { ModelProto } from '../onnx/index.js';
import { MAX_QUANTIZE_OPSET, quantizeDynamic } from './quantize-dynamic.js';
import { opTypeCounts } from './fused-kernels.js';

const fails = (code: string, pattern: RegExp) => (e: unknown) =>
  isTendError(e) && e.code === code && pattern.test(e.message);

/** Deterministic weights in [-1, 1). */
function weights(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  });
}

const initializerNames = (m: ModelProto) => (m.graph?.initializer ?? []).map((t) => t.name).sort();
const nodeOps = (m: ModelProto) => (m.graph?.node ?? []).map((n) => n.opType);

/** x [n, 4] → MatMul(W) → Relu → MatMul(W) (the same weight twice) → y [n, 4]. */
function sharedWeightModel(): GraphBuilder {
  return new GraphBuilder('shared')
    .input('x', 'FP32', ['n', 4])
    .output('y', 'FP32', ['n', 4])
    .initializer('W', weights(16, 1), [4, 4])
    .node('MatMul', ['x', 'W'], ['h'], {}, { name: 'first' })
    .node('Relu', ['h'], ['r'])
    .node('MatMul', ['r', 'W'], ['y'], {}, { name: 'second' });
}

test('quantizes a copy and reports the quantized and the skipped nodes with reasons', () => {
  const model = new GraphBuilder('mixed')
    .input('x', 'FP32', ['n', 4])
    .output('y', 'FP32', ['n', 4])
    .output('z', 'FP32', ['n', 4])
    .output('shape_item', 'INT64', [])
    .initializer('W', weights(16, 2), [4, 4])
    .initializer('B', weights(16, 3), [4, 4])
    .initializer('c', weights(4, 4), [4])
    .initializer('zero', new BigInt64Array([0n]), [])
    .node('MatMul', ['x', 'W'], ['y'])
    .node('Transpose', ['x'], ['xt'])
    .node('MatMul', ['x', 'xt'], ['xx'], {}, { name: 'attention_scores' })
    .node('Gemm', ['xx', 'B', 'c'], ['z'], { alpha: { float: 0.5 } }, { name: 'scaled_gemm' })
    .node('Shape', ['x'], ['shape'])
    .node('Gather', ['shape', 'zero'], ['shape_item'], {}, { name: 'batch_size' })
    .build();
  const before = writeModel(model);
  const result = quantizeDynamic(model);
  assert.deepEqual(writeModel(model), before, 'the input is not changed');
  assert.deepEqual(result.quantized, [{ node: 'MatMul_0', op: 'MatMul', weight: 'W' }]);
  assert.deepEqual(
    result.skipped.map((s) => [s.node, s.reason]),
    [
      ['attention_scores', "weight 'xt' is computed at run time, not a constant initializer"],
      ['scaled_gemm', 'Gemm with alpha or beta other than 1, or transA, stays float (as in onnxruntime)'],
      ['batch_size', "data 'shape' is computed at run time, not a constant initializer"],
    ],
  );
  assert.deepEqual(checkModel(result.model), []);
  assert.ok(
    initializerNames(result.model).includes('W_quantized') && !initializerNames(result.model).includes('W'),
  );

  // A node without a name is reported by op type and position.
  const unnamed = sharedWeightModel().build();
  const second = unnamed.graph?.node[2];
  assert.ok(second);
  second.name = '';
  assert.deepEqual(
    quantizeDynamic(unnamed).quantized.map((q) => q.node),
    ['first', 'MatMul #2'],
  );
  assert.deepEqual(checkModel(quantizeDynamic(unnamed).model), []);
});

test('a weight read by two nodes is quantized once; an excluded reader keeps the float weight', () => {
  const both = quantizeDynamic(sharedWeightModel().build());
  assert.deepEqual(
    both.quantized.map((q) => q.node),
    ['first', 'second'],
  );
  assert.deepEqual(initializerNames(both.model), ['W_quantized', 'W_scale', 'W_zero_point']);
  assert.deepEqual(checkModel(both.model), []);

  for (const exclude of [['second'], ['first', 'Gather']]) {
    const result = quantizeDynamic(sharedWeightModel().build(), { exclude });
    const kept = exclude[0] === 'second' ? 'first' : 'second';
    assert.deepEqual(
      result.quantized.map((q) => q.node),
      [kept],
    );
    assert.deepEqual(result.skipped, [{ node: exclude[0], op: 'MatMul', reason: 'excluded' }]);
    assert.deepEqual(initializerNames(result.model), ['W', 'W_quantized', 'W_scale', 'W_zero_point']);
    assert.deepEqual(checkModel(result.model), []);
  }
  // Excluding the op type leaves nothing to quantize.
  assert.throws(
    () => quantizeDynamic(sharedWeightModel().build(), { exclude: ['MatMul'] }),
    fails('TEND_INVALID_MODEL', /no node that int8 dynamic quantization can rewrite.*MatMul: excluded/),
  );
});

test('a Gemm with transB and a MatMul sharing a weight get a transposed and a plain copy', () => {
  const model = new GraphBuilder('gemm')
    .input('x', 'FP32', ['n', 4])
    .output('y', 'FP32', ['n', 4])
    .initializer('W', weights(16, 5), [4, 4])
    .node('Gemm', ['x', 'W'], ['h'], { transB: { int: 1 } })
    .node('MatMul', ['h', 'W'], ['y'])
    .build();
  const { model: q } = quantizeDynamic(model);
  const names = initializerNames(q);
  assert.ok(names.includes('W_quantized') && names.includes('W_transposed_quantized'), names.join());
  const plain = q.graph?.initializer.find((t) => t.name === 'W_quantized');
  const transposed = q.graph?.initializer.find((t) => t.name === 'W_transposed_quantized');
  assert.ok(plain && transposed);
  const p = readTensorData(plain).data as Int8Array;
  const t = readTensorData(transposed).data as Int8Array;
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) assert.equal(t[c * 4 + r], p[r * 4 + c]);
});

test('weights stored in float_data quantize like raw_data ones', () => {
  const raw = sharedWeightModel().build();
  const typed = sharedWeightModel().build();
  const w = typed.graph?.initializer[0];
  assert.ok(w);
  w.floatData = Array.from(readTensorData(w).data as Float32Array);
  w.rawData = new Uint8Array();
  const a = quantizeDynamic(raw).model.graph?.initializer;
  const b = quantizeDynamic(typed).model.graph?.initializer;
  assert.deepEqual(b, a);
});

test('weights that are graph inputs, float16 or in a subgraph are handled safely', () => {
  // W also listed as a graph input: a caller may feed another W, so it stays float.
  const overridable = new GraphBuilder('g')
    .input('x', 'FP32', ['n', 4])
    .output('y', 'FP32', ['n', 4])
    .initializer('W', weights(16, 6), [4, 4])
    .initializer('V', weights(16, 7), [4, 4])
    .node('MatMul', ['x', 'W'], ['h'])
    .node('MatMul', ['h', 'V'], ['y'])
    .build();
  const input = overridable.graph?.input[0];
  assert.ok(overridable.graph && input);
  overridable.graph.input.push({ ...input, name: 'W' });
  const result = quantizeDynamic(overridable);
  assert.deepEqual(
    result.quantized.map((q) => q.weight),
    ['V'],
  );
  assert.deepEqual(
    result.skipped.map((s) => s.reason),
    ["weight 'W' is also a graph input, so callers may replace it"],
  );
  assert.deepEqual(
    result.model.graph?.input.map((v) => v.name),
    ['x', 'W'],
  );
  assert.deepEqual(checkModel(result.model), []);

  const half = sharedWeightModel().build();
  half.graph?.initializer.splice(
    0,
    1,
    create(TensorProtoSchema, {
      name: 'W',
      dims: [4n, 4n],
      dataType: TensorProto_DataType.FLOAT16,
      rawData: new Uint8Array(32),
    }),
  );
  assert.throws(() => quantizeDynamic(half), fails('TEND_INVALID_MODEL', /'W' is float16, not float/));

  // An If branch reads W from the outer graph: W must stay after the MatMuls are rewritten.
  const branch = new GraphBuilder('then')
    .output('w_out', 'FP32', [4, 4])
    .node('Identity', ['W'], ['w_out'])
    .buildGraph();
  const withIf = sharedWeightModel()
    .input('flag', 'BOOL', [])
    .output('w_copy', 'FP32', [4, 4])
    .node('If', ['flag'], ['w_copy'], { then_branch: { graph: branch }, else_branch: { graph: branch } })
    .build();
  const q = quantizeDynamic(withIf).model;
  assert.ok(initializerNames(q).includes('W'));
  assert.deepEqual(checkModel(q), []);
});

test('new names never collide with existing ones', () => {
  const model = sharedWeightModel()
    .initializer('W_quantized', weights(4, 8), [4])
    .output('W_scale', 'FP32', ['n', 4])
    .node('Identity', ['x'], ['W_scale'], {}, { name: 'first_quant' })
    .build();
  const { model: q } = quantizeDynamic(model);
  assert.deepEqual(
    checkModel(q).filter((p) => p.severity === 'error'),
    [],
  );
  assert.ok(initializerNames(q).includes('W_quantized_1'));
  assert.ok(q.graph?.node.some((n) => n.name === 'first_quant_1'));
});

test('bad options, opsets and models fail with a clear error', () => {
  const model = sharedWeightModel().build();
  assert.throws(
    () => quantizeDynamic(model, { exclude: ['thrid'] }),
    fails('TEND_INVALID_ARGUMENT', /exclude names no node or op type of the model: 'thrid'/),
  );
  assert.throws(
    () => quantizeDynamic(model, { exclude: 'first' as unknown as string[] }),
    fails('TEND_INVALID_ARGUMENT', /exclude must be a list/),
  );
  assert.throws(
    () => quantizeDynamic(model, { perChannel: 'yes' as unknown as boolean }),
    fails('TEND_INVALID_ARGUMENT', /perChannel/),
  );
  assert.throws(
    () => quantizeDynamic(sharedWeightModel().build({ opset: 9 })),
    fails('TEND_INVALID_MODEL', /opset 9; int8 quantization needs opset 10/),
  );
  assert.throws(
    () => quantizeDynamic(sharedWeightModel().build({ opset: MAX_QUANTIZE_OPSET + 1 })),
    fails('TEND_INVALID_MODEL', /opset 27, newer than onnxruntime-node 1.30 loads \(opset 26 at most\)/),
  );
  const noImport = sharedWeightModel().build();
  noImport.opsetImport = [];
  assert.throws(() => quantizeDynamic(noImport), fails('TEND_INVALID_MODEL', /imports no ai.onnx opset/));
  const plain = new GraphBuilder('relu')
    .input('x', 'FP32', [2])
    .output('y', 'FP32', [2])
    .node('Relu', ['x'], ['y'])
    .build();
  assert.throws(
    () => quantizeDynamic(plain),
    fails('TEND_INVALID_MODEL', /no node that int8 dynamic quantization can rewrite/),
  );
  const dynamic = new GraphBuilder('mm')
    .input('a', 'FP32', [2, 2])
    .input('b', 'FP32', [2, 2])
    .output('y', 'FP32', [2, 2])
    .node('MatMul', ['a', 'b'], ['y'])
    .build();
  assert.throws(
    () => quantizeDynamic(dynamic),
    fails('TEND_INVALID_MODEL', /MatMul: weight 'b' is computed at run time/),
  );
});

/** x [n, 2, 5, 5] → Conv → Relu → Flatten → Gemm; ids → Gather(table) → Add: every rewrite at once. */
function everyOpModel(opset: number): ModelProto {
  return new GraphBuilder('every')
    .input('image', 'FP32', ['n', 2, 5, 5])
    .input('ids', 'INT64', ['n'])
    .output('y', 'FP32', ['n', 6])
    .initializer('wc', weights(3 * 2 * 9, 9), [3, 2, 3, 3])
    .initializer('bc', weights(3, 10), [3])
    .initializer('wf', weights(75 * 6, 11), [75, 6])
    .initializer('bf', weights(6, 12), [6])
    .initializer('table', weights(7 * 6, 13), [7, 6])
    .node('Conv', ['image', 'wc', 'bc'], ['c'], { pads: { ints: [1, 1, 1, 1] } })
    .node('Relu', ['c'], ['r'])
    .node('Flatten', ['r'], ['f'])
    .node('Gemm', ['f', 'wf', 'bf'], ['g'])
    .node('Gather', ['table', 'ids'], ['e'])
    .node('Add', ['g', 'e'], ['y'])
    .build({ opset });
}

async function runModel(model: ModelProto, feeds: Record<string, ort.Tensor>): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(writeModel(model), {
    intraOpNumThreads: 1,
    logSeverityLevel: 3,
  });
  try {
    const out = await session.run(feeds);
    return out['y']?.data as Float32Array;
  } finally {
    await session.release();
  }
}

for (const opset of [10, 13, MAX_QUANTIZE_OPSET]) {
  test(`an opset-${opset} model with Conv, Gemm and Gather quantizes, loads and stays close to fp32`, async () => {
    const model = everyOpModel(opset);
    const result = quantizeDynamic(model, { perChannel: true });
    assert.deepEqual(
      result.quantized.map((q) => q.op),
      ['Conv', 'Gemm', 'Gather'],
    );
    assert.deepEqual(checkModel(result.model), []);
    const ops = opTypeCounts(result.model);
    // Opset 10 has no DynamicQuantizeLinear: the rewrite computes it with plain ops and QuantizeLinear.
    assert.equal(ops['DynamicQuantizeLinear'], opset >= 11 ? 2 : undefined);
    assert.equal(ops['QuantizeLinear'], opset >= 11 ? undefined : 2);
    assert.ok(
      nodeOps(result.model).includes('ConvInteger') && nodeOps(result.model).includes('DequantizeLinear'),
    );
    const feeds = {
      image: new ort.Tensor('float32', weights(2 * 50, 14), [2, 2, 5, 5]),
      ids: new ort.Tensor('int64', new BigInt64Array([6n, 0n]), [2]),
    };
    const fp32 = await runModel(model, feeds);
    const int8 = await runModel(result.model, feeds);
    const maxAbs = Math.max(...fp32.map(Math.abs));
    fp32.forEach((v, i) =>
      assert.ok(Math.abs(v - (int8[i] ?? NaN)) < 0.05 * maxAbs, `y[${i}]: ${v} vs ${int8[i]}`),
    );
  });
}
