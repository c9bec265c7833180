import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateModel } from './evaluate.js';
import { exportTrainedModel, importTrainedModel } from './onnx-model.js';
import { dataset } from './reference-data.case.js';
import { trainModel } from './trainer.js';
import type { TrainedModel } from './trained-model.js';
import { selectRows, type TrainingTable } from './training-table.js';
import { continueTraining } from './update.js';
import { hasCode } from '../core/test-support.test-helper.js';

const isArgError = (pattern: RegExp) => hasCode('TEND_INVALID_ARGUMENT', pattern);

/** Everything about a model that an update must leave alone, as plain data. */
function fingerprint(model: TrainedModel): unknown {
  return structuredClone({
    parameters: model.network.parameters,
    preprocessing: model.preprocessing,
    hyperparameters: model.hyperparameters,
    classes: model.classes,
    featureColumns: model.featureColumns,
  });
}

function halves(table: TrainingTable): [TrainingTable, TrainingTable] {
  const first = Array.from({ length: Math.floor(table.rows / 2) }, (_, i) => i);
  const second = Array.from({ length: table.rows - first.length }, (_, i) => i + first.length);
  return [selectRows(table, first), selectRows(table, second)];
}

test('every kind and mode returns a new model and never changes its parent', () => {
  const iris = dataset('iris').train;
  const cancer = dataset('breast_cancer').train;
  const diabetes = dataset('diabetes').train;
  const parents: [TrainedModel, TrainingTable][] = [
    [trainModel(diabetes, { model: 'linear' }).model, diabetes],
    [trainModel(diabetes, { model: 'ridge' }).model, diabetes],
    [trainModel(cancer, { model: 'logistic' }).model, cancer],
    [trainModel(iris, { model: 'softmax' }).model, iris],
    [trainModel(iris, { model: 'mlp', hidden: [8], epochs: 5 }).model, iris],
    [trainModel(diabetes, { model: 'mlp', hidden: [8], epochs: 5, optimizer: 'sgd' }).model, diabetes],
  ];
  for (const [parent, table] of parents) {
    for (const mode of ['minibatch', 'batch'] as const) {
      const before = fingerprint(parent);
      const { model, epochs } = continueTraining(parent, table, { mode, epochs: 3 });
      assert.deepEqual(fingerprint(parent), before, `${parent.kind} ${mode} changed its parent`);
      assert.notEqual(model, parent);
      assert.notEqual(model.network.parameters, parent.network.parameters);
      assert.ok(epochs.length >= 1 && Number.isFinite(epochs[0]?.train_loss));
      // The graph input and its standardization stay the parent's.
      assert.deepEqual(model.preprocessing, parent.preprocessing);
      assert.equal(model.kind, parent.kind);
      if (parent.kind === 'logistic') {
        const layer = model.network.layers[0];
        assert.ok(
          layer !== undefined &&
            layer.weights.subarray(0, layer.inputs).every((w) => w === 0) &&
            layer.bias[0] === 0,
        );
      }
    }
  }
});

test('a warm start from the exported version improves on new data, and replayed rows keep the old data learned', () => {
  const { train, test: held } = dataset('digits');
  const [old, fresh] = halves(train);
  const parent = importTrainedModel(
    exportTrainedModel(
      trainModel(old, {
        model: 'mlp',
        hidden: [32],
        epochs: 8,
        batchSize: 32,
        learningRate: 3e-3,
        validationFraction: 0,
      }).model,
    ),
  );
  const start = evaluateModel(parent, held).accuracy as number;
  const updated = continueTraining(parent, fresh, {
    mode: 'minibatch',
    epochs: 5,
    batchSize: 32,
    seed: 2,
  }).model;
  const after = evaluateModel(updated, held).accuracy as number;
  // Trained on half the rows for a few epochs (about 0.94), the update on the other half lifts it (about 0.96).
  assert.ok(after > start + 0.01, `accuracy ${start} → ${after}`);
  const withReplay = continueTraining(parent, fresh, { mode: 'minibatch', epochs: 2, replay: old });
  // One epoch covers both tables: ceil((fresh + old) / min(200, rows)) steps.
  assert.equal(withReplay.epochs.length, 2);
  const batch = continueTraining(parent, fresh, { mode: 'batch', epochs: 5 });
  assert.equal(batch.epochs.length, 5);
});

test('batch mode re-fits a linear model exactly and runs L-BFGS from the parent for softmax', () => {
  const { train, test: held } = dataset('diabetes');
  const [old, fresh] = halves(train);
  const parent = trainModel(old, { model: 'linear' }).model;
  const refit = continueTraining(parent, train, { mode: 'batch' }).model;
  const direct = trainModel(train, { model: 'linear' }).model;
  const a = evaluateModel(refit, held).r2 as number;
  const b = evaluateModel(direct, held).r2 as number;
  // Same least-squares solution; only the (parent's) standardization differs, which changes nothing but rounding.
  assert.ok(Math.abs(a - b) < 1e-4, `${a} vs ${b}`);
  assert.notEqual(
    evaluateModel(continueTraining(parent, fresh, { mode: 'batch' }).model, held).r2,
    evaluateModel(parent, held).r2,
  );
  const iris = dataset('iris');
  const soft = trainModel(iris.train, { model: 'softmax' }).model;
  const again = continueTraining(soft, iris.train, { mode: 'batch' });
  // Already at the optimum: L-BFGS stops at once and the model stays where it was (to float32 rounding).
  assert.ok(again.epochs.length <= 3, `${again.epochs.length} iterations`);
  const delta = Math.max(
    ...again.model.network.parameters.map((p, i) => Math.abs(p - (soft.network.parameters[i] as number))),
  );
  assert.ok(delta < 1e-3, `parameters moved by ${delta}`);
});

test('updates reject tables that do not fit the model and bad options', () => {
  const iris = dataset('iris').train;
  const parent = trainModel(iris, { model: 'softmax' }).model;
  const renamed: TrainingTable = { ...iris, featureColumns: ['a', 'b', 'c', 'd'] };
  assert.throws(
    () => continueTraining(parent, renamed, { mode: 'minibatch' }),
    isArgError(/the update table \(a, b, c, d → species.*does not match the model \(sepal_length/),
  );
  assert.throws(
    () => continueTraining(parent, iris, { mode: 'minibatch', replay: renamed }),
    isArgError(/the replay table/),
  );
  assert.throws(
    () => continueTraining(parent, dataset('diabetes').train, { mode: 'batch' }),
    isArgError(/does not match the model/),
  );
  assert.throws(
    () => continueTraining(parent, iris, { mode: 'minibatch', learningRate: 0 }),
    isArgError(/learningRate must be a positive number/),
  );
  assert.throws(() => continueTraining(parent, iris, { mode: 'minibatch', epochs: 0 }), isArgError(/epochs/));
  assert.throws(
    () => continueTraining(parent, iris, { mode: 'online' as 'batch' }),
    isArgError(/mode must be 'minibatch' or 'batch'/),
  );
});
