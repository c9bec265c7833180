import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TendError } from '../core/errors.js';
import { evaluateModel, macroF1 } from './evaluate.js';
import { trainModel } from './trainer.js';
import { readTrainingCsv } from './training-csv.js';

test('macro F1 averages over the classes present in labels or predictions (scikit-learn default)', () => {
  // sklearn: f1_score([0, 0, 1, 1, 2], [0, 1, 1, 1, 0], average='macro') = (0.5 + 0.8 + 0) / 3
  assert.ok(
    Math.abs(macroF1(Int32Array.of(0, 0, 1, 1, 2), Int32Array.of(0, 1, 1, 1, 0), 4) - 1.3 / 3) < 1e-12,
  );
  assert.equal(macroF1(Int32Array.of(1, 1), Int32Array.of(1, 1), 3), 1);
});

test('regression scores are R², RMSE and MAE; a table that does not fit the model is refused', () => {
  const table = readTrainingCsv('x,y\n0,1\n1,3\n2,5\n3,7.5\n', 't.csv', 'y', 'regression');
  const model = trainModel(table, { model: 'linear' }).model;
  const scores = evaluateModel(model, table);
  assert.deepEqual(Object.keys(scores), ['r2', 'rmse', 'mae']);
  assert.ok(
    (scores.r2 as number) > 0.99 &&
      (scores.rmse as number) < 0.2 &&
      (scores.mae as number) <= (scores.rmse as number),
  );
  const other = readTrainingCsv('z,y\n0,1\n1,3\n', 'o.csv', 'y', 'regression');
  assert.throws(
    () => evaluateModel(model, other),
    (err: unknown) =>
      err instanceof TendError &&
      err.code === 'TEND_INVALID_ARGUMENT' &&
      /does not fit the model/.test(err.message),
  );
  const classes = readTrainingCsv('x,y\n0,a\n1,b\n', 'c.csv', 'y', 'classification');
  assert.throws(() => model.predictProba(classes.features, 2), /needs a classification model/);
});
