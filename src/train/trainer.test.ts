/**
 * The trainers against scikit-learn on the committed splits (fixtures/train, made by
 * scripts/fixtures/train_reference.py): issue 9's acceptance numbers, plus determinism and bad options.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateModel } from './evaluate.js';
import { dataset, sklearnReference } from './reference-data.case.js';
import { trainModel, type TrainOptions } from './trainer.js';
import { readTrainingCsv } from './training-csv.js';
import { hasCode } from '../core/test-support.test-helper.js';

const reference = sklearnReference.datasets;

const isArgError = (pattern: RegExp) => hasCode('TEND_INVALID_ARGUMENT', pattern);

test('breast_cancer: logistic regression matches scikit-learn (accuracy, and log loss to 1e-4)', () => {
  const { train, test: held } = dataset('breast_cancer');
  const { model, epochs, metrics } = trainModel(train, { model: 'logistic' });
  const scores = evaluateModel(model, held);
  const sk = reference.breast_cancer.logistic as { test_accuracy: number; test_log_loss: number };
  assert.ok(
    (scores.accuracy as number) >= sk.test_accuracy - 0.01,
    `accuracy ${scores.accuracy} vs scikit-learn ${sk.test_accuracy}`,
  );
  // Same objective, both solved to convergence: the same model.
  assert.ok(
    Math.abs((scores.log_loss as number) - sk.test_log_loss) < 1e-4,
    `log loss ${scores.log_loss} vs ${sk.test_log_loss}`,
  );
  assert.equal(metrics.converged, 1);
  assert.ok(
    epochs.length > 1 &&
      (epochs[epochs.length - 1]?.train_loss as number) < (epochs[0]?.train_loss as number),
  );
  // The pinned first logit: row 0 of the weights and its bias stay exactly zero.
  const layer = model.network.layers[0];
  assert.ok(
    layer !== undefined &&
      layer.weights.subarray(0, layer.inputs).every((w) => w === 0) &&
      layer.bias[0] === 0,
  );
  assert.deepEqual(model.classes, ['benign', 'malignant']);
});

for (const name of ['wine', 'iris'] as const) {
  test(`${name}: softmax regression matches scikit-learn's multinomial LogisticRegression`, () => {
    const { train, test: held } = dataset(name);
    const scores = evaluateModel(trainModel(train, { model: 'softmax' }).model, held);
    const sk = reference[name].logistic as { test_accuracy: number; test_log_loss: number };
    assert.ok(
      (scores.accuracy as number) >= sk.test_accuracy - 0.01,
      `accuracy ${scores.accuracy} vs scikit-learn ${sk.test_accuracy}`,
    );
    assert.ok(
      Math.abs((scores.log_loss as number) - sk.test_log_loss) < 1e-4,
      `log loss ${scores.log_loss} vs ${sk.test_log_loss}`,
    );
  });
}

test('digits: the MLP reaches scikit-learn MLPClassifier − 1 pt and ≥ 0.97, early stopping keeps the best epoch', () => {
  const { train, test: held } = dataset('digits');
  const options: TrainOptions = {
    model: 'mlp',
    hidden: [64],
    batchSize: 32,
    learningRate: 3e-3,
    epochs: 40,
    seed: 1,
  };
  const result = trainModel(train, options);
  const scores = evaluateModel(result.model, held);
  const sk = reference.digits.mlp as { test_accuracy: number };
  assert.ok(
    (scores.accuracy as number) >= Math.max(sk.test_accuracy - 0.01, 0.97),
    `accuracy ${scores.accuracy} vs scikit-learn ${sk.test_accuracy}`,
  );
  const best = result.metrics.best_epoch as number;
  assert.ok(best >= 1 && best <= result.epochs.length);
  const losses = result.epochs.map((e) => e.validation_loss as number);
  assert.equal(Math.min(...losses), result.metrics.validation_loss);
  assert.equal(result.epochs[best - 1]?.validation_loss, result.metrics.validation_loss);
  assert.ok((result.metrics.validation_accuracy as number) > 0.9);
  assert.equal(result.model.hyperparameters.validation_fraction, 0.1);
  // Validation rows are held out of the fit: about 10 % of the training side (rounded per class).
  const fitRows = result.model.hyperparameters.train_rows as number;
  assert.ok(Math.abs(fitRows - 0.9 * train.rows) <= 10, `${fitRows} of ${train.rows} rows fitted`);
});

test('diabetes: linear regression R² equals scikit-learn LinearRegression, ridge equals Ridge(alpha=1)', () => {
  const { train, test: held } = dataset('diabetes');
  const linear = evaluateModel(trainModel(train, { model: 'linear' }).model, held);
  const sk = reference.diabetes;
  assert.ok(
    Math.abs((linear.r2 as number) - (sk.linear?.test_r2 as number)) < 0.01,
    `R² ${linear.r2} vs ${sk.linear?.test_r2}`,
  );
  // Float32 weights are the only difference from the exact solution.
  assert.ok(Math.abs((linear.r2 as number) - (sk.linear?.test_r2 as number)) < 1e-5);
  const ridge = evaluateModel(trainModel(train, { model: 'ridge' }).model, held);
  assert.ok(
    Math.abs((ridge.r2 as number) - (sk.ridge?.test_r2 as number)) < 1e-5,
    `ridge R² ${ridge.r2} vs ${sk.ridge?.test_r2}`,
  );
  assert.ok(linear.rmse !== undefined && linear.mae !== undefined && linear.mae <= linear.rmse);
});

test('an MLP regressor (tanh, SGD with momentum) learns diabetes about as well as the linear model', () => {
  const { train, test: held } = dataset('diabetes');
  const result = trainModel(train, {
    model: 'mlp',
    hidden: [16],
    activation: 'tanh',
    optimizer: 'sgd',
    learningRate: 0.01,
    l2: 1e-3,
    epochs: 100,
    batchSize: 16,
    seed: 3,
  });
  const r2 = evaluateModel(result.model, held).r2 as number;
  assert.ok(r2 > 0.3, `R² ${r2}`);
  assert.equal(result.model.network.activation, 'tanh');
  assert.equal(result.model.hyperparameters.momentum, 0.9);
  assert.ok(result.metrics.validation_r2 !== undefined);
  // Losses are MSE in the target's units (progression ~ 25..346, so thousands).
  assert.ok((result.epochs[0]?.train_loss as number) > 1000);
});

test('training is deterministic for a seed and changes with it', () => {
  const { train } = dataset('iris');
  const options: TrainOptions = { model: 'mlp', hidden: [8], epochs: 5, seed: 7 };
  const a = trainModel(train, options).model.network.parameters;
  const b = trainModel(train, options).model.network.parameters;
  const c = trainModel(train, { ...options, seed: 8 }).model.network.parameters;
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  const seen: number[] = [];
  trainModel(train, { ...options, onEpoch: (e) => seen.push(e.epoch) });
  assert.deepEqual(seen, [1, 2, 3, 4, 5]);
});

test('a categorical column is one-hot encoded with the codes seen in training', () => {
  const rows = ['color,size,y'];
  for (let i = 0; i < 60; i++) rows.push(`${i % 3},${(i * 7) % 10},${i % 3 === 1 ? 'b' : 'a'}`);
  const table = readTrainingCsv(rows.join('\n'), 'c.csv', 'y', 'classification');
  const { model } = trainModel(table, { model: 'softmax', categorical: ['color'] });
  assert.deepEqual(model.preprocessing.categorical, [{ column: 'color', index: 0, categories: [0, 1, 2] }]);
  assert.equal(model.network.inputSize, 4);
  assert.equal(evaluateModel(model, table).accuracy, 1);
  // An unknown code encodes as all zeros rather than failing.
  assert.deepEqual([...model.encode(Float64Array.from([7, 2]), 1)].slice(1), [0, 0, 0]);
});

test('bad options and mismatched tasks are TEND_INVALID_ARGUMENT naming the problem', () => {
  const { train } = dataset('iris');
  const diabetes = dataset('diabetes').train;
  assert.throws(
    () => trainModel(train, { model: 'mlp', learningRate: 0 }),
    isArgError(/learningRate must be a positive number, got 0/),
  );
  assert.throws(() => trainModel(train, { model: 'mlp', learningRate: -1 }), isArgError(/learningRate/));
  assert.throws(
    () => trainModel(train, { model: 'logistic' }),
    isArgError(/exactly 2 classes.*has 3; use softmax/),
  );
  assert.throws(() => trainModel(train, { model: 'linear' }), isArgError(/numeric target/));
  assert.throws(() => trainModel(diabetes, { model: 'softmax' }), isArgError(/classifier/));
  assert.throws(
    () => trainModel(train, { model: 'softmax', task: 'regression' }),
    isArgError(/does not match the table/),
  );
  assert.throws(
    () => trainModel(train, { model: 'mlp', epochs: 0 }),
    isArgError(/epochs must be a positive integer/),
  );
  assert.throws(() => trainModel(train, { model: 'mlp', hidden: [0] }), isArgError(/hidden layer width/));
  assert.throws(
    () => trainModel(train, { model: 'mlp', activation: 'sigmoid' as 'relu' }),
    isArgError(/activation must be one of relu, tanh/),
  );
  assert.throws(
    () => trainModel(train, { model: 'mlp', optimizer: 'rmsprop' as 'adam' }),
    isArgError(/optimizer/),
  );
  assert.throws(() => trainModel(train, { model: 'mlp', momentum: 1 }), isArgError(/momentum/));
  assert.throws(
    () => trainModel(train, { model: 'mlp', validationFraction: 1 }),
    isArgError(/validationFraction/),
  );
  assert.throws(() => trainModel(train, { model: 'softmax', l2: -1 }), isArgError(/l2 must be a number ≥ 0/));
  assert.throws(
    () => trainModel(train, { model: 'softmax', categorical: ['colour'] }),
    isArgError(/categorical column 'colour' is not a feature column/),
  );
  assert.throws(
    () => trainModel(train, { model: 'softmax', categorical: ['sepal_length'] }),
    isArgError(/must hold integer codes/),
  );
  assert.throws(() => trainModel(train, { model: 'forest' as 'mlp' }), isArgError(/model must be one of/));
});
