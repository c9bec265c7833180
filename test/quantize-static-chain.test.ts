/**
 * int8-static must leave onnxruntime an unbroken int8 chain: with the ranges shared across Relu,
 * MaxPool and Flatten, the optimized small_cnn runs QLinearConv → int8 MaxPool → QLinearConv → … →
 * QGemm with one QuantizeLinear at the input and one DequantizeLinear at the output, and no
 * requantizing pair in between (a pair there costs a float round trip per activation).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { calibrateRanges } from '../src/engine/jobs/optimize-calibrate.js';
import { quantizeStatic } from '../src/optimize/index.js';
import { readModelFile, writeModel } from '../src/onnx/index.js';
import { Runtime } from '../src/runtime/index.js';
import { FIXTURE_MODELS, tempDir } from './helpers.js';

function images(n: number, seed: number) {
  let s = seed;
  const requests = Array.from({ length: n }, () => [
    {
      name: 'image',
      datatype: 'FP32' as const,
      shape: [1, 3, 32, 32],
      data: Float32Array.from({ length: 3 * 32 * 32 }, () => {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        return (s / 2 ** 32) * 2 - 1;
      }),
    },
  ]);
  return { source: 'calibration', synthetic: false, requests, labels: null };
}

test('int8-static small_cnn: onnxruntime runs it as one int8 chain (one Q in, one DQ out)', async () => {
  const dir = tempDir('qdq-chain');
  const model = readModelFile(join(FIXTURE_MODELS, 'small_cnn.onnx'));
  const runtime = new Runtime();
  let ranges;
  try {
    ranges = await calibrateRanges(runtime, model, images(50, 1), 'minmax', undefined, join(dir, 'cal.onnx'));
  } finally {
    await runtime.close();
  }
  const quantized = quantizeStatic(model, ranges);
  writeFileSync(join(dir, 'q.onnx'), writeModel(quantized.model));
  const optimizedPath = join(dir, 'q.optimized.onnx');
  const session = await ort.InferenceSession.create(join(dir, 'q.onnx'), {
    graphOptimizationLevel: 'all',
    optimizedModelFilePath: optimizedPath,
  });
  await session.release();
  const ops = (readModelFile(optimizedPath).graph?.node ?? []).map((n) => n.opType);
  const count = (op: string) => ops.filter((o) => o === op).length;
  assert.equal(count('QuantizeLinear'), 1, ops.join(' → '));
  assert.equal(count('DequantizeLinear'), 1, ops.join(' → '));
  assert.equal(count('QLinearConv'), 2, ops.join(' → '));
  assert.equal(count('QGemm'), 1, ops.join(' → '));
  assert.equal(count('Relu'), 0, ops.join(' → '));
  assert.equal(ops.at(-1), 'DequantizeLinear');
});
