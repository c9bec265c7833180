/**
 * Probability-based quality metrics: ROC AUC (binary and one-vs-rest) and log loss, computed the
 * way scikit-learn 1.2 computes `roc_auc_score` and `log_loss` on float64 input.
 */

/** float64 machine epsilon: sklearn's `log_loss(eps='auto')` clips at it for float64 input. */
const FLOAT64_EPS = Number.EPSILON;

/**
 * ROC AUC of `scores` for "label === positiveLabel" against the rest; null when only one side is
 * present (sklearn raises there). Tied scores form one threshold, so the curve takes a diagonal
 * step through them, exactly like sklearn's trapezoid over distinct thresholds.
 * @example rocAucBinary([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) // 0.75
 */
export function rocAucBinary(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  positiveLabel = 1,
): number | null {
  const n = labels.length;
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  order.sort((a, b) => (scores[b] as number) - (scores[a] as number));
  // Counts stay integers until the last division, so the area is exact up to that one rounding.
  let tp = 0;
  let fp = 0;
  let twiceArea = 0;
  let i = 0;
  while (i < n) {
    const threshold = scores[order[i] as number] as number;
    let stepTp = 0;
    let stepFp = 0;
    while (i < n && scores[order[i] as number] === threshold) {
      if (labels[order[i] as number] === positiveLabel) stepTp++;
      else stepFp++;
      i++;
    }
    twiceArea += stepFp * (2 * tp + stepTp);
    tp += stepTp;
    fp += stepFp;
  }
  if (tp === 0 || fp === 0) return null;
  return twiceArea / (2 * tp * fp);
}

/** True when every row sums to 1 within numpy's `allclose` tolerances (sklearn's OVR check). */
function rowsSumToOne(probabilities: readonly ArrayLike<number>[]): boolean {
  for (const row of probabilities) {
    let sum = 0;
    for (let j = 0; j < row.length; j++) sum += row[j] as number;
    if (!(Math.abs(1 - sum) <= 1e-8 + 1e-5 * Math.abs(sum))) return false;
  }
  return true;
}

/**
 * Macro-averaged one-vs-rest ROC AUC over classes 0..K-1 (sklearn `roc_auc_score(multi_class='ovr',
 * average='macro', labels=range(K))`). Null where sklearn refuses: a class absent from `labels`
 * (its one-vs-rest AUC is undefined) or rows that do not sum to 1.
 */
export function rocAucOvr(
  labels: ArrayLike<number>,
  probabilities: readonly ArrayLike<number>[],
  numClasses: number,
): number | null {
  if (!rowsSumToOne(probabilities)) return null;
  const n = labels.length;
  const column = new Float64Array(n);
  let sum = 0;
  for (let k = 0; k < numClasses; k++) {
    for (let i = 0; i < n; i++) column[i] = (probabilities[i] as ArrayLike<number>)[k] as number;
    const auc = rocAucBinary(labels, column, k);
    if (auc === null) return null;
    sum += auc;
  }
  return sum / numClasses;
}

/**
 * Mean cross-entropy of the true class (sklearn `log_loss(labels=range(K))`, scikit-learn 1.2):
 * each probability is clipped to [eps, 1 - eps] (float64 eps) and each row is then divided by its
 * sum, so rows that do not sum to 1 are renormalised rather than refused. Null for no rows.
 */
export function logLoss(
  labels: ArrayLike<number>,
  probabilities: readonly ArrayLike<number>[],
): number | null {
  const n = labels.length;
  if (n === 0) return null;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const row = probabilities[i] as ArrayLike<number>;
    let rowSum = 0;
    for (let j = 0; j < row.length; j++) rowSum += clip(row[j] as number);
    total -= Math.log(clip(row[labels[i] as number] as number) / rowSum);
  }
  return total / n;
}

function clip(p: number): number {
  return Math.min(Math.max(p, FLOAT64_EPS), 1 - FLOAT64_EPS);
}
