import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accuracy, argmaxRows, MlpClassifier, softmaxRows } from './mlp.js';
import { DenseNetwork } from './network.js';
import { Adam, SgdMomentum } from './optimizer.js';
import { Random } from './random.js';
import { hasCode } from '../core/test-support.test-helper.js';

const isArgError = hasCode('TEND_INVALID_ARGUMENT');

test('analytic gradients match central finite differences (two hidden layers, L2)', () => {
  const random = new Random(11);
  const model = new MlpClassifier(DenseNetwork.initialized([3, 5, 4, 3], random));
  // Non-zero biases so that the bias gradients are tested away from a special point.
  for (const layer of model.network.layers)
    for (let i = 0; i < layer.bias.length; i++) layer.bias[i] = random.uniformRange(-0.3, 0.3);
  const rows = 6;
  const x = Float64Array.from({ length: rows * 3 }, () => random.normal());
  const labels = Int32Array.from([0, 1, 2, 2, 1, 0]);
  const l2 = 0.05;
  const params = model.network.parameters;
  const analytic = new Float64Array(params.length);
  model.lossAndGradient(x, labels, rows, l2, analytic);
  const h = 1e-6;
  let worst = 0;
  for (let i = 0; i < params.length; i++) {
    const saved = params[i] as number;
    params[i] = saved + h;
    const up = model.lossAndGradient(x, labels, rows, l2, new Float64Array(params.length)).loss;
    params[i] = saved - h;
    const down = model.lossAndGradient(x, labels, rows, l2, new Float64Array(params.length)).loss;
    params[i] = saved;
    const numeric = (up - down) / (2 * h);
    const a = analytic[i] as number;
    worst = Math.max(worst, Math.abs(numeric - a) / Math.max(1e-4, Math.abs(numeric) + Math.abs(a)));
  }
  assert.ok(worst < 1e-5, `worst relative gradient error ${worst}`);
  assert.ok(analytic.some((g) => g !== 0));
});

test('softmax rows sum to 1 without overflow; argmax takes the first of ties', () => {
  const p = softmaxRows(Float64Array.from([1000, 1000, 0, -1, 2, 3]), 2, 3);
  assert.ok(Math.abs((p[0] as number) - 0.5) < 1e-12);
  assert.ok(Math.abs((p[3] as number) + (p[4] as number) + (p[5] as number) - 1) < 1e-12);
  assert.deepEqual([...argmaxRows(Float64Array.from([1, 1, 0, 0, 1, 2]), 2, 3)], [0, 2]);
  assert.equal(accuracy(Int32Array.from([1, 2, 3, 4]), Int32Array.from([1, 2, 0, 4])), 0.75);
  assert.throws(() => accuracy(new Int32Array(0), new Int32Array(0)), isArgError);
});

test('Adam and SGD with momentum minimize a quadratic', () => {
  const target = Float64Array.from([3, -2, 0.5]);
  for (const optimizer of [
    new Adam(3, { learningRate: 0.05 }),
    new SgdMomentum(3, { learningRate: 0.05, momentum: 0.9 }),
    new SgdMomentum(3, { learningRate: 0.05, nesterov: true }),
  ]) {
    const p = new Float64Array(3);
    const g = new Float64Array(3);
    for (let step = 0; step < 1000; step++) {
      for (let i = 0; i < 3; i++) g[i] = (p[i] as number) - (target[i] as number);
      optimizer.step(p, g);
    }
    for (let i = 0; i < 3; i++)
      assert.ok(
        Math.abs((p[i] as number) - (target[i] as number)) < 1e-3,
        `${optimizer.constructor.name}: ${[...p]}`,
      );
  }
  assert.throws(() => new Adam(1, { learningRate: 0 }), isArgError);
  assert.throws(() => new SgdMomentum(1, { momentum: 1 }), isArgError);
});

test('fit learns a non-linear problem deterministically and reports the loss per epoch', () => {
  // Four Gaussian blobs, XOR-labelled: no linear model separates them.
  const random = new Random(5);
  const rows = 200;
  const features = new Float64Array(rows * 2);
  const labels = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const a = r % 2;
    const b = (r >> 1) % 2;
    features[2 * r] = (a ? 1 : -1) + random.normal(0, 0.2);
    features[2 * r + 1] = (b ? 1 : -1) + random.normal(0, 0.2);
    labels[r] = a ^ b;
  }
  features.set(Float32Array.from(features)); // exact in float32, so a Float32Array input must give the same model
  const losses: number[] = [];
  const options = { hiddenLayers: [8], epochs: 60, learningRate: 0.02, seed: 3 };
  const model = MlpClassifier.fit(
    { features, labels, rows, classCount: 2 },
    { ...options, onEpoch: (_e, _n, loss) => losses.push(loss) },
  );
  assert.equal(losses.length, 60);
  assert.ok((losses[59] as number) < (losses[0] as number) / 5);
  assert.ok(accuracy(model.predict(features, rows), labels) > 0.97);
  const again = MlpClassifier.fit(
    { features: Float32Array.from(features), labels, rows, classCount: 2 },
    options,
  );
  assert.deepEqual(
    again.network.parameters,
    MlpClassifier.fit({ features, labels, rows, classCount: 2 }, options).network.parameters,
  );
  model.roundToFloat32();
  assert.deepEqual(model.network.parameters, Float64Array.from(Float32Array.from(model.network.parameters)));
});

test('fit and the network reject bad shapes and options', () => {
  const data = { features: new Float64Array(4), labels: Int32Array.from([0, 1]), rows: 2, classCount: 2 };
  assert.throws(() => MlpClassifier.fit({ ...data, labels: Int32Array.from([0, 2]) }, {}), isArgError);
  assert.throws(() => MlpClassifier.fit({ ...data, features: new Float64Array(3) }, {}), isArgError);
  assert.throws(() => MlpClassifier.fit(data, { epochs: 0 }), isArgError);
  assert.throws(() => MlpClassifier.fit(data, { batchSize: 1.5 }), isArgError);
  assert.throws(() => MlpClassifier.fit(data, { l2: -1 }), isArgError);
  assert.throws(() => new DenseNetwork([3]), isArgError);
  assert.throws(() => new DenseNetwork([3, 2], new Float64Array(5)), isArgError);
  assert.throws(() => new DenseNetwork([3, 2]).forward(new Float64Array(5), 2), isArgError);
});
