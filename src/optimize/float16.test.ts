/**
 * fp16 weights: the half conversion against known IEEE-754 bit patterns, and converted models
 * (one built here, the shared encoder and CNN fixtures) that load in onnxruntime with float32
 * inputs and outputs, a smaller file and outputs close to float32.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { extractSignature, GraphBuilder, readModelFile, writeModel } from '../onnx/index.js';
import type { ModelProto } from '../onnx/index.js';
import { floatToHalfBits as float16Bits, halfBitsToFloat as float16Value } from '../core/fp16.js';
import { convertFloat16 } from './float16.js';

const MODELS = new URL('../../fixtures/models/', import.meta.url);

function uniform(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  });
}

async function run(model: ModelProto, feeds: Record<string, ort.Tensor>): Promise<ort.Tensor> {
  const session = await ort.InferenceSession.create(writeModel(model), {
    intraOpNumThreads: 1,
    logSeverityLevel: 3,
  });
  try {
    const out = await session.run(feeds);
    const first = out[session.outputNames[0] ?? ''];
    assert.ok(first);
    return first;
  } finally {
    await session.release();
  }
}

function meanCosine(a: Float32Array, b: Float32Array, width: number): number {
  let sum = 0;
  const rows = a.length / width;
  for (let r = 0; r < rows; r++) {
    let [dot, na, nb] = [0, 0, 0];
    for (let i = r * width; i < (r + 1) * width; i++) {
      dot += (a[i] ?? 0) * (b[i] ?? 0);
      na += (a[i] ?? 0) ** 2;
      nb += (b[i] ?? 0) ** 2;
    }
    sum += dot / Math.sqrt(na * nb);
  }
  return sum / rows;
}

test('float16Bits: exact values, rounding to nearest even, subnormals, overflow', () => {
  const cases: [number, number][] = [
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [-2, 0xc000],
    [0.1, 0x2e66],
    [65504, 0x7bff],
    [65520, 0x7c00], // halfway to the next power: rounds to even = Infinity
    [1e6, 0x7c00],
    [2 ** -24, 0x0001], // smallest subnormal
    [2 ** -26, 0x0000],
    [6.103515625e-5, 0x0400], // smallest normal
    [1 + 2 ** -11, 0x3c00], // tie → even
    [1 + 3 * 2 ** -11, 0x3c02], // tie → even (up)
    [Number.POSITIVE_INFINITY, 0x7c00],
  ];
  for (const [value, bits] of cases) assert.equal(float16Bits(value), bits, `${value}`);
  assert.ok(Number.isNaN(float16Value(float16Bits(Number.NaN))));
  for (const v of [0.1, -3.75, 1234.5, 2 ** -20])
    assert.ok(Math.abs(float16Value(float16Bits(v)) - v) <= Math.abs(v) * 2 ** -11);
});

test('fp16 of a model built here: weights half the bytes, small constants and graph inputs kept float32, same signature', async () => {
  const w = uniform(32 * 16, 3).map((u) => u - 0.5);
  const model = new GraphBuilder('mlp')
    .input('x', 'FP32', ['batch', 32])
    .output('y', 'FP32', ['batch', 16])
    .initializer('w', w, [32, 16])
    .initializer('eps', Float32Array.from([1e-12]), [1])
    .node('MatMul', ['x', 'w'], ['h'])
    .node('Add', ['h', 'eps'], ['y'])
    .build();
  const { model: half, converted, kept } = convertFloat16(model);
  assert.deepEqual(converted, ['w']);
  assert.deepEqual(
    kept.map((k) => k.name),
    ['eps'],
  );
  assert.deepEqual(extractSignature(half.graph!), extractSignature(model.graph!));
  assert.ok(writeModel(half).length < writeModel(model).length * 0.6);
  const x = uniform(4 * 32, 5);
  const feeds = { x: new ort.Tensor('float32', x, [4, 32]) };
  const [a, b] = [await run(model, feeds), await run(half, feeds)];
  assert.equal(b.type, 'float32');
  assert.ok(meanCosine(a.data as Float32Array, b.data as Float32Array, 16) > 0.9999);
  assert.throws(
    () =>
      convertFloat16(
        new GraphBuilder('tiny')
          .input('x', 'FP32', [1])
          .output('y', 'FP32', [1])
          .initializer('b', Float32Array.from([1]), [1])
          .node('Add', ['x', 'b'], ['y'])
          .build(),
      ),
    {
      code: 'TEND_INVALID_MODEL',
      message: /no float32 initializer of 64 elements or more/,
    },
  );
});

test('fp16 of the tiny text encoder and the small CNN: file ≤ 0.52×, mean cosine ≥ 0.999, FP32 in and out', async () => {
  const [batch, seq] = [2, 16];
  const cases = [
    {
      file: 'tiny_text_encoder.onnx',
      width: 128,
      feeds: {
        input_ids: new ort.Tensor(
          'int64',
          BigInt64Array.from(uniform(batch * seq, 7), (u) => BigInt(Math.floor(u * 2000))),
          [batch, seq],
        ),
        attention_mask: new ort.Tensor(
          'int64',
          BigInt64Array.from({ length: batch * seq }, () => 1n),
          [batch, seq],
        ),
      },
    },
    {
      file: 'small_cnn.onnx',
      width: 10,
      feeds: {
        image: new ort.Tensor(
          'float32',
          uniform(4 * 3 * 32 * 32, 11).map((u) => u * 2 - 1),
          [4, 3, 32, 32],
        ),
      },
    },
  ];
  for (const c of cases) {
    const model = readModelFile(new URL(c.file, MODELS).pathname);
    const half = convertFloat16(model).model;
    const ratio = writeModel(half).length / writeModel(model).length;
    assert.ok(ratio <= 0.52, `${c.file}: size ratio ${ratio}`);
    assert.deepEqual(extractSignature(half.graph!), extractSignature(model.graph!));
    const [a, b] = [await run(model, c.feeds), await run(half, c.feeds)];
    assert.equal(b.type, 'float32');
    const cosine = meanCosine(a.data as Float32Array, b.data as Float32Array, c.width);
    assert.ok(cosine >= 0.999, `${c.file}: mean cosine ${cosine}`);
  }
});
