/**
 * The two-sample statistics of drift detection, each matching its SciPy counterpart (1.10) to
 * 1e-6 on the committed fixtures (fixtures/monitor/drift.json, made by
 * scripts/fixtures/drift_stats.py). Inputs are plain arrays of finite values: the caller has
 * already dropped missing ones.
 */
import { errors } from '../core/errors.js';
import { chiSquaredSf, kolmogorovSf, normalSf, roundHalfEven } from './drift-distributions.js';

/** A statistic and its p-value. */
export interface TestResult {
  statistic: number;
  p_value: number;
}

/** The Kolmogorov-Smirnov result, with the way its p-value was computed. */
export interface KsResult extends TestResult {
  method: 'exact' | 'asymptotic';
}

/** SciPy's `method='auto'` computes the exact p-value while both samples have at most this many values. */
export const KS_MAX_EXACT_N = 10_000;

function sortedCopy(values: readonly number[]): Float64Array {
  return Float64Array.from(values).sort();
}

function requireValues(name: string, values: readonly number[]): void {
  if (values.length === 0) throw errors.invalidArgument(`${name}: the sample is empty`);
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * Pr(D >= h/n) for two samples of the same size n: 2 sum_k (-1)^(k-1) C(2n, n-kh) / C(2n, n),
 * nested as f1 (1 - f2 (1 - f3 (...))) where f_k is the ratio of consecutive binomial terms.
 */
function exactEqualSizes(n: number, h: number): number {
  const last = Math.floor(n / h);
  let nested = 0;
  for (let k = last; k >= 1; k--) {
    let ratio = 1;
    for (let j = (k - 1) * h; j < k * h; j++) ratio = (ratio * (n - j)) / (n + j + 1);
    nested = ratio * (1 - nested);
  }
  return 2 * nested;
}

/**
 * Pr(D >= h / lcm(m, n)) for sizes m != n, by walking the lattice of merged orders column by
 * column. w(i, j) is the share of monotone paths to (i, j) that have already left the band
 * |i/m - j/n| < h/lcm; it obeys w(i, j) = (i w(i-1, j) + j w(i, j-1)) / (i + j) inside the band and
 * is 1 outside, so the small p-values of large shifts come out without cancellation.
 */
function exactUnequalSizes(m: number, n: number, h: number): number {
  if (m < n) [m, n] = [n, m];
  const g = gcd(m, n);
  const mg = m / g;
  const ng = n / g;
  const w = new Float64Array(n + 1).fill(1);
  // Column i = 0: inside while mg * j < h, and every path there is still inside.
  let low = 0;
  let high = Math.min(n, Math.ceil(h / mg) - 1);
  for (let j = 0; j <= high; j++) w[j] = 0;
  for (let i = 1; i <= m; i++) {
    // Inside the band: ng*i - h < mg*j < ng*i + h.
    const nextLow = Math.max(0, Math.floor((ng * i - h) / mg) + 1);
    const nextHigh = Math.min(n, Math.ceil((ng * i + h) / mg) - 1);
    for (let j = low; j < Math.min(nextLow, high + 1); j++) w[j] = 1;
    if (nextHigh < nextLow) return 1;
    for (let j = nextLow; j <= nextHigh; j++) {
      const left = w[j] ?? 1;
      const below = j === 0 ? 0 : (w[j - 1] ?? 1);
      w[j] = (i * left + j * below) / (i + j);
    }
    low = nextLow;
    high = nextHigh;
  }
  return w[n] ?? 1;
}

/**
 * Two-sided two-sample Kolmogorov-Smirnov test (scipy.stats.ks_2samp, method='auto'): the
 * statistic is the largest gap between the empirical CDFs; the p-value is exact while
 * max(n1, n2) <= 10000 and otherwise Pr(D_en >= d) of the one-sample distribution at
 * en = round(n1 n2 / (n1 + n2)), as SciPy does.
 */
export function ks2samp(a: readonly number[], b: readonly number[]): KsResult {
  requireValues('ks_2samp', a);
  requireValues('ks_2samp', b);
  const x = sortedCopy(a);
  const y = sortedCopy(b);
  const n1 = x.length;
  const n2 = y.length;
  // The CDF gap at every observed value, each CDF counting values <= it (ties move together).
  let maxGap = 0;
  let minGap = 0;
  let i = 0;
  let j = 0;
  while (i < n1 || j < n2) {
    const value = Math.min(x[i] ?? Infinity, y[j] ?? Infinity);
    while (i < n1 && (x[i] ?? Infinity) <= value) i++;
    while (j < n2 && (y[j] ?? Infinity) <= value) j++;
    const gap = i / n1 - j / n2;
    if (gap > maxGap) maxGap = gap;
    if (gap < minGap) minGap = gap;
  }
  let d = Math.min(1, -minGap) > maxGap ? Math.min(1, -minGap) : maxGap;
  if (Math.max(n1, n2) <= KS_MAX_EXACT_N) {
    const g = gcd(n1, n2);
    const lcm = (n1 / g) * n2;
    const h = roundHalfEven(d * lcm);
    d = h / lcm;
    if (h === 0) return { statistic: d, p_value: 1, method: 'exact' };
    const p = n1 === n2 ? exactEqualSizes(n1, h) : exactUnequalSizes(n1, n2, h);
    return { statistic: d, p_value: Math.min(1, Math.max(0, p)), method: 'exact' };
  }
  const en = (n1 * n2) / (n1 + n2);
  return { statistic: d, p_value: kolmogorovSf(roundHalfEven(en), d), method: 'asymptotic' };
}

/**
 * Pearson's chi-squared goodness of fit of observed counts against expected ones
 * (scipy.stats.chisquare, ddof 0). A category with observations but no expectation makes the
 * statistic infinite and the p-value 0; a single category gives statistic 0 and p-value 1.
 */
export function chiSquareTest(observed: readonly number[], expected: readonly number[]): TestResult {
  if (observed.length !== expected.length || observed.length === 0) {
    throw errors.invalidArgument(
      `chisquare: observed (${observed.length}) and expected (${expected.length}) need the same non-zero length`,
    );
  }
  if (observed.length === 1) return { statistic: 0, p_value: 1 };
  let statistic = 0;
  for (let k = 0; k < observed.length; k++) {
    const o = observed[k] ?? 0;
    const e = expected[k] ?? 0;
    if (e > 0) statistic += ((o - e) * (o - e)) / e;
    else if (o > 0) statistic = Infinity;
  }
  return { statistic, p_value: chiSquaredSf(statistic, observed.length - 1) };
}

/**
 * Pooled two-proportion z-test, two-sided (Evidently's z-test for binary columns): z compares the
 * share of one value in the reference (hitsA of nA) and the current data (hitsB of nB). When the
 * value is everywhere or nowhere there is nothing to compare: z = 0, p = 1.
 */
export function proportionZTest(hitsA: number, nA: number, hitsB: number, nB: number): TestResult {
  if (!(nA > 0 && nB > 0)) throw errors.invalidArgument('z-test: both samples need at least one value');
  const pA = hitsA / nA;
  const pB = hitsB / nB;
  const pooled = (pA * nA + pB * nB) / (nA + nB);
  const variance = pooled * (1 - pooled) * (1 / nA + 1 / nB);
  if (!(variance > 0)) return { statistic: 0, p_value: 1 };
  const z = (pA - pB) / Math.sqrt(variance);
  return { statistic: z, p_value: Math.min(1, 2 * normalSf(Math.abs(z))) };
}

/**
 * The first Wasserstein distance of two 1-D samples (scipy.stats.wasserstein_distance): the area between
 * their CDFs.
 */
export function wassersteinDistance(a: readonly number[], b: readonly number[]): number {
  requireValues('wasserstein_distance', a);
  requireValues('wasserstein_distance', b);
  const x = sortedCopy(a);
  const y = sortedCopy(b);
  let i = 0;
  let j = 0;
  let area = 0;
  let previous = Math.min(x[0] ?? 0, y[0] ?? 0);
  while (i < x.length || j < y.length) {
    const value = Math.min(x[i] ?? Infinity, y[j] ?? Infinity);
    area += Math.abs(i / x.length - j / y.length) * (value - previous);
    while (i < x.length && (x[i] ?? Infinity) <= value) i++;
    while (j < y.length && (y[j] ?? Infinity) <= value) j++;
    previous = value;
  }
  return area;
}

/** Population standard deviation (NumPy's `np.std`, ddof 0). */
export function standardDeviation(values: readonly number[]): number {
  if (values.length === 0) return 0;
  let mean = 0;
  for (const v of values) mean += v;
  mean /= values.length;
  let squares = 0;
  for (const v of values) squares += (v - mean) * (v - mean);
  return Math.sqrt(squares / values.length);
}

/** x ln(x / y) with SciPy's `rel_entr` conventions for zeros. */
function relativeEntropy(x: number, y: number): number {
  if (x === 0) return 0;
  if (y === 0) return Infinity;
  return x * Math.log(x / y);
}

/**
 * The Jensen-Shannon distance of two discrete distributions (scipy.spatial.distance.jensenshannon,
 * natural log): the square root of the divergence, between 0 and sqrt(ln 2). Counts or shares
 * both work: each vector is normalized to sum 1.
 */
export function jensenShannonDistance(p: readonly number[], q: readonly number[]): number {
  if (p.length !== q.length || p.length === 0) {
    throw errors.invalidArgument(
      `jensenshannon: the distributions need the same non-zero length (${p.length}, ${q.length})`,
    );
  }
  const sumP = p.reduce((s, v) => s + v, 0);
  const sumQ = q.reduce((s, v) => s + v, 0);
  if (!(sumP > 0 && sumQ > 0) || p.some((v) => v < 0) || q.some((v) => v < 0)) {
    throw errors.invalidArgument(
      'jensenshannon: the distributions need non-negative weights with a positive sum',
    );
  }
  let divergence = 0;
  for (let k = 0; k < p.length; k++) {
    const pk = (p[k] ?? 0) / sumP;
    const qk = (q[k] ?? 0) / sumQ;
    const mk = (pk + qk) / 2;
    divergence += relativeEntropy(pk, mk) + relativeEntropy(qk, mk);
  }
  return Math.sqrt(Math.max(0, divergence / 2));
}

/**
 * Equal-width bin edges over the values by Sturges' rule, as
 * `np.histogram_bin_edges(values, bins='sturges')` computes them (a constant sample gets the one
 * bin [v - 0.5, v + 0.5]).
 */
export function sturgesEdges(values: readonly number[]): number[] {
  requireValues('histogram', values);
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const range = max - min;
  let first = min;
  let last = max;
  if (first === last) {
    first -= 0.5;
    last += 0.5;
  }
  const width = range / (Math.log2(values.length) + 1);
  const bins = width > 0 ? Math.ceil((last - first) / width) : 1;
  const step = (last - first) / bins;
  const edges: number[] = [];
  for (let k = 0; k < bins; k++) edges.push(k * step + first);
  edges.push(last);
  return edges;
}

/** Index of the first edge greater than the value (NumPy's `searchsorted(..., side='right')`). */
function upperBound(edges: ArrayLike<number>, value: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((edges[mid] ?? Infinity) <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Counts per bin as `np.histogram(values, edges)` gives them: bin k holds edges[k] <= v < edges[k+1],
 * the last bin also its right edge; values outside the edges are not counted.
 */
export function histogramCounts(values: readonly number[], edges: readonly number[]): number[] {
  const bins = edges.length - 1;
  const counts = new Array<number>(Math.max(0, bins)).fill(0);
  const first = edges[0] ?? Infinity;
  const last = edges[bins] ?? -Infinity;
  for (const v of values) {
    if (v < first || v > last) continue;
    const k = v === last ? bins - 1 : upperBound(edges, v) - 1;
    counts[k] = (counts[k] ?? 0) + 1;
  }
  return counts;
}

/** The q-quantile of sorted values by linear interpolation, NumPy's default (`method='linear'`). */
export function quantileOfSorted(sorted: ArrayLike<number>, q: number): number {
  const index = (sorted.length - 1) * q;
  const below = Math.floor(index);
  const a = sorted[below] ?? Number.NaN;
  const b = sorted[Math.min(below + 1, sorted.length - 1)] ?? a;
  const t = index - below;
  // NumPy interpolates from the nearer end, which keeps the result monotone in q.
  return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
}

/** The share of empty PSI bins, so that the logarithm stays finite. */
export const PSI_EMPTY_SHARE = 1e-4;

/** PSI of two share vectors: sum (cur - ref) ln(cur / ref), empty bins counted as PSI_EMPTY_SHARE. */
export function psiOfShares(reference: readonly number[], current: readonly number[]): number {
  let psi = 0;
  for (let k = 0; k < reference.length; k++) {
    const r = (reference[k] ?? 0) || PSI_EMPTY_SHARE;
    const c = (current[k] ?? 0) || PSI_EMPTY_SHARE;
    psi += (c - r) * Math.log(c / r);
  }
  return psi;
}

/**
 * Population stability index of a numeric column: `bins` bins cut at the reference's quantiles
 * k/bins (duplicate cut points merged, so ties make fewer bins; a value on a cut point goes to the
 * upper bin), shares per bin in each sample, empty bins counted as 1e-4 (no renormalization).
 * Bands: < 0.1 stable, 0.1-0.25 moderate shift, >= 0.25 significant shift.
 */
export function populationStabilityIndex(
  reference: readonly number[],
  current: readonly number[],
  bins = 10,
): number {
  requireValues('psi', reference);
  requireValues('psi', current);
  if (!Number.isInteger(bins) || bins < 2)
    throw errors.invalidArgument(`psi: bins must be an integer >= 2, got ${bins}`);
  const sorted = sortedCopy(reference);
  const cuts: number[] = [];
  for (let k = 1; k < bins; k++) {
    const cut = quantileOfSorted(sorted, k / bins);
    if (cuts.length === 0 || cut !== cuts[cuts.length - 1]) cuts.push(cut);
  }
  const shares = (values: readonly number[]): number[] => {
    const counts = new Array<number>(cuts.length + 1).fill(0);
    for (const v of values) {
      const k = upperBound(cuts, v);
      counts[k] = (counts[k] ?? 0) + 1;
    }
    return counts.map((c) => c / values.length);
  };
  return psiOfShares(shares(reference), shares(current));
}

/** The PSI band of a value. */
export function psiBand(psi: number): 'stable' | 'moderate' | 'significant' {
  if (psi < 0.1) return 'stable';
  return psi < 0.25 ? 'moderate' : 'significant';
}
