import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { isTendError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { Runtime, crashWorkerForTest, liveProcessIds, liveWorkerCount, type InstanceGroup } from './index.js';
import { MODELS, digits, pixels, processExists, runWhenReady } from './runtime-fixtures.test-helper.js';
import { hasCode } from '../core/test-support.test-helper.js';

process.env.TEND_FAULT_INJECTION = '1';

const PROCESS: InstanceGroup[] = [{ count: 1, isolation: 'process' }];

function encoderInputs(): Tensor[] {
  const ids = BigInt64Array.from({ length: 2 * 16 }, (_, i) => BigInt((i * 37) % 2000));
  const mask = BigInt64Array.from({ length: 2 * 16 }, (_, i) => (i % 16 < 12 ? 1n : 0n));
  return [
    { name: 'input_ids', datatype: 'INT64', shape: [2, 16], data: ids },
    { name: 'attention_mask', datatype: 'INT64', shape: [2, 16], data: mask },
  ];
}

test('a process instance answers exactly what a thread instance answers', async () => {
  const runtime = new Runtime();
  try {
    for (const [file, inputs] of [
      ['digits_mlp.onnx', () => pixels(3)],
      ['tiny_text_encoder.onnx', encoderInputs],
    ] as const) {
      const base = { ...digits(), modelPath: join(MODELS, file), label: `${file}:1` };
      const threaded = await runtime.load({ ...base, warmup: inputs() });
      const isolated = await runtime.load({ ...base, groups: PROCESS, warmup: inputs() });
      assert.deepEqual(isolated.inputNames, threaded.inputNames);
      assert.deepEqual(isolated.outputNames, threaded.outputNames);
      const want = await threaded.run(inputs());
      const got = await isolated.run(inputs());
      assert.ok(got.computeNs > 0);
      assert.deepEqual(got.outputs, want.outputs);
      assert.ok(got.outputs[0]!.data instanceof Float32Array);
    }
    assert.equal(liveProcessIds().length, 2);
  } finally {
    await runtime.close();
  }
  assert.equal(liveWorkerCount(), 0);
});

test('a process instance copies its inputs: the caller keeps its buffers; a detached input is refused', async () => {
  const runtime = new Runtime();
  try {
    const model = await runtime.load(digits('digits:1', PROCESS));
    const batch = pixels();
    await model.run(batch);
    assert.equal(batch[0]!.data.length, 128, 'not detached');
    const detached = new Float32Array(128);
    structuredClone(detached.buffer, { transfer: [detached.buffer] });
    await assert.rejects(
      model.run([{ name: 'pixels', datatype: 'FP32', shape: [2, 64], data: detached }]),
      hasCode('TEND_INVALID_INPUT', /detached/),
    );
    const wrongShape: Tensor[] = [
      { name: 'pixels', datatype: 'FP32', shape: [1, 3], data: new Float32Array(3) },
    ];
    await assert.rejects(model.run(wrongShape), hasCode('TEND_INFERENCE_FAILED', /digits:1/));
    assert.deepEqual((await model.run(pixels(1))).outputs[0]!.shape, [1, 10]);
  } finally {
    await runtime.close();
  }
});

test('instance groups mix threads and processes; indexes count across groups', async () => {
  const runtime = new Runtime();
  try {
    const model = await runtime.load(
      digits('mixed:1', [
        { count: 1, isolation: 'thread' },
        { count: 2, isolation: 'process', hangTimeoutMs: 10_000, memoryLimitMb: 4096 },
      ]),
    );
    assert.equal(liveWorkerCount(), 3);
    assert.equal(liveProcessIds().length, 2);
    const results = await Promise.all([1, 2, 3].map((rows) => model.run(pixels(rows))));
    assert.deepEqual(results.map((r) => r.instance).sort(), [0, 1, 2]);
    // Every row of the inputs is the same, so row 0 of each answer is too, wherever it ran.
    const firstRow = (data: unknown) => (data as Float32Array).subarray(0, 10);
    assert.deepEqual(firstRow(results[2]!.outputs[0]!.data), firstRow(results[0]!.outputs[0]!.data));
  } finally {
    await runtime.close();
  }
});

test('bad instance groups are refused with TEND_INVALID_ARGUMENT, starting nothing', async () => {
  const runtime = new Runtime();
  const cases: InstanceGroup[][] = [
    [],
    [{ count: 0, isolation: 'process' }],
    [{ count: 1.5, isolation: 'thread' }],
    [{ count: 1, isolation: 'process', hangTimeoutMs: 0 }],
    [{ count: 1, isolation: 'process', memoryLimitMb: -1 }],
  ];
  for (const groups of cases) {
    await assert.rejects(runtime.load(digits('bad:1', groups)), hasCode('TEND_INVALID_ARGUMENT'));
  }
  const { instances: _unused, ...withoutInstances } = digits();
  await assert.rejects(runtime.load(withoutInstances), hasCode('TEND_INVALID_ARGUMENT', /instances/));
  assert.equal(liveWorkerCount(), 0);
  await runtime.close();
});

for (const [mode, ending] of [
  ['exit', /\(process \d+\) exited with code 70/],
  ['throw', /\(process \d+\) exited with code 1/],
  ['terminate', /\(process \d+\) died from signal SIGKILL/],
] as const) {
  test(`a child that dies (${mode}) fails its in-flight run with TEND_WORKER_FAILED naming how; a new child serves the next`, async () => {
    const runtime = new Runtime();
    try {
      const model = await runtime.load(digits('digits:1', PROCESS));
      const [pid] = liveProcessIds();
      crashWorkerForTest(model, mode);
      const doomed = model.run(pixels());
      await assert.rejects(
        doomed,
        hasCode(
          'TEND_WORKER_FAILED',
          new RegExp(`^model 'digits:1' instance 0 ${ending.source}; request failed$`),
        ),
      );
      assert.deepEqual((await model.run(pixels(3))).outputs[0]!.shape, [3, 10]);
      assert.notDeepEqual(liveProcessIds(), [pid]);
      assert.equal(processExists(pid!), false);
    } finally {
      await runtime.close();
    }
  });
}

test('a process instance failing again before any success backs off (TEND_MODEL_NOT_READY), then recovers', async () => {
  const runtime = new Runtime();
  try {
    const model = await runtime.load(digits('digits:1', PROCESS));
    crashWorkerForTest(model, 'exit');
    await assert.rejects(model.run(pixels()), hasCode('TEND_WORKER_FAILED'));
    crashWorkerForTest(model, 'exit');
    await assert.rejects(model.run(pixels()), hasCode('TEND_WORKER_FAILED'));
    await assert.rejects(model.run(pixels()), (err: unknown) => {
      hasCode('TEND_MODEL_NOT_READY', /restarting/)(err);
      assert.ok(isTendError(err) && (err.retryAfterSeconds ?? 0) >= 1);
      return true;
    });
    assert.deepEqual(liveProcessIds(), []);
    assert.deepEqual((await runWhenReady(model, pixels)).outputs[0]!.shape, [2, 10]);
  } finally {
    await runtime.close();
  }
});

test('unload waits for queued runs and ends the children; close ends the rest: no process is left', async () => {
  const runtime = new Runtime();
  const first = await runtime.load(digits('first:1', [{ count: 2, isolation: 'process' }]));
  const second = await runtime.load(digits('second:1', PROCESS));
  const pids = liveProcessIds();
  assert.equal(pids.length, 3);
  assert.ok(pids.every(processExists));
  const queued = [first.run(pixels()), first.run(pixels(4))];
  const unloaded = first.unload();
  assert.deepEqual(
    (await Promise.all(queued)).map((r) => r.outputs[0]!.shape[0]),
    [2, 4],
  );
  await Promise.all([unloaded, first.unload()]);
  await assert.rejects(first.run(pixels()), hasCode('TEND_MODEL_NOT_READY'));
  assert.equal(liveProcessIds().length, 1);
  await second.run(pixels());
  await runtime.close();
  assert.deepEqual(liveProcessIds(), []);
  assert.deepEqual(pids.filter(processExists), [], 'every child has exited and been reaped');
});

test('closing the runtime while a process model loads leaves no process', async () => {
  const runtime = new Runtime();
  const loading = runtime.load(digits('digits:1', PROCESS));
  await runtime.close();
  await assert.rejects(loading, hasCode('TEND_UNAVAILABLE'));
  assert.deepEqual(liveProcessIds(), []);
});

test('a missing model file fails a process load with TEND_MODEL_LOAD_FAILED and ends the child', async () => {
  const runtime = new Runtime();
  await assert.rejects(
    runtime.load({ ...digits('missing:2', PROCESS), modelPath: join(MODELS, 'no-such-model.onnx') }),
    hasCode('TEND_MODEL_LOAD_FAILED', /'missing:2'/),
  );
  assert.deepEqual(liveProcessIds(), []);
  await runtime.close();
});
