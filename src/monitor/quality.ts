/**
 * Model quality metrics from labelled predictions, matching scikit-learn 1.2 (checked to 1e-9
 * against fixtures/monitor/quality.json, made by scripts/fixtures/quality_metrics.py).
 *
 * Conventions (sklearn's, with zero_division=0):
 * - Classes are indices 0..K-1. Precision / recall / F1 averages run over the sorted union of the
 *   classes seen in labels and predictions (`averageOver: 'observed'`, sklearn's `labels=None`),
 *   or over all K classes (`'all'`, sklearn's `labels=range(K)`: unseen classes count as 0 in
 *   macro averages). A class with no predictions has precision 0, one with no labels recall 0.
 * - Binary metrics (K = 2) score class 1 as the positive class.
 * - ROC AUC, log loss and the confusion matrix always use all K classes (`labels=range(K)`).
 * - A metric that cannot be computed (no rows, missing probabilities, a class absent for AUC,
 *   fewer than two rows for R²) is null; invalid input throws TEND_INVALID_ARGUMENT.
 */
import { errors } from '../core/errors.js';
import { logLoss, rocAucBinary, rocAucOvr } from './quality-ranking.js';

export { logLoss, rocAucBinary, rocAucOvr } from './quality-ranking.js';

/** One labelled classification prediction. */
export interface ClassificationRow {
  /** The true class index, 0..K-1. */
  label: number;
  /** The predicted class index, 0..K-1. */
  predicted: number;
  /** The predicted probability of each class (length K); needed for ROC AUC and log loss. */
  probabilities?: ArrayLike<number> | undefined;
}

/** One labelled regression prediction. */
export interface RegressionRow {
  label: number;
  predicted: number;
}

/** Which classes the precision / recall / F1 averages run over (see the module comment). */
export type AverageOver = 'observed' | 'all';

export interface ClassificationOptions {
  /**
   * K, the model's number of classes. Default: the probability vectors' length, else the largest index seen +
   * 1 (at least 2).
   */
  numClasses?: number;
  /** Default 'observed' (scikit-learn's default). */
  averageOver?: AverageOver;
}

/** Classification metrics as they leave the process (snake_case keys). */
export interface ClassificationMetrics {
  count: number;
  accuracy: number | null;
  precision_macro: number | null;
  recall_macro: number | null;
  f1_macro: number | null;
  precision_micro: number | null;
  recall_micro: number | null;
  f1_micro: number | null;
  precision_weighted: number | null;
  recall_weighted: number | null;
  f1_weighted: number | null;
  /** Present when K = 2 (positive class 1). */
  precision_binary?: number | null;
  recall_binary?: number | null;
  f1_binary?: number | null;
  /** Present when K = 2: AUC of the class-1 probability. */
  roc_auc?: number | null;
  /** Present when K > 2: one-vs-rest, macro-averaged. */
  roc_auc_ovr?: number | null;
  log_loss: number | null;
  /** K × K counts, rows = true class, columns = predicted class. */
  confusion_matrix: number[][];
}

/** Regression metrics as they leave the process (snake_case keys). */
export interface RegressionMetrics {
  count: number;
  mae: number | null;
  rmse: number | null;
  r2: number | null;
  mape: number | null;
}

/** K from the options, or else from the rows; throws on an invalid numClasses. */
export function resolveNumClasses(rows: readonly ClassificationRow[], numClasses?: number): number {
  if (numClasses !== undefined) {
    if (!Number.isInteger(numClasses) || numClasses < 2) {
      throw errors.invalidArgument(`numClasses must be an integer of at least 2, got ${numClasses}`);
    }
    return numClasses;
  }
  const withProbabilities = rows.find((r) => r.probabilities !== undefined);
  if (withProbabilities?.probabilities !== undefined)
    return Math.max(2, withProbabilities.probabilities.length);
  let largest = 1;
  for (const r of rows) {
    if (Number.isInteger(r.label) && r.label > largest) largest = r.label;
    if (Number.isInteger(r.predicted) && r.predicted > largest) largest = r.predicted;
  }
  return largest + 1;
}

