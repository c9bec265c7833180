/**
 * int8-dynamic on the shared fixture models (PyTorch exports): structure, signature, onnxruntime
 * loads them, outputs stay close to fp32, and onnxruntime fuses the pattern into its int8 kernels.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { numberCell, readCsv } from '../core/csv.js';
import { checkModel, extractSignature, readModelFile, writeModel } from '../onnx/index.js';
import type { ModelProto } from '../onnx/index.js';
import { quantizeDynamic } from './quantize-dynamic.js';
import type { QuantizeDynamicOptions } from './quantize-dynamic.js';
import { fusedKernels } from './fused-kernels.js';
import type { KernelReport } from './fused-kernels.js';
import { tempDir } from '../core/test-support.test-helper.js';

const MODELS = new URL('../../fixtures/models/', import.meta.url);
const load = (name: string) => readModelFile(new URL(name, MODELS).pathname);

/** Run a model in onnxruntime (one thread) and read back the graph onnxruntime optimized from it. */
async function run(
  model: ModelProto,
  feeds: Record<string, ort.Tensor>,
): Promise<{ output: Float32Array; optimized: ModelProto }> {
  const dir = tempDir('quant');
  try {
    const path = join(dir, 'optimized.onnx');
    const session = await ort.InferenceSession.create(writeModel(model), {
      intraOpNumThreads: 1,
      logSeverityLevel: 3,
      graphOptimizationLevel: 'extended',
      optimizedModelFilePath: path,
    });
    try {
      const out = await session.run(feeds);
      const first = out[session.outputNames[0] ?? ''];
      assert.ok(first);
      return { output: first.data as Float32Array, optimized: readModelFile(path) };
    } finally {
      await session.release();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function cosine(a: Float32Array, b: Float32Array, from: number, to: number): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = from; i < to; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return dot / Math.sqrt(na * nb);
}

/** Deterministic values in [0, 1) (a 32-bit LCG), so inputs are the same on every run. */
function uniform(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  });
}

interface Case {
  file: string;
  feeds: () => Record<string, ort.Tensor>;
  rowLength: number;
  /** Fused kernels expected in onnxruntime's optimized graph of the int8 model. */
  fused: Record<string, number>;
  unfused: Record<string, number>;
  quantizedOps: Record<string, number>;
}

function digitsFeeds(): Record<string, ort.Tensor> {
  const digits = readCsv(
    readFileSync(new URL('../../assets/datasets/digits.csv', import.meta.url), 'utf8'),
    'digits.csv',
  );
  const rows = 100;
  const pixels = Array.from(
    { length: rows * 64 },
    (_, i) => numberCell(digits, Math.floor(i / 64), i % 64) / 16,
  );
  return { pixels: new ort.Tensor('float32', Float32Array.from(pixels), [rows, 64]) };
}

function encoderFeeds(): Record<string, ort.Tensor> {
  const [batch, seq] = [2, 16];
  const ids = Array.from(uniform(batch * seq, 7), (u) => BigInt(Math.floor(u * 2000)));
  // The second sequence is padded after 10 tokens.
  const mask = Array.from({ length: batch * seq }, (_, i) => (i >= seq + 10 ? 0n : 1n));
  return {
    input_ids: new ort.Tensor('int64', BigInt64Array.from(ids), [batch, seq]),
    attention_mask: new ort.Tensor('int64', BigInt64Array.from(mask), [batch, seq]),
  };
}

