/**
 * The int8 models this rewrite produces, run in onnxruntime, against a NumPy integer simulation of
 * the same graphs (scripts/fixtures/quantize_reference.py): weights equal exactly, outputs within 1e-5.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { checkModel, GraphBuilder, readModelFile, readTensorData, writeModel } from '../onnx/index.js';
import type { ModelProto } from '../onnx/index.js';
import { quantizeDynamic } from './quantize-dynamic.js';
import { fusedKernels } from './fused-kernels.js';
import { tempDir } from '../core/test-support.test-helper.js';

interface Stored {
  dims: number[];
  data: number[];
}
interface WeightRecord {
  scale: number[];
  zero_point: number[];
  quantized: number[];
}
interface Variant {
  options: { per_channel: boolean; reduce_range: boolean };
  weights: Record<string, WeightRecord>;
  output: Stored;
}
interface ModelCase {
  weights: Record<string, Stored>;
  inputs: Record<string, Stored>;
  variants: Record<string, Variant>;
}

const FIXTURE = new URL('../../fixtures/optimize/quantize_reference.json', import.meta.url);
const reference = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { models: { mlp: ModelCase; cnn: ModelCase } };

function weight(c: ModelCase, name: string): [Float32Array, number[]] {
  const w = c.weights[name];
  assert.ok(w, `fixture weight ${name}`);
  return [new Float32Array(w.data), w.dims];
}

// The graphs the script simulates; its docstring describes the same two models.
function mlpModel(c: ModelCase): ModelProto {
  return new GraphBuilder('mlp')
    .input('x', 'FP32', ['batch', 16])
    .input('ids', 'INT64', ['batch'])
    .output('y', 'FP32', ['batch', 8])
    .initializer('table', ...weight(c, 'table'))
    .initializer('w1', ...weight(c, 'w1'))
    .initializer('b1', ...weight(c, 'b1'))
    .initializer('w2', ...weight(c, 'w2'))
    .initializer('b2', ...weight(c, 'b2'))
    .node('Gather', ['table', 'ids'], ['emb'], {}, { name: 'emb' })
    .node('Add', ['x', 'emb'], ['h'])
    .node('Gemm', ['h', 'w1', 'b1'], ['h1'], { transB: { int: 1 } }, { name: 'fc1' })
    .node('Relu', ['h1'], ['r'])
    .node('MatMul', ['r', 'w2'], ['y2'], {}, { name: 'fc2' })
    .node('Add', ['y2', 'b2'], ['y'])
    .build({ opset: 17 });
}

function cnnModel(c: ModelCase): ModelProto {
  return new GraphBuilder('cnn')
    .input('image', 'FP32', ['batch', 2, 6, 6])
    .output('logits', 'FP32', ['batch', 5])
    .initializer('wc', ...weight(c, 'wc'))
    .initializer('bc', ...weight(c, 'bc'))
    .initializer('wf', ...weight(c, 'wf'))
    .initializer('bf', ...weight(c, 'bf'))
    .node(
      'Conv',
      ['image', 'wc', 'bc'],
      ['conv'],
      { pads: { ints: [1, 1, 1, 1] }, kernel_shape: { ints: [3, 3] } },
      { name: 'conv' },
    )
    .node('Relu', ['conv'], ['r'])
    .node('Flatten', ['r'], ['flat'], { axis: { int: 1 } })
    .node('Gemm', ['flat', 'wf', 'bf'], ['logits'], { transB: { int: 1 } }, { name: 'fc' })
    .build({ opset: 17 });
}

function feeds(c: ModelCase): Record<string, ort.Tensor> {
  const out: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(c.inputs)) {
    out[name] =
      name === 'ids'
        ? new ort.Tensor(
            'int64',
            BigInt64Array.from(t.data, (v) => BigInt(v)),
            t.dims,
          )
        : new ort.Tensor('float32', new Float32Array(t.data), t.dims);
  }
  return out;
}

// The quantized initializers of a weight, found by the node that reads it.
function initializerValues(model: ModelProto, name: string): number[] {
  const t = model.graph?.initializer.find((i) => i.name === name);
  assert.ok(t, `initializer ${name}`);
  return Array.from(readTensorData(t).data as ArrayLike<number>, Number);
}

function quantizedWeightNames(model: ModelProto, node: string): { q: string; scale: string; zp: string } {
  const graph = model.graph;
  assert.ok(graph);
  const integer = graph.node.find((n) => n.name === `${node}_quant`);
  assert.ok(integer, `node ${node}_quant`);
  if (integer.opType === 'Gather') {
    const dq = graph.node.find((n) => n.opType === 'DequantizeLinear' && n.input[0] === integer.output[0]);
    assert.ok(dq);
    return { q: integer.input[0] ?? '', scale: dq.input[1] ?? '', zp: dq.input[2] ?? '' };
  }
  const scaleMul = graph.node.find((n) => n.name === `${node}_scales_mul`);
  assert.ok(scaleMul);
  return { q: integer.input[1] ?? '', scale: scaleMul.input[1] ?? '', zp: integer.input[3] ?? '' };
}

async function runWithOptimizedGraph(model: ModelProto, input: Record<string, ort.Tensor>) {
  const dir = tempDir('quant');
  try {
    const path = join(dir, 'optimized.onnx');
    const options = {
      intraOpNumThreads: 1,
      logSeverityLevel: 3,
      graphOptimizationLevel: 'extended',
      optimizedModelFilePath: path,
    } as const;
    const session = await ort.InferenceSession.create(writeModel(model), options);
    try {
      const out = await session.run(input);
      return { out, optimized: readModelFile(path) };
    } finally {
      await session.release();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const NODES = { mlp: { table: 'emb', w1: 'fc1', w2: 'fc2' }, cnn: { wc: 'conv', wf: 'fc' } } as const;

for (const [modelName, build] of [
  ['mlp', mlpModel],
  ['cnn', cnnModel],
] as const) {
  const c = reference.models[modelName];
  for (const [variantName, variant] of Object.entries(c.variants)) {
    test(`${modelName} ${variantName}: weights match NumPy and onnxruntime's outputs match the integer simulation`, async () => {
      const options = { perChannel: variant.options.per_channel, reduceRange: variant.options.reduce_range };
      const result = quantizeDynamic(build(c), options);
      assert.deepEqual(checkModel(result.model), []);
      assert.equal(result.skipped.length, 0);
      for (const [weightName, node] of Object.entries(NODES[modelName])) {
        const expected = variant.weights[weightName];
        assert.ok(expected);
        const names = quantizedWeightNames(result.model, node);
        assert.deepEqual(
          initializerValues(result.model, names.scale),
          expected.scale,
          `${weightName} scales`,
        );
        const zps = initializerValues(result.model, names.zp);
        // ConvInteger takes one zero point; the fixture lists one per channel (all 0).
        assert.deepEqual(
          zps.length === 1 ? expected.zero_point.map(() => zps[0]) : zps,
          expected.zero_point,
          `${weightName} zero points`,
        );
        assert.deepEqual(
          initializerValues(result.model, names.q),
          expected.quantized,
          `${weightName} values`,
        );
      }
      const { out, optimized } = await runWithOptimizedGraph(result.model, feeds(c));
      const [got] = Object.values(out);
      assert.ok(got);
      assert.deepEqual(got.dims, variant.output.dims);
      const values = got.data as Float32Array;
      variant.output.data.forEach((want, i) => {
        const diff = Math.abs((values[i] ?? NaN) - want);
        assert.ok(diff <= 1e-5, `output[${i}]: onnxruntime ${values[i]}, NumPy ${want} (diff ${diff})`);
      });
      const kernels = fusedKernels(result.model, optimized);
      assert.ok(
        (kernels.fused_kernels['com.microsoft.DynamicQuantizeMatMul'] ?? 0) >= 1,
        JSON.stringify(kernels),
      );
    });
  }
}
