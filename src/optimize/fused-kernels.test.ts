import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphBuilder } from '../onnx/index.js';
import { fusedKernels, opTypeCounts } from './fused-kernels.js';

const relu = new GraphBuilder('then').output('t', 'FP32', [1]).node('Relu', ['x'], ['t']).buildGraph();

test('op types are counted per domain, subgraphs included', () => {
  const model = new GraphBuilder('m')
    .input('x', 'FP32', [1])
    .input('c', 'BOOL', [])
    .output('y', 'FP32', [1])
    .node('If', ['c'], ['y'], { then_branch: { graph: relu }, else_branch: { graph: relu } })
    .build();
  assert.deepEqual(opTypeCounts(model), { If: 1, Relu: 2 });
});

test('the report lists what onnxruntime introduced, removed and left unfused', () => {
  const quantized = new GraphBuilder('q')
    .input('x', 'FP32', [2, 2])
    .output('y', 'FP32', [2, 2])
    .initializer('w', new Int8Array(4), [2, 2], 'INT8')
    .node('DynamicQuantizeLinear', ['x'], ['xq', 'xs', 'xz'])
    .node('MatMulInteger', ['xq', 'w', 'xz'], ['acc'])
    .node('Cast', ['acc'], ['accf'], { to: { int: 1 } })
    .node('Mul', ['accf', 'xs'], ['m'])
    .node('Relu', ['m'], ['y'])
    .build();
  const optimized = new GraphBuilder('o')
    .input('x', 'FP32', [2, 2])
    .output('y', 'FP32', [2, 2])
    .initializer('w', new Int8Array(4), [2, 2], 'INT8')
    .node('DynamicQuantizeMatMul', ['x', 'w'], ['m'], {}, { domain: 'com.microsoft' })
    .node('DynamicQuantizeLinear', ['m'], ['q', 's', 'z'])
    .node('Relu', ['m'], ['y'])
    .build();
  assert.deepEqual(fusedKernels(quantized, optimized), {
    op_counts: { 'com.microsoft.DynamicQuantizeMatMul': 1, DynamicQuantizeLinear: 1, Relu: 1 },
    fused_kernels: { 'com.microsoft.DynamicQuantizeMatMul': 1 },
    removed_ops: { Cast: 1, MatMulInteger: 1, Mul: 1 },
    unfused_quantization_ops: { DynamicQuantizeLinear: 1 },
  });
});
