/**
 * The onnxruntime training path against the TypeScript trainer: same data, options and seed give
 * the same model up to float32 arithmetic, the same epochs, the same early-stopping decision.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dataset } from '../../train/reference-data.case.js';
import { evaluateModel, trainModel, type TrainOptions, type TrainResult } from '../../train/index.js';
import { trainWithRuntime } from './accelerated-training.js';

/** ‖a − b‖ / ‖b‖ over the parameters. */
function relativeDistance(a: Float64Array, b: Float64Array): number {
  let difference = 0;
  let norm = 0;
  for (let i = 0; i < b.length; i++) {
    difference += ((a[i] as number) - (b[i] as number)) ** 2;
    norm += (b[i] as number) ** 2;
  }
  return Math.sqrt(difference / norm);
}

function largestRelativeGap(a: TrainResult, b: TrainResult, key: 'train_loss' | 'validation_loss'): number {
  return Math.max(
    ...a.epochs.map(
      (e, i) => Math.abs((e[key] as number) - (b.epochs[i]?.[key] as number)) / (e[key] as number),
    ),
  );
}

// float32 rounds each operation to ~6e-8 relative; over a few hundred Adam steps the measured drift
// is ~1e-6 (digits, 5 epochs: 4e-7). 1e-4 leaves room for summation order (MLAS blocks its sums
// differently) without letting a wrong gradient or a shifted batch through: those move the weights by
// 1e-2 and more.
const TOLERANCE = 1e-4;

test('digits: the accelerated MLP matches the TypeScript one (weights, losses, validation, accuracy)', async () => {
  const { train, test: held } = dataset('digits');
  // 37 rows per batch leave a short last batch (fit rows are not a multiple of 37).
  const options: TrainOptions = {
    model: 'mlp',
    hidden: [32],
    batchSize: 37,
    learningRate: 3e-3,
    epochs: 5,
    seed: 5,
  };
  const reference = trainModel(train, options);
  const seen: number[] = [];
  const accelerated = await trainWithRuntime(train, { ...options, onEpoch: (e) => seen.push(e.epoch) });
  assert.notEqual((reference.model.hyperparameters.train_rows as number) % 37, 0);
  assert.deepEqual(seen, [1, 2, 3, 4, 5]);
  assert.ok(
    relativeDistance(accelerated.model.network.parameters, reference.model.network.parameters) < TOLERANCE,
  );
  assert.ok(largestRelativeGap(accelerated, reference, 'train_loss') < TOLERANCE);
  assert.ok(largestRelativeGap(accelerated, reference, 'validation_loss') < TOLERANCE);
  assert.deepEqual(
    accelerated.epochs.map((e) => e.validation_metric),
    reference.epochs.map((e) => e.validation_metric),
  );
  assert.deepEqual(Object.keys(accelerated.metrics).sort(), Object.keys(reference.metrics).sort());
  assert.deepEqual(accelerated.model.hyperparameters, reference.model.hyperparameters);
  const a = evaluateModel(accelerated.model, held).accuracy as number;
  const r = evaluateModel(reference.model, held).accuracy as number;
  assert.ok(Math.abs(a - r) <= 0.01, `accuracy ${a} vs ${r}`);
});

test('diabetes: a two-layer tanh regressor matches, early stopping included', async () => {
  const { train, test: held } = dataset('diabetes');
  const options: TrainOptions = {
    model: 'mlp',
    hidden: [16, 8],
    activation: 'tanh',
    batchSize: 32,
    learningRate: 0.01,
    l2: 1e-3,
    epochs: 80,
    earlyStoppingPatience: 3,
    seed: 2,
  };
  const reference = trainModel(train, options);
  const accelerated = await trainWithRuntime(train, options);
  assert.equal(accelerated.epochs.length, reference.epochs.length);
  assert.equal(accelerated.stoppedEarly, reference.stoppedEarly);
  assert.equal(accelerated.metrics.best_epoch, reference.metrics.best_epoch);
  assert.ok(
    relativeDistance(accelerated.model.network.parameters, reference.model.network.parameters) < TOLERANCE,
  );
  assert.ok(
    Math.abs((accelerated.metrics.validation_r2 as number) - (reference.metrics.validation_r2 as number)) <
      TOLERANCE,
  );
  const a = evaluateModel(accelerated.model, held).r2 as number;
  const r = evaluateModel(reference.model, held).r2 as number;
  assert.ok(Math.abs(a - r) < TOLERANCE, `R² ${a} vs ${r}`);
});

test('other kinds and SGD train in TypeScript: exactly trainModel', async () => {
  const { train } = dataset('iris');
  for (const options of [
    { model: 'softmax' },
    { model: 'mlp', optimizer: 'sgd', hidden: [4], epochs: 3 },
  ] satisfies TrainOptions[]) {
    const accelerated = await trainWithRuntime(train, options);
    assert.deepEqual(
      accelerated.model.network.parameters,
      trainModel(train, options).model.network.parameters,
    );
  }
});
