import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { extractModelInfo, readModel } from '../onnx/index.js';
import { exportClassifierToOnnx } from './export.js';
import { MlpClassifier } from './mlp.js';
import { DenseNetwork } from './network.js';
import { Random } from './random.js';
import { standardize, type Standardization } from './standardize.js';
import { hasCode } from '../core/test-support.test-helper.js';

function randomClassifier(sizes: number[], seed: number): MlpClassifier {
  const random = new Random(seed);
  const model = new MlpClassifier(DenseNetwork.initialized(sizes, random));
  for (const layer of model.network.layers)
    for (let i = 0; i < layer.bias.length; i++) layer.bias[i] = random.normal(0, 0.5);
  model.roundToFloat32();
  return model;
}

async function runOnnx(
  bytes: Uint8Array,
  inputName: string,
  x: Float32Array,
  rows: number,
  width: number,
): Promise<ort.InferenceSession.ReturnType> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    return await session.run({ [inputName]: new ort.Tensor('float32', x, [rows, width]) });
  } finally {
    await session.release();
  }
}

test('a two-hidden-layer classifier with standardization runs in onnxruntime as in TypeScript', async () => {
  const model = randomClassifier([5, 7, 6, 4], 1);
  const random = new Random(2);
  const rows = 40;
  const x = Float32Array.from({ length: rows * 5 }, () => random.uniformRange(0, 10));
  const stats: Standardization = {
    mean: Float64Array.from([5, 4, 0.5, 6, 0]),
    std: Float64Array.from([2, 3, 0.25, 1, 0]),
  };
  const bytes = exportClassifierToOnnx(model, {
    classes: ['a', 'b', 'c', 'd'],
    featureCount: 5,
    standardization: stats,
    metadata: { source: 'test' },
  });
  const out = await runOnnx(bytes, 'features', x, rows, 5);
  const guarded = { mean: stats.mean, std: Float64Array.from([2, 3, 0.25, 1, 1]) };
  const expected = model.predictProba(standardize(x, rows, guarded), rows);
  const probabilities = out.probabilities?.data as Float32Array;
  for (let i = 0; i < expected.length; i++)
    assert.ok(Math.abs((probabilities[i] as number) - (expected[i] as number)) <= 1e-5);
  assert.deepEqual([...(out.label?.data as BigInt64Array)].map(Number), [
    ...model.predict(standardize(x, rows, guarded), rows),
  ]);
  const info = extractModelInfo(readModel(bytes));
  assert.deepEqual(info.metadata, { source: 'test', classes: '["a","b","c","d"]' });
  assert.deepEqual(info.opset_import, [{ domain: '', version: 17 }]);
});

test('without standardization and with custom names the graph takes inputs as they are', async () => {
  const model = randomClassifier([3, 4, 2], 3);
  const x = Float32Array.from([0.5, -1, 2, 1, 1, 1]);
  const bytes = exportClassifierToOnnx(model, {
    classes: ['no', 'yes'],
    featureCount: 3,
    inputName: 'x',
    probabilitiesName: 'p',
    labelName: 'y',
  });
  const out = await runOnnx(bytes, 'x', x, 2, 3);
  const expected = model.predictProba(x, 2);
  const p = out.p?.data as Float32Array;
  for (let i = 0; i < expected.length; i++)
    assert.ok(Math.abs((p[i] as number) - (expected[i] as number)) <= 1e-6);
  assert.equal(out.y?.type, 'int64');
  const { signature } = extractModelInfo(readModel(bytes));
  assert.deepEqual(
    signature.inputs.map((s) => [s.name, s.datatype, s.shape]),
    [['x', 'FP32', ['batch', 3]]],
  );
});

test('rejects class names, feature counts and statistics that do not fit the model', () => {
  const model = randomClassifier([3, 4, 2], 3);
  const isArgError = hasCode('TEND_INVALID_ARGUMENT');
  assert.throws(() => exportClassifierToOnnx(model, { classes: ['a'], featureCount: 3 }), isArgError);
  assert.throws(() => exportClassifierToOnnx(model, { classes: ['a', 'b'], featureCount: 4 }), isArgError);
  const stats = { mean: new Float64Array(2), std: new Float64Array(3) };
  assert.throws(
    () => exportClassifierToOnnx(model, { classes: ['a', 'b'], featureCount: 3, standardization: stats }),
    isArgError,
  );
});
