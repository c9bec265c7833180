/**
 * The small dense solves behind the explainers: weighted least squares (KernelSHAP's regression,
 * LIME's ridge) reduce to a symmetric positive (semi)definite system A·X = B with a few right-hand
 * sides, at most a thousand unknowns. Gaussian elimination with partial pivoting in float64 does it.
 */

/**
 * Solve A·X = B in place of copies: A is n×n row-major, B n×k row-major; returns X (n×k), or null
 * when A is singular (a pivot below `tolerance` times the largest diagonal entry).
 */
export function solveLinear(
  a: Float64Array,
  b: Float64Array,
  n: number,
  k: number,
  tolerance = 1e-12,
): Float64Array | null {
  const m = Float64Array.from(a);
  const x = Float64Array.from(b);
  let scale = 0;
  for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs(m[i * n + i] as number));
  if (scale === 0) return n === 0 ? x : null;
  for (let col = 0; col < n; col++) {
    let pivot = col;
    let best = Math.abs(m[col * n + col] as number);
    for (let r = col + 1; r < n; r++) {
      const v = Math.abs(m[r * n + col] as number);
      if (v > best) {
        best = v;
        pivot = r;
      }
    }
    if (best <= tolerance * scale) return null;
    if (pivot !== col) {
      swapRows(m, n, pivot, col);
      swapRows(x, k, pivot, col);
    }
    const p = m[col * n + col] as number;
    for (let r = col + 1; r < n; r++) {
      const f = (m[r * n + col] as number) / p;
      if (f === 0) continue;
      for (let c = col; c < n; c++) m[r * n + c] = (m[r * n + c] as number) - f * (m[col * n + c] as number);
      for (let c = 0; c < k; c++) x[r * k + c] = (x[r * k + c] as number) - f * (x[col * k + c] as number);
    }
  }
  for (let row = n - 1; row >= 0; row--) {
    const p = m[row * n + row] as number;
    for (let c = 0; c < k; c++) {
      let s = x[row * k + c] as number;
      for (let j = row + 1; j < n; j++) s -= (m[row * n + j] as number) * (x[j * k + c] as number);
      x[row * k + c] = s / p;
    }
  }
  return x;
}

function swapRows(m: Float64Array, width: number, i: number, j: number): void {
  for (let c = 0; c < width; c++) {
    const t = m[i * width + c] as number;
    m[i * width + c] = m[j * width + c] as number;
    m[j * width + c] = t;
  }
}

/**
 * Weighted least squares: minimise Σ w_i (y_i − x_i·β − c)² + ridge·|β|² over β (p) and, with
 * `intercept`, c. X is n×p row-major, Y n×k (k targets share one factorisation). A singular system
 * gets a tiny ridge (1e-10 of the mean diagonal) so that collinear columns share their weight.
 */
export function weightedLeastSquares(
  x: Float64Array,
  y: Float64Array,
  weights: Float64Array,
  n: number,
  p: number,
  k: number,
  options: { ridge?: number; intercept?: boolean } = {},
): { coefficients: Float64Array; intercepts: Float64Array } {
  const ridge = options.ridge ?? 0;
  const intercept = options.intercept ?? false;
  let wsum = 0;
  for (let i = 0; i < n; i++) wsum += weights[i] as number;
  const xMean = new Float64Array(p);
  const yMean = new Float64Array(k);
  if (intercept && wsum > 0) {
    for (let i = 0; i < n; i++) {
      const w = weights[i] as number;
      for (let j = 0; j < p; j++) xMean[j] = (xMean[j] as number) + w * (x[i * p + j] as number);
      for (let c = 0; c < k; c++) yMean[c] = (yMean[c] as number) + w * (y[i * k + c] as number);
    }
    for (let j = 0; j < p; j++) xMean[j] = (xMean[j] as number) / wsum;
    for (let c = 0; c < k; c++) yMean[c] = (yMean[c] as number) / wsum;
  }
  const a = new Float64Array(p * p);
  const b = new Float64Array(p * k);
  const row = new Float64Array(p);
  // Only the non-zero entries of a row take part: KernelSHAP's rows are mostly zeros.
  const nonZero = new Int32Array(p);
  for (let i = 0; i < n; i++) {
    const w = weights[i] as number;
    if (w === 0) continue;
    let count = 0;
    for (let j = 0; j < p; j++) {
      const v = (x[i * p + j] as number) - (xMean[j] as number);
      row[j] = v;
      if (v !== 0) nonZero[count++] = j;
    }
    for (let u = 0; u < count; u++) {
      const j = nonZero[u] as number;
      const wr = w * (row[j] as number);
      const base = j * p;
      for (let q = u; q < count; q++) {
        const l = nonZero[q] as number;
        a[base + l] = (a[base + l] as number) + wr * (row[l] as number);
      }
      for (let c = 0; c < k; c++)
        b[j * k + c] = (b[j * k + c] as number) + wr * ((y[i * k + c] as number) - (yMean[c] as number));
    }
  }
  let trace = 0;
  for (let j = 0; j < p; j++) {
    for (let l = 0; l < j; l++) a[j * p + l] = a[l * p + j] as number;
    a[j * p + j] = (a[j * p + j] as number) + ridge;
    trace += a[j * p + j] as number;
  }
  let solved = solveLinear(a, b, p, k);
  if (solved === null) {
    const jitter = Math.max(1e-10 * (trace / Math.max(p, 1)), 1e-300);
    for (let j = 0; j < p; j++) a[j * p + j] = (a[j * p + j] as number) + jitter;
    solved = solveLinear(a, b, p, k, 0) ?? new Float64Array(p * k);
  }
  const intercepts = new Float64Array(k);
  if (intercept) {
    for (let c = 0; c < k; c++) {
      let s = yMean[c] as number;
      for (let j = 0; j < p; j++) s -= (xMean[j] as number) * (solved[j * k + c] as number);
      intercepts[c] = s;
    }
  }
  return { coefficients: solved, intercepts };
}
