import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isTendError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import type { Tensor } from '../core/tensor.js';
import {
  Runtime,
  createDirectSession,
  liveWorkerCount,
  type LoadRequest,
  type SessionSettings,
} from './index.js';
import { tempDir } from '../core/test-support.test-helper.js';

const MODELS = fileURLToPath(new URL('../../fixtures/models/', import.meta.url));
const SETTINGS: SessionSettings = { intraOpThreads: 1, graphOptimizationLevel: 'all' };

/** Deterministic pseudo-random numbers in [0, 1). */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function floats(shape: number[], seed: number): Float32Array {
  const next = random(seed);
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => next() * 2 - 1);
}

interface Fixture {
  file: string;
  batch: (seed: number) => Tensor[];
}

const FIXTURES: Fixture[] = [
  {
    file: 'digits_mlp.onnx',
    batch: (seed) => [{ name: 'pixels', datatype: 'FP32', shape: [5, 64], data: floats([5, 64], seed) }],
  },
  {
    file: 'small_cnn.onnx',
    batch: (seed) => [
      { name: 'image', datatype: 'FP32', shape: [3, 3, 32, 32], data: floats([3, 3, 32, 32], seed) },
    ],
  },
  {
    file: 'tiny_text_encoder.onnx',
    batch: (seed) => {
      const next = random(seed);
      const ids = BigInt64Array.from({ length: 2 * 16 }, () => BigInt(Math.floor(next() * 2000)));
      const mask = BigInt64Array.from({ length: 2 * 16 }, (_, i) => (i % 16 < 12 || i < 16 ? 1n : 0n));
      return [
        { name: 'input_ids', datatype: 'INT64', shape: [2, 16], data: ids },
        { name: 'attention_mask', datatype: 'INT64', shape: [2, 16], data: mask },
      ];
    },
  },
];

function request(file: string, extra: Partial<LoadRequest> = {}): LoadRequest {
  return {
    modelPath: join(MODELS, file),
    label: `${file}:1`,
    instances: 1,
    session: SETTINGS,
    warmup: [],
    ...extra,
  };
}

for (const fixture of FIXTURES) {
  test(`${fixture.file}: worker outputs equal the in-process session's exactly`, async () => {
    const runtime = new Runtime();
    const direct = await createDirectSession(join(MODELS, fixture.file), SETTINGS);
    try {
      const model = await runtime.load(request(fixture.file, { warmup: fixture.batch(99) }));
      assert.deepEqual(model.inputNames, direct.inputNames);
      assert.deepEqual(model.outputNames, direct.outputNames);
      const expected = await direct.run(fixture.batch(7));
      const result = await model.run(fixture.batch(7));
      assert.ok(result.computeNs > 0);
      assert.equal(result.outputs.length, expected.length);
      for (const [i, output] of result.outputs.entries()) {
        const want = expected[i]!;
        assert.equal(output.name, want.name);
        assert.equal(output.datatype, 'FP32');
        assert.deepEqual(output.shape, want.shape);
        assert.ok(output.data instanceof Float32Array);
        assert.deepEqual(output.data, want.data);
      }
    } finally {
      await direct.release();
      await runtime.close();
    }
    assert.equal(liveWorkerCount(), 0);
  });
}

test('inputs are transferred to the worker; views on a larger buffer are copied', async () => {
  const runtime = new Runtime();
  try {
    const model = await runtime.load(request('digits_mlp.onnx'));
    const owned = floats([2, 64], 1);
    await model.run([{ name: 'pixels', datatype: 'FP32', shape: [2, 64], data: owned }]);
    assert.equal(owned.byteLength, 0, 'a whole-buffer input is transferred (detached)');

    const big = floats([4, 64], 2);
    const view = big.subarray(64, 192);
    const viaView = await model.run([{ name: 'pixels', datatype: 'FP32', shape: [2, 64], data: view }]);
    assert.equal(big.length, 256, 'the larger buffer stays with the caller');
    const copy = await model.run([
      { name: 'pixels', datatype: 'FP32', shape: [2, 64], data: big.slice(64, 192) },
    ]);
    assert.deepEqual(viaView.outputs[0]!.data, copy.outputs[0]!.data);
  } finally {
    await runtime.close();
  }
});