const CASES: Case[] = [
  {
    file: 'digits_mlp.onnx',
    feeds: digitsFeeds,
    rowLength: 10,
    fused: { 'com.microsoft.DynamicQuantizeMatMul': 2 },
    unfused: {},
    quantizedOps: { Gemm: 2 },
  },
  {
    file: 'small_cnn.onnx',
    feeds: () => ({
      image: new ort.Tensor(
        'float32',
        uniform(4 * 3 * 32 * 32, 11).map((u) => u * 2 - 1),
        [4, 3, 32, 32],
      ),
    }),
    rowLength: 10,
    // onnxruntime has no fused kernel for ConvInteger: its DynamicQuantizeLinear stays.
    fused: { 'com.microsoft.DynamicQuantizeMatMul': 1 },
    unfused: { ConvInteger: 2, DynamicQuantizeLinear: 2 },
    quantizedOps: { Conv: 2, Gemm: 1 },
  },
  {
    file: 'tiny_text_encoder.onnx',
    feeds: encoderFeeds,
    rowLength: 128,
    fused: { 'com.microsoft.DynamicQuantizeMatMul': 8 },
    unfused: {},
    quantizedOps: { Gather: 2, MatMul: 6, Gemm: 2 },
  },
];

const VARIANTS: [string, QuantizeDynamicOptions][] = [
  ['per tensor', {}],
  ['per channel', { perChannel: true }],
  ['reduce range', { reduceRange: true }],
];

const countOps = (ops: { op: string }[]) =>
  ops.reduce<Record<string, number>>((acc, { op }) => ({ ...acc, [op]: (acc[op] ?? 0) + 1 }), {});

for (const c of CASES) {
  test(`${c.file}: int8 models are well formed, keep the signature, load, stay close to fp32 and fuse`, async () => {
    const original = load(c.file);
    const before = writeModel(original);
    const feeds = c.feeds();
    const fp32 = (await run(original, feeds)).output;
    const reports: Record<string, KernelReport> = {};
    for (const [variant, options] of VARIANTS) {
      const result = quantizeDynamic(original, options);
      assert.deepEqual(writeModel(original), before, 'the input model is not changed');
      assert.deepEqual(checkModel(result.model), [], `${variant}: structural problems`);
      assert.ok(result.model.graph && original.graph);
      assert.deepEqual(
        extractSignature(result.model.graph),
        extractSignature(original.graph),
        `${variant}: signature`,
      );
      assert.deepEqual(
        [result.model.graph.input, result.model.graph.output],
        [original.graph.input, original.graph.output],
      );
      assert.deepEqual(countOps(result.quantized), c.quantizedOps, `${variant}: quantized nodes`);
      const { before: b, after: a } = result.weights;
      assert.ok(
        a.float32_bytes < b.float32_bytes * 0.05,
        `${variant}: float weights left ${a.float32_bytes} of ${b.float32_bytes}`,
      );
      assert.ok(
        a.total_bytes < b.total_bytes * 0.3,
        `${variant}: ${a.total_bytes} bytes of ${b.total_bytes}`,
      );

      const { output: int8, optimized } = await run(result.model, feeds);
      assert.equal(int8.length, fp32.length);
      for (let row = 0; row * c.rowLength < fp32.length; row++) {
        const cos = cosine(fp32, int8, row * c.rowLength, (row + 1) * c.rowLength);
        assert.ok(cos >= 0.99, `${variant}: row ${row} cosine ${cos}`);
      }
      const report = fusedKernels(result.model, optimized);
      reports[variant] = report;
      for (const [op, n] of Object.entries(c.fused))
        assert.equal(report.fused_kernels[op], n, `${variant}: ${JSON.stringify(report)}`);
      assert.deepEqual(report.unfused_quantization_ops, c.unfused, `${variant}: unfused ops`);
    }
  });
}

test('digits: the int8 model predicts the same digit as fp32 on at least 97 of 100 rows', async () => {
  const original = load('digits_mlp.onnx');
  const feeds = digitsFeeds();
  const fp32 = (await run(original, feeds)).output;
  const int8 = (await run(quantizeDynamic(original, { perChannel: true }).model, feeds)).output;
  const argmax = (a: Float32Array, row: number) => {
    const r = a.subarray(row * 10, row * 10 + 10);
    return r.indexOf(Math.max(...r));
  };
  let same = 0;
  for (let row = 0; row < 100; row++) if (argmax(fp32, row) === argmax(int8, row)) same++;
  assert.ok(same >= 97, `${same} of 100`);
});