/** Throws TEND_INVALID_ARGUMENT unless the row is a valid K-class prediction. */
export function validateClassificationRow(row: ClassificationRow, numClasses: number, index = 0): void {
  for (const field of ['label', 'predicted'] as const) {
    const value = row[field];
    if (!Number.isInteger(value) || value < 0 || value >= numClasses) {
      throw errors.invalidArgument(
        `row ${index}: ${field} ${String(value)} is not a class index in 0..${numClasses - 1}`,
      );
    }
  }
  const p = row.probabilities;
  if (p === undefined) return;
  if (p.length !== numClasses) {
    throw errors.invalidArgument(
      `row ${index}: ${p.length} probabilities for ${numClasses} classes (one per class expected)`,
    );
  }
  for (let j = 0; j < p.length; j++) {
    const v = p[j] as number;
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
      throw errors.invalidArgument(
        `row ${index}: probability of class ${j} is ${String(v)}; probabilities must be numbers in [0, 1]`,
      );
    }
  }
}

/** Throws TEND_INVALID_ARGUMENT unless label and prediction are finite numbers. */
export function validateRegressionRow(row: RegressionRow, index = 0): void {
  for (const field of ['label', 'predicted'] as const) {
    const value = row[field];
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw errors.invalidArgument(`row ${index}: ${field} ${String(value)} is not a finite number`);
    }
  }
}

/** K × K counts of (true, predicted) class pairs; rows = true class. Inputs are trusted. */
export function confusionMatrix(
  labels: ArrayLike<number>,
  predicted: ArrayLike<number>,
  numClasses: number,
): number[][] {
  const matrix = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < labels.length; i++) {
    const row = matrix[labels[i] as number] as number[];
    row[predicted[i] as number]! += 1;
  }
  return matrix;
}

interface Scores {
  precision: number;
  recall: number;
  f1: number;
}

/** sklearn 1.2's per-class division: 0 where a denominator is 0, F1 from precision and recall. */
function scores(tp: number, predictedCount: number, trueCount: number): Scores {
  const precision = predictedCount === 0 ? 0 : tp / predictedCount;
  const recall = trueCount === 0 ? 0 : tp / trueCount;
  const denominator = precision + recall;
  return { precision, recall, f1: denominator === 0 ? 0 : (2 * precision * recall) / denominator };
}

/**
 * Every classification metric for the rows, null where undefined.
 * @example classificationMetrics([{ label: 1, predicted: 1, probabilities: [0.2, 0.8] }], { numClasses: 2 })
 */
