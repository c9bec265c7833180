/**
 * Scores of a trained model on a table, with scikit-learn's definitions: accuracy, log loss
 * (probabilities clipped at 1e-15) and macro F1 over the classes present in the labels or the
 * predictions; R², RMSE and MAE for regression.
 */
import { errors } from '../core/errors.js';
import { PROBABILITY_FLOOR } from './objective.js';
import type { TrainedModel } from './trained-model.js';
import { describeSchema, labelsOf, targetsOf, type TrainingTable } from './training-table.js';

function checkCompatible(model: TrainedModel, table: TrainingTable): void {
  const same = (a: readonly string[] | undefined, b: readonly string[] | undefined) =>
    a === undefined || b === undefined ? a === b : a.length === b.length && a.every((v, i) => v === b[i]);
  if (
    table.task !== model.task ||
    !same(table.featureColumns, model.featureColumns) ||
    !same(table.classes, model.classes)
  ) {
    throw errors.invalidArgument(
      `the table (${describeSchema(table)}) does not fit the model (${describeSchema(model.schema)})`,
    );
  }
  if (table.rows < 1) throw errors.invalidArgument('cannot evaluate on an empty table');
}

/** Macro-averaged F1 over the classes that occur in `labels` or `predicted` (scikit-learn's default). */
export function macroF1(labels: Int32Array, predicted: Int32Array, classCount: number): number {
  const truePositive = new Float64Array(classCount);
  const actual = new Float64Array(classCount);
  const guessed = new Float64Array(classCount);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i] as number;
    const p = predicted[i] as number;
    actual[y] = (actual[y] as number) + 1;
    guessed[p] = (guessed[p] as number) + 1;
    if (y === p) truePositive[y] = (truePositive[y] as number) + 1;
  }
  let sum = 0;
  let present = 0;
  for (let k = 0; k < classCount; k++) {
    const a = actual[k] as number;
    const g = guessed[k] as number;
    if (a === 0 && g === 0) continue;
    present++;
    sum += (2 * (truePositive[k] as number)) / (a + g);
  }
  return present === 0 ? 0 : sum / present;
}

/** Classification: accuracy, log_loss, f1_macro. Regression: r2, rmse, mae. */
export function evaluateModel(model: TrainedModel, table: TrainingTable): Record<string, number> {
  checkCompatible(model, table);
  if (model.task === 'classification') {
    const labels = labelsOf(table);
    const k = model.network.outputSize;
    const probabilities = model.predictProba(table.features, table.rows);
    const predicted = new Int32Array(table.rows);
    let correct = 0;
    let logLoss = 0;
    for (let r = 0; r < table.rows; r++) {
      let best = 0;
      for (let c = 1; c < k; c++)
        if ((probabilities[r * k + c] as number) > (probabilities[r * k + best] as number)) best = c;
      predicted[r] = best;
      const y = labels[r] as number;
      if (best === y) correct++;
      // Clipped and renormalized as scikit-learn's log_loss does.
      let total = 0;
      for (let c = 0; c < k; c++)
        total += Math.min(
          Math.max(probabilities[r * k + c] as number, PROBABILITY_FLOOR),
          1 - PROBABILITY_FLOOR,
        );
      logLoss -= Math.log(
        Math.min(Math.max(probabilities[r * k + y] as number, PROBABILITY_FLOOR), 1 - PROBABILITY_FLOOR) /
          total,
      );
    }
    return {
      accuracy: correct / table.rows,
      log_loss: logLoss / table.rows,
      f1_macro: macroF1(labels, predicted, k),
    };
  }
  const target = targetsOf(table);
  const predicted = model.predictValues(table.features, table.rows);
  let mean = 0;
  for (let r = 0; r < table.rows; r++) mean += target[r] as number;
  mean /= table.rows;
  let squared = 0;
  let absolute = 0;
  let total = 0;
  for (let r = 0; r < table.rows; r++) {
    const e = (predicted[r] as number) - (target[r] as number);
    squared += e * e;
    absolute += Math.abs(e);
    total += ((target[r] as number) - mean) ** 2;
  }
  // scikit-learn's r2_score: 1 for a perfect fit of a constant target, else 0 when the target is constant.
  const r2 = total > 0 ? 1 - squared / total : squared === 0 ? 1 : 0;
  return { r2, rmse: Math.sqrt(squared / table.rows), mae: absolute / table.rows };
}
