import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTendError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { Runtime, crashWorkerForTest, liveWorkerCount } from './index.js';
import { digits, pixels, runWhenReady } from './runtime-fixtures.test-helper.js';
import { hasCode } from '../core/test-support.test-helper.js';

// The crash hooks are fault injection: allowed only with this set (workers inherit it).
process.env.TEND_FAULT_INJECTION = '1';

test('an onnxruntime run error fails that run with TEND_INFERENCE_FAILED and the worker keeps serving', async () => {
  const runtime = new Runtime();
  try {
    const model = await runtime.load(digits());
    const wrongShape: Tensor[] = [
      { name: 'pixels', datatype: 'FP32', shape: [1, 3], data: new Float32Array(3) },
    ];
    await assert.rejects(
      model.run(wrongShape),
      hasCode('TEND_INFERENCE_FAILED', /digits:1.*(dimension|Got)/i),
    );
    const wrongName: Tensor[] = [
      { name: 'image', datatype: 'FP32', shape: [1, 64], data: new Float32Array(64) },
    ];
    await assert.rejects(model.run(wrongName), hasCode('TEND_INFERENCE_FAILED', /pixels/));
    const wrongType: Tensor[] = [
      { name: 'pixels', datatype: 'FP64', shape: [1, 64], data: new Float64Array(64) },
    ];
    await assert.rejects(model.run(wrongType), hasCode('TEND_INFERENCE_FAILED', /tensor\(double\)/));
    const tooShort: Tensor[] = [
      { name: 'pixels', datatype: 'FP32', shape: [2, 64], data: new Float32Array(64) },
    ];
    await assert.rejects(model.run(tooShort), hasCode('TEND_INFERENCE_FAILED'));
    assert.deepEqual((await model.run(pixels())).outputs[0]!.shape, [2, 10]);
    assert.equal(liveWorkerCount(), 1, 'no worker was replaced');
  } finally {
    await runtime.close();
  }
});

test('an input whose buffer is already detached is refused with TEND_INVALID_INPUT', async () => {
  const runtime = new Runtime();
  try {
    const model = await runtime.load(digits());
    const batch = pixels();
    await model.run(batch);
    await assert.rejects(model.run(batch), hasCode('TEND_INVALID_INPUT', /detached/));
    await model.run(pixels());
  } finally {
    await runtime.close();
  }
});

for (const mode of ['exit', 'throw', 'terminate'] as const) {
  test(`a worker that dies (${mode}) fails its in-flight run with TEND_WORKER_FAILED; a new worker serves the next`, async () => {
    const runtime = new Runtime();
    try {
      const model = await runtime.load(digits());
      const other = await runtime.load(digits('other:1'));
      // Ask for the crash first so the run is certainly still queued in the dying worker.
      crashWorkerForTest(model, mode);
      const doomed = model.run(pixels());
      const unaffected = other.run(pixels());
      await assert.rejects(
        doomed,
        hasCode('TEND_WORKER_FAILED', /^worker for digits:1 exited \(code \d+\); request failed$/),
      );
      assert.deepEqual((await unaffected).outputs[0]!.shape, [2, 10]);
      const next = await model.run(pixels(3));
      assert.deepEqual(next.outputs[0]!.shape, [3, 10]);
      assert.equal(liveWorkerCount(), 2);
    } finally {
      await runtime.close();
    }
    assert.equal(liveWorkerCount(), 0);
  });
}

test('repeated failures back off: the model answers TEND_MODEL_NOT_READY, then recovers', async () => {
  const runtime = new Runtime();
  try {
    const model = await runtime.load(digits());
    crashWorkerForTest(model, 'exit');
    await assert.rejects(model.run(pixels()), hasCode('TEND_WORKER_FAILED'));
    // The replacement is loading; killing it too, with no successful run between, starts the backoff.
    crashWorkerForTest(model, 'exit');
    await assert.rejects(model.run(pixels()), hasCode('TEND_WORKER_FAILED'));
    await assert.rejects(model.run(pixels()), (err: unknown) => {
      hasCode('TEND_MODEL_NOT_READY', /restarting/)(err);
      assert.ok(isTendError(err) && (err.retryAfterSeconds ?? 0) >= 1);
      return true;
    });
    assert.equal(liveWorkerCount(), 0);
    const recovered = await runWhenReady(model, pixels);
    assert.deepEqual(recovered.outputs[0]!.shape, [2, 10]);
  } finally {
    await runtime.close();
  }
  assert.equal(liveWorkerCount(), 0);
});

test('unloading during a restart backoff ends cleanly', async () => {
  const runtime = new Runtime();
  const model = await runtime.load(digits());
  crashWorkerForTest(model, 'exit');
  await assert.rejects(model.run(pixels()), hasCode('TEND_WORKER_FAILED'));
  crashWorkerForTest(model, 'exit');
  await assert.rejects(model.run(pixels()), hasCode('TEND_WORKER_FAILED'));
  await model.unload();
  assert.equal(liveWorkerCount(), 0);
  await runtime.close();
  await assert.rejects(runtime.load(digits()), { code: 'TEND_UNAVAILABLE' });
});
