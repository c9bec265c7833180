import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { TendError } from '../core/errors.js';
import { extractModelInfo, readModel } from '../onnx/index.js';
import { digitsCsvPath, trainDigitsModel } from './digits.js';
import { argmaxRows } from './mlp.js';
import { importTrainedModel } from './onnx-model.js';
import { tempDir } from '../core/test-support.test-helper.js';

// Trained once for the whole file: the default demo model.
const result = trainDigitsModel();
const classes = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

test('the demo model reaches at least 0.97 accuracy on the held-out rows', () => {
  const { metrics, testSet } = result;
  assert.ok(metrics.test_accuracy >= 0.97, `test accuracy ${metrics.test_accuracy}`);
  assert.ok(metrics.train_accuracy >= metrics.test_accuracy);
  assert.equal(metrics.train_rows + metrics.test_rows, 1797);
  assert.equal(metrics.test_rows, testSet.rows);
  assert.equal(testSet.features.length, testSet.rows * 64);
  assert.equal(testSet.labels.length, testSet.rows);
  assert.ok(
    testSet.features.every((v) => Number.isInteger(v) && v >= 0 && v <= 16),
    'test features are raw pixels',
  );
  assert.deepEqual(result.classes, classes);
  const predicted = argmaxRows(result.predictProba(testSet.features, testSet.rows), testSet.rows, 10);
  const correct = predicted.filter((p, i) => p === testSet.labels[i]).length;
  assert.equal(correct / testSet.rows, metrics.test_accuracy);
});

test('onnxruntime computes what the TypeScript model computes on every test row', async () => {
  const { testSet } = result;
  const session = await ort.InferenceSession.create(result.model);
  try {
    assert.deepEqual(session.inputNames, ['features']);
    assert.deepEqual(session.outputNames, ['probabilities', 'label']);
    const shapes = [...session.inputMetadata, ...session.outputMetadata].map((m) =>
      m.isTensor ? [m.name, m.type, [...m.shape]] : [m.name],
    );
    assert.deepEqual(shapes, [
      ['features', 'float32', ['batch', 64]],
      ['probabilities', 'float32', ['batch', 10]],
      ['label', 'int64', ['batch']],
    ]);
    const out = await session.run({
      features: new ort.Tensor('float32', testSet.features, [testSet.rows, 64]),
    });
    const probabilities = out.probabilities?.data as Float32Array;
    const labels = out.label?.data as BigInt64Array;
    const expected = result.predictProba(testSet.features, testSet.rows);
    let maxDiff = 0;
    for (let i = 0; i < expected.length; i++)
      maxDiff = Math.max(maxDiff, Math.abs((probabilities[i] as number) - (expected[i] as number)));
    assert.ok(maxDiff <= 1e-5, `max probability difference ${maxDiff}`);
    const ortArgmax = argmaxRows(probabilities, testSet.rows, 10);
    assert.deepEqual([...ortArgmax], [...argmaxRows(expected, testSet.rows, 10)]);
    assert.deepEqual([...labels].map(Number), [...ortArgmax]);
  } finally {
    await session.release();
  }
});

test('the model file declares its signature and class names', () => {
  const info = extractModelInfo(readModel(result.model));
  assert.deepEqual(JSON.parse(info.metadata.classes ?? 'null'), classes);
  assert.deepEqual(
    [...info.signature.inputs, ...info.signature.outputs].map((s) => [s.name, s.datatype, s.shape]),
    [
      ['features', 'FP32', ['batch', 64]],
      ['probabilities', 'FP32', ['batch', 10]],
      ['label', 'INT64', ['batch']],
    ],
  );
});

test('the same seed gives identical model bytes; another seed does not', () => {
  const losses: number[] = [];
  const a = trainDigitsModel({
    seed: 5,
    epochs: 2,
    onProgress: (epoch, epochs, loss) => losses.push(epoch, epochs, loss),
  });
  const b = trainDigitsModel({ seed: 5, epochs: 2 });
  const c = trainDigitsModel({ seed: 6, epochs: 2 });
  assert.deepEqual(a.model, b.model);
  assert.notDeepEqual(a.model, c.model);
  assert.deepEqual(a.metrics, b.metrics);
  assert.equal(losses.length, 6);
  assert.deepEqual([losses[0], losses[1], losses[3], losses[4]], [1, 2, 2, 2]);
  assert.ok((losses[5] as number) < (losses[2] as number));
});

test('the bundled data set is found, and a bad csvPath fails clearly', () => {
  assert.ok(existsSync(digitsCsvPath()));
  assert.throws(
    () => trainDigitsModel({ csvPath: '/nonexistent/digits.csv' }),
    (err: unknown) => err instanceof TendError && err.code === 'TEND_NOT_FOUND',
  );
  const dir = tempDir('digits');
  try {
    const path = join(dir, 'no-target.csv');
    writeFileSync(path, 'a,b\n1,2\n3,4\n');
    assert.throws(
      () => trainDigitsModel({ csvPath: path }),
      (err: unknown) =>
        err instanceof TendError && err.code === 'TEND_INVALID_ARGUMENT' && /'digit'/.test(err.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the demo model reads back as a trained MLP, so it can be updated like any trained version', () => {
  const model = importTrainedModel(result.model);
  assert.equal(model.kind, 'mlp');
  assert.equal(model.targetColumn, 'digit');
  assert.deepEqual(model.classes, classes);
  assert.deepEqual(model.featureColumns, result.trainSet.columns);
  assert.deepEqual(model.network.sizes, [64, 32, 10]);
  const { testSet } = result;
  const expected = result.predictProba(testSet.features, testSet.rows);
  const got = model.predictProba(testSet.features, testSet.rows);
  for (let i = 0; i < expected.length; i++)
    assert.ok(Math.abs((got[i] as number) - (expected[i] as number)) < 1e-12);
});
