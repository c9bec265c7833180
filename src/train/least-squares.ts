/**
 * Exact least squares with an intercept: centre the columns and the target, solve the normal
 * equations (XᵀX + αI)·w = Xᵀy by Cholesky, and put the means back into the intercept. α = 0 is
 * ordinary least squares; α > 0 is scikit-learn's Ridge (penalty α‖w‖² on the summed squared error).
 */
import { errors } from '../core/errors.js';

export interface LeastSquaresFit {
  weights: Float64Array;
  intercept: number;
}

/**
 * Solve for `rows` rows of `x` (row-major, `width` columns) and targets `y`.
 * A column that is constant (or collinear with others) gets a tiny ridge so the solve always succeeds;
 * the fitted values are then those of the minimum-norm-like solution.
 */
export function fitLeastSquares(
  x: Float64Array,
  rows: number,
  width: number,
  y: Float64Array,
  alpha: number,
): LeastSquaresFit {
  if (!(alpha >= 0) || !Number.isFinite(alpha))
    throw errors.invalidArgument(`the ridge penalty must be ≥ 0, got ${alpha}`);
  const means = new Float64Array(width);
  let yMean = 0;
  for (let r = 0; r < rows; r++) {
    yMean += y[r] as number;
    for (let c = 0; c < width; c++) means[c] = (means[c] as number) + (x[r * width + c] as number);
  }
  yMean /= rows;
  for (let c = 0; c < width; c++) means[c] = (means[c] as number) / rows;

  const gram = new Float64Array(width * width);
  const rhs = new Float64Array(width);
  const centred = new Float64Array(width);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < width; c++) centred[c] = (x[r * width + c] as number) - (means[c] as number);
    const yc = (y[r] as number) - yMean;
    for (let i = 0; i < width; i++) {
      const xi = centred[i] as number;
      rhs[i] = (rhs[i] as number) + xi * yc;
      const base = i * width;
      for (let j = 0; j <= i; j++) gram[base + j] = (gram[base + j] as number) + xi * (centred[j] as number);
    }
  }
  let largest = 0;
  for (let i = 0; i < width; i++) largest = Math.max(largest, gram[i * width + i] as number);
  // Relative to the largest diagonal, far below what changes a well-posed fit.
  const jitter = Math.max(largest, 1) * 1e-12;
  for (let i = 0; i < width; i++) gram[i * width + i] = (gram[i * width + i] as number) + alpha + jitter;

  const weights = solveCholesky(gram, rhs, width);
  let intercept = yMean;
  for (let c = 0; c < width; c++) intercept -= (means[c] as number) * (weights[c] as number);
  return { weights, intercept };
}

/** Solve A·w = b for a symmetric positive definite A given by its lower triangle (overwritten). */
function solveCholesky(a: Float64Array, b: Float64Array, n: number): Float64Array {
  for (let j = 0; j < n; j++) {
    let diagonal = a[j * n + j] as number;
    for (let k = 0; k < j; k++) diagonal -= (a[j * n + k] as number) ** 2;
    if (!(diagonal > 0))
      throw errors.invalidArgument(
        'the features are too collinear to solve the least-squares problem; use ridge',
      );
    const root = Math.sqrt(diagonal);
    a[j * n + j] = root;
    for (let i = j + 1; i < n; i++) {
      let sum = a[i * n + j] as number;
      for (let k = 0; k < j; k++) sum -= (a[i * n + k] as number) * (a[j * n + k] as number);
      a[i * n + j] = sum / root;
    }
  }
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = b[i] as number;
    for (let k = 0; k < i; k++) sum -= (a[i * n + k] as number) * (z[k] as number);
    z[i] = sum / (a[i * n + i] as number);
  }
  const w = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let sum = z[i] as number;
    for (let k = i + 1; k < n; k++) sum -= (a[k * n + i] as number) * (w[k] as number);
    w[i] = sum / (a[i * n + i] as number);
  }
  return w;
}
