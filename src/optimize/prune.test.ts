/** Pruning: magnitude zeroes the right share; structured removes units and keeps the pruned model consistent. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { GraphBuilder, readModelFile, readTensorData, writeModel } from '../onnx/index.js';
import { magnitudePrune, structuredPrune } from './prune.js';

const MODELS = new URL('../../fixtures/models/', import.meta.url);

function mlp() {
  // x[.,4] → Gemm(W1 [3,4] transB) → Relu → MatMul(W2 [3,2]); unit 1 of the hidden layer has the smallest L1 norm.
  return new GraphBuilder('mlp')
    .input('x', 'FP32', ['batch', 4])
    .output('y', 'FP32', ['batch', 2])
    .initializer('w1', Float32Array.from([1, 1, 1, 1, 0.1, 0, 0, 0.1, -2, 2, 0, 0]), [3, 4])
    .initializer('b1', Float32Array.from([0.5, 0.25, 0]), [3])
    .initializer('w2', Float32Array.from([1, 2, 3, 4, 5, 6]), [3, 2])
    .node('Gemm', ['x', 'w1', 'b1'], ['h'], { transB: { int: 1 } })
    .node('Relu', ['h'], ['r'])
    .node('MatMul', ['r', 'w2'], ['y'])
    .build();
}

test('magnitude pruning zeroes the smallest share per layer; sparsity outside (0, 1) is refused', () => {
  const { model, layers } = magnitudePrune(mlp(), 0.5);
  const w1 = readTensorData(model.graph!.initializer.find((t) => t.name === 'w1')!).data as Float32Array;
  assert.equal([...w1].filter((v) => v === 0).length, 6);
  assert.deepEqual([...w1].slice(0, 4), [1, 1, 1, 1]);
  assert.equal(layers.length, 2);
  for (const bad of [0, 1, -0.5, 1.5, Number.NaN])
    assert.throws(() => magnitudePrune(mlp(), bad), {
      code: 'TEND_INVALID_ARGUMENT',
      message: /--sparsity .* must be between 0 and 1/,
    });
});

test('structured pruning removes the weakest hidden unit from both layers and the model still runs the same on the kept units', async () => {
  const { model, layers } = structuredPrune(mlp(), 1 / 3);
  assert.equal(layers.length, 1);
  assert.match(layers[0]!.detail, /^3 → 2 units \(and the inputs of '.+'\)$/);
  const get = (name: string) => model.graph!.initializer.find((t) => t.name === name)!;
  assert.deepEqual(get('w1').dims.map(Number), [2, 4]);
  assert.deepEqual([...(readTensorData(get('b1')).data as Float32Array)], [0.5, 0]);
  assert.deepEqual([...(readTensorData(get('w2')).data as Float32Array)], [1, 2, 5, 6]);
  const s = await ort.InferenceSession.create(writeModel(model), { logSeverityLevel: 3 });
  const out = await s.run({ x: new ort.Tensor('float32', Float32Array.from([1, 0, 0, 0]), [1, 4]) });
  // h = [1.5, 0.35, -2] → relu [1.5, 0.35, 0]; unit 1 removed: y = 1.5 * [1, 2] = [1.5, 3].
  assert.deepEqual([...(out['y']!.data as Float32Array)], [1.5, 3]);
  await s.release();
});

test('structured pruning of the digits MLP and the small CNN: fewer parameters; a graph it cannot rewrite names the node', () => {
  for (const file of ['digits_mlp.onnx', 'small_cnn.onnx']) {
    const model = readModelFile(new URL(file, MODELS).pathname);
    const before = writeModel(model).length;
    const pruned = structuredPrune(model, 0.5);
    assert.ok(pruned.layers.length >= 1);
    // The CNN's Conv → Relu → MaxPool → Conv pair is pruned; its Flatten → Gemm is not followed.
    assert.ok(writeModel(pruned.model).length < before * (file === 'digits_mlp.onnx' ? 0.6 : 0.95), file);
  }
  const single = new GraphBuilder('one')
    .input('x', 'FP32', ['batch', 4])
    .output('y', 'FP32', ['batch', 2])
    .initializer('w', new Float32Array(8), [4, 2])
    .node('MatMul', ['x', 'w'], ['y'], {}, { name: 'only_layer' })
    .build();
  assert.throws(() => structuredPrune(single, 0.5), {
    code: 'TEND_INVALID_ARGUMENT',
    message:
      /--structured cannot rewrite this graph: node 'only_layer' \(MatMul\): its output reaches the graph output 'y'/,
  });
});