export function classificationMetrics(
  rows: readonly ClassificationRow[],
  options: ClassificationOptions = {},
): ClassificationMetrics {
  const k = resolveNumClasses(rows, options.numClasses);
  const averageOver = options.averageOver ?? 'observed';
  if (averageOver !== 'observed' && averageOver !== 'all') {
    throw errors.invalidArgument(`averageOver must be 'observed' or 'all', got '${String(averageOver)}'`);
  }
  const n = rows.length;
  const labels = new Int32Array(n);
  const predicted = new Int32Array(n);
  let probabilities: ArrayLike<number>[] | null = n > 0 ? [] : null;
  for (let i = 0; i < n; i++) {
    const row = rows[i] as ClassificationRow;
    validateClassificationRow(row, k, i);
    labels[i] = row.label;
    predicted[i] = row.predicted;
    // One row without probabilities makes the probability metrics undefined for the whole set.
    if (row.probabilities === undefined) probabilities = null;
    else probabilities?.push(row.probabilities);
  }

  const matrix = confusionMatrix(labels, predicted, k);
  const out: ClassificationMetrics = {
    count: n,
    accuracy: null,
    precision_macro: null,
    recall_macro: null,
    f1_macro: null,
    precision_micro: null,
    recall_micro: null,
    f1_micro: null,
    precision_weighted: null,
    recall_weighted: null,
    f1_weighted: null,
    log_loss: null,
    confusion_matrix: matrix,
  };
  if (k === 2) {
    out.precision_binary = null;
    out.recall_binary = null;
    out.f1_binary = null;
    out.roc_auc = null;
  } else {
    out.roc_auc_ovr = null;
  }
  if (n === 0) return out;

  const tp = new Float64Array(k);
  const trueCount = new Float64Array(k);
  const predictedCount = new Float64Array(k);
  for (let t = 0; t < k; t++) {
    const matrixRow = matrix[t] as number[];
    tp[t] = matrixRow[t] as number;
    for (let p = 0; p < k; p++) {
      trueCount[t]! += matrixRow[p] as number;
      predictedCount[p]! += matrixRow[p] as number;
    }
  }
  const classes: number[] = [];
  for (let c = 0; c < k; c++) {
    if (averageOver === 'all' || trueCount[c]! > 0 || predictedCount[c]! > 0) classes.push(c);
  }

  let correct = 0;
  let macroP = 0;
  let macroR = 0;
  let macroF = 0;
  let weightedP = 0;
  let weightedR = 0;
  let weightedF = 0;
  let microTp = 0;
  let microPredicted = 0;
  let microTrue = 0;
  for (const c of classes) {
    const s = scores(tp[c]!, predictedCount[c]!, trueCount[c]!);
    correct += tp[c]!;
    macroP += s.precision;
    macroR += s.recall;
    macroF += s.f1;
    weightedP += s.precision * trueCount[c]!;
    weightedR += s.recall * trueCount[c]!;
    weightedF += s.f1 * trueCount[c]!;
    microTp += tp[c]!;
    microPredicted += predictedCount[c]!;
    microTrue += trueCount[c]!;
  }
  const micro = scores(microTp, microPredicted, microTrue);
  out.accuracy = correct / n;
  out.precision_macro = macroP / classes.length;
  out.recall_macro = macroR / classes.length;
  out.f1_macro = macroF / classes.length;
  out.precision_micro = micro.precision;
  out.recall_micro = micro.recall;
  out.f1_micro = micro.f1;
  // Every row has a true class among `classes`, so the support weights sum to n > 0.
  out.precision_weighted = weightedP / microTrue;
  out.recall_weighted = weightedR / microTrue;
  out.f1_weighted = weightedF / microTrue;

  if (k === 2) {
    const positive = scores(tp[1]!, predictedCount[1]!, trueCount[1]!);
    out.precision_binary = positive.precision;
    out.recall_binary = positive.recall;
    out.f1_binary = positive.f1;
  }
  if (probabilities !== null) {
    if (k === 2) {
      out.roc_auc = rocAucBinary(
        labels,
        probabilities.map((p) => p[1] as number),
        1,
      );
    } else {
      out.roc_auc_ovr = rocAucOvr(labels, probabilities, k);
    }
    out.log_loss = logLoss(labels, probabilities);
  }
  return out;
}

/**
 * MAE, RMSE, R² and MAPE (sklearn conventions): R² is 1 for perfect predictions and 0 otherwise
 * when y_true is constant, null below two rows; MAPE divides by max(|y_true|, float64 eps), so a
 * zero target with a wrong prediction yields a huge (but finite) value, as in sklearn.
 */
export function regressionMetrics(rows: readonly RegressionRow[]): RegressionMetrics {
  const n = rows.length;
  rows.forEach((row, i) => validateRegressionRow(row, i));
  if (n === 0) return { count: 0, mae: null, rmse: null, r2: null, mape: null };
  let absolute = 0;
  let squared = 0;
  let percentage = 0;
  let labelSum = 0;
  let constant = true;
  const first = (rows[0] as RegressionRow).label;
  for (const { label, predicted } of rows) {
    const error = label - predicted;
    absolute += Math.abs(error);
    squared += error * error;
    percentage += Math.abs(error) / Math.max(Math.abs(label), Number.EPSILON);
    labelSum += label;
    if (label !== first) constant = false;
  }
  return {
    count: n,
    mae: absolute / n,
    rmse: Math.sqrt(squared / n),
    r2: n < 2 ? null : rSquared(rows, labelSum / n, squared, constant),
    mape: percentage / n,
  };
}

function rSquared(rows: readonly RegressionRow[], mean: number, residual: number, constant: boolean): number {
  // A constant y_true is detected exactly rather than through its rounded mean: sklearn's own
  // Σ(y - mean)² can come out as 1e-31 instead of 0 there (e.g. y = 0.1), turning R² into -1e29.
  let total = 0;
  if (!constant) for (const { label } of rows) total += (label - mean) ** 2;
  if (residual === 0) return 1;
  if (total === 0) return 0;
  return 1 - residual / total;
}