test('two instances serve two batches at once, each on its own worker', async () => {
  const runtime = new Runtime();
  try {
    const model = await runtime.load(request('small_cnn.onnx', { instances: 2 }));
    assert.equal(liveWorkerCount(), 2);
    const fixture = FIXTURES[1]!;
    const [a, b] = await Promise.all([model.run(fixture.batch(1)), model.run(fixture.batch(2))]);
    assert.deepEqual([a.instance, b.instance].sort(), [0, 1]);
    // The least busy instance gets the next batch: both idle again, so instance 0.
    assert.equal((await model.run(fixture.batch(3))).instance, 0);
  } finally {
    await runtime.close();
  }
  assert.equal(liveWorkerCount(), 0);
});

test('load fails with TEND_MODEL_LOAD_FAILED for a missing or garbage file, leaving no worker', async () => {
  const dir = tempDir('runtime');
  const runtime = new Runtime();
  try {
    const garbage = join(dir, 'garbage.onnx');
    writeFileSync(garbage, Buffer.from('this is not a protobuf model at all'));
    for (const modelPath of [join(dir, 'missing.onnx'), garbage]) {
      await assert.rejects(
        runtime.load({ ...request('x'), modelPath, label: 'broken:3', instances: 2 }),
        (err: unknown) =>
          isTendError(err) && err.code === 'TEND_MODEL_LOAD_FAILED' && err.message.includes("'broken:3'"),
      );
      assert.equal(liveWorkerCount(), 0);
    }
  } finally {
    await runtime.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a failing warm-up fails the load', async () => {
  const runtime = new Runtime();
  const bad: Tensor = { name: 'pixels', datatype: 'FP32', shape: [1, 3], data: new Float32Array(3) };
  await assert.rejects(
    runtime.load(request('digits_mlp.onnx', { warmup: [bad] })),
    (err: unknown) =>
      isTendError(err) && err.code === 'TEND_MODEL_LOAD_FAILED' && /warm-up/.test(err.message),
  );
  assert.equal(liveWorkerCount(), 0);
  await runtime.close();
});

test('a warm-up that is not required fails with a warning and the model still serves', async () => {
  const warnings: unknown[] = [];
  const logger = {
    ...silentLogger,
    child: () => logger,
    warn: (obj: unknown) => warnings.push(obj),
  } as unknown as Logger;
  const runtime = new Runtime({ logger });
  const bad: Tensor = { name: 'pixels', datatype: 'FP32', shape: [1, 3], data: new Float32Array(3) };
  const model = await runtime.load(request('digits_mlp.onnx', { warmup: [bad], warmupRequired: false }));
  try {
    assert.equal(warnings.length, 1);
    assert.match(JSON.stringify(warnings[0]), /pixels|dimension|shape/i);
    const out = await model.run([
      { name: 'pixels', datatype: 'FP32', shape: [1, 64], data: new Float32Array(64) },
    ]);
    assert.deepEqual(out.outputs[0]?.shape, [1, 10]);
  } finally {
    await runtime.close();
  }
  assert.equal(liveWorkerCount(), 0);
});

test('instances must be a positive integer', async () => {
  const runtime = new Runtime();
  await assert.rejects(runtime.load(request('digits_mlp.onnx', { instances: 0 })), {
    code: 'TEND_INVALID_ARGUMENT',
  });
  assert.equal(liveWorkerCount(), 0);
});

test('unload waits for runs in progress, is idempotent, and leaves no worker', async () => {
  const runtime = new Runtime();
  const model = await runtime.load(request('small_cnn.onnx'));
  const inFlight = model.run(FIXTURES[1]!.batch(5));
  const unloaded = model.unload();
  assert.equal((await inFlight).outputs[0]!.shape[0], 3);
  await Promise.all([unloaded, model.unload()]);
  assert.equal(liveWorkerCount(), 0);
  await assert.rejects(model.run(FIXTURES[1]!.batch(5)), { code: 'TEND_MODEL_NOT_READY' });
  await runtime.close();
});

test('30 load/unload cycles leave no worker behind', async () => {
  const runtime = new Runtime();
  for (let i = 0; i < 30; i++) {
    const model = await runtime.load(request('digits_mlp.onnx'));
    await model.run(FIXTURES[0]!.batch(i));
    await model.unload();
  }
  assert.equal(liveWorkerCount(), 0);
  await runtime.close();
});

test('closing the runtime while a model loads leaves no worker', async () => {
  const runtime = new Runtime();
  const loading = runtime.load(request('digits_mlp.onnx'));
  await runtime.close();
  await assert.rejects(loading, { code: 'TEND_UNAVAILABLE' });
  assert.equal(liveWorkerCount(), 0);
});
