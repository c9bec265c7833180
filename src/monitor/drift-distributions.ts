/**
 * The probability distributions behind the drift tests' p-values: chi-squared and normal tails
 * (through the regularized upper incomplete gamma function) and the exact distribution of the
 * one-sample Kolmogorov statistic D_n, which SciPy's `ks_2samp` uses in its asymptotic mode
 * (`kstwo.sf`). The Kolmogorov tail follows the same choice of method per region of (n, x) as
 * SciPy 1.10 (Simard and L'Ecuyer's recipe), because where SciPy approximates, matching it means
 * approximating the same way.
 */

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
const SQRT_2PI = Math.sqrt(2 * Math.PI);
const EPS = Number.EPSILON;

/** Bernoulli-number coefficients of Stirling's series for ln Γ: B_2k / (2k (2k-1)), k = 1..7. */
const STIRLING = [1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156];

/** The tail of Stirling's series, sum of STIRLING[k] / x^(2k+1); accurate to ~1e-17 for x >= 12. */
function stirlingTail(x: number): number {
  const inv2 = 1 / (x * x);
  let sum = 0;
  for (let k = STIRLING.length - 1; k >= 0; k--) sum = sum * inv2 + (STIRLING[k] ?? 0);
  return sum / x;
}

/** ln Γ(x) for x > 0, to about 1e-15 relative. */
export function logGamma(x: number): number {
  if (!(x > 0)) return Number.NaN;
  // Below 12 the series is not accurate enough: shift up with Γ(x+1) = x Γ(x).
  let shift = 0;
  let product = 1;
  while (x + shift < 12) {
    product *= x + shift;
    shift++;
  }
  const y = x + shift;
  return (y - 0.5) * Math.log(y) - y + LOG_SQRT_2PI + stirlingTail(y) - Math.log(product);
}

/** ln(n! / n^n) for an integer n >= 1, without the cancellation of ln n! - n ln n. */
function logFactorialOverPower(n: number): number {
  if (n < 12) {
    let sum = 0;
    for (let i = 1; i <= n; i++) sum += Math.log(i / n);
    return sum;
  }
  return 0.5 * Math.log(n) - n + LOG_SQRT_2PI + stirlingTail(n);
}

/** e^(-x) x^a / Γ(a), the factor shared by both expansions of the incomplete gamma function. */
function gammaPrefactor(a: number, x: number): number {
  return Math.exp(a * Math.log(x) - x - logGamma(a));
}

/** Regularized upper incomplete gamma Q(a, x) = Γ(a, x) / Γ(a), for a > 0, x >= 0. */
export function regularizedGammaQ(a: number, x: number): number {
  if (!(a > 0) || Number.isNaN(x)) return Number.NaN;
  if (x <= 0) return 1;
  if (x === Infinity) return 0;
  if (x < a + 1) {
    // The power series for P converges fast here; Q = 1 - P loses nothing since P is not near 1.
    let term = 1 / a;
    let sum = term;
    for (let k = 1; k < 10_000; k++) {
      term *= x / (a + k);
      sum += term;
      if (term < sum * EPS) break;
    }
    return Math.max(0, 1 - sum * gammaPrefactor(a, x));
  }
  // Legendre's continued fraction for Q, evaluated with the modified Lentz method.
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let fraction = d;
  for (let k = 1; k < 10_000; k++) {
    const an = -k * (k - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    fraction *= delta;
    if (Math.abs(delta - 1) < EPS) break;
  }
  return Math.min(1, fraction * gammaPrefactor(a, x));
}

/** Survival function of the chi-squared distribution with `df` degrees of freedom (scipy.stats.chi2.sf). */
export function chiSquaredSf(x: number, df: number): number {
  if (x === Infinity) return 0;
  return regularizedGammaQ(df / 2, Math.max(0, x) / 2);
}

/** Survival function of the standard normal distribution (scipy.stats.norm.sf), accurate far into the tail. */
export function normalSf(z: number): number {
  if (Number.isNaN(z)) return Number.NaN;
  // erfc(t) = Q(1/2, t^2): the gamma routines keep full relative accuracy in the upper tail.
  const upper = 0.5 * regularizedGammaQ(0.5, (z * z) / 2);
  return z >= 0 ? upper : 1 - upper;
}

/** Rounds half to even, as NumPy's `np.round` does. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Pr(D_n^+ >= x), the one-sided Smirnov tail, by the Birnbaum-Tingey sum
 * x * sum_v C(n, v) (x + v/n)^(v-1) (1 - x - v/n)^(n-v), every term positive, summed in log space.
 */
export function smirnovSf(n: number, x: number): number {
  if (x <= 0) return 1;
  if (x >= 1) return 0;
  const last = Math.floor(n * (1 - x));
  const logN1 = logGamma(n + 1);
  const logX = Math.log(x);
  let sum = 0;
  for (let v = 0; v <= last; v++) {
    const at = x + v / n;
    const rest = 1 - at;
    if (rest <= 0) continue;
    const logTerm =
      logN1 -
      logGamma(v + 1) -
      logGamma(n - v + 1) +
      logX +
      (v - 1) * Math.log(at) +
      (n - v) * Math.log(rest);
    if (logTerm > -745) sum += Math.exp(logTerm);
  }
  return Math.min(1, sum);
}

/** Square matrix product of m x m row-major arrays. */
function multiply(a: Float64Array, b: Float64Array, m: number): Float64Array {
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let k = 0; k < m; k++) {
      const aik = a[i * m + k] ?? 0;
      if (aik === 0) continue;
      const rowB = k * m;
      const rowOut = i * m;
      for (let j = 0; j < m; j++) out[rowOut + j] = (out[rowOut + j] ?? 0) + aik * (b[rowB + j] ?? 0);
    }
  }
  return out;
}

const SCALE_BITS = 256;
const SCALE_UP = 2 ** SCALE_BITS;

/** Divides the matrix by 2^256 while its largest entry is above that; returns the bits removed. */
function rescale(a: Float64Array): number {
  let bits = 0;
  let max = 0;
  for (const v of a) max = Math.max(max, Math.abs(v));
  while (max > SCALE_UP) {
    for (let i = 0; i < a.length; i++) a[i] = (a[i] ?? 0) / SCALE_UP;
    max /= SCALE_UP;
    bits += SCALE_BITS;
  }
  return bits;
}

/**
 * Pr(D_n <= x) exactly, by Durbin's matrix: n!/n^n times the middle entry of H^n
 * (Marsaglia, Tsang and Wang 2003). Cost grows with (2 ceil(nx) - 1)^3 log n.
 */
export function kolmogorovCdfDurbin(n: number, x: number): number {
  if (x >= 1) return 1;
  const nx = n * x;
  if (nx <= 0.5) return 0;
  const k = Math.ceil(nx);
  const h = k - nx;
  const m = 2 * k - 1;
  const factorials = new Float64Array(m + 1);
  factorials[0] = 1;
  for (let i = 1; i <= m; i++) factorials[i] = (factorials[i - 1] ?? 1) * i;
  const H = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      const gap = i - j + 1;
      if (gap >= 0) H[i * m + j] = 1 / (factorials[gap] ?? Infinity);
    }
  }
  // The boundary corrections of the first column and the last row.
  for (let i = 0; i < m; i++) {
    H[i * m] = (H[i * m] ?? 0) - h ** (i + 1) / (factorials[i + 1] ?? Infinity);
    H[(m - 1) * m + i] = (H[(m - 1) * m + i] ?? 0) - h ** (m - i) / (factorials[m - i] ?? Infinity);
  }
  if (2 * h - 1 > 0) H[(m - 1) * m] = (H[(m - 1) * m] ?? 0) + (2 * h - 1) ** m / (factorials[m] ?? Infinity);

  let result: Float64Array | undefined;
  let resultBits = 0;
  let base: Float64Array = H;
  let baseBits = 0;
  for (let e = n; e > 0; e = Math.floor(e / 2)) {
    if (e % 2 === 1) {
      result = result === undefined ? base.slice() : multiply(result, base, m);
      resultBits += baseBits;
      resultBits += rescale(result);
    }
    if (e > 1) {
      base = multiply(base, base, m);
      baseBits *= 2;
      baseBits += rescale(base);
    }
  }
  const middle = result?.[(k - 1) * m + (k - 1)] ?? 0;
  if (middle <= 0) return 0;
  const p = Math.exp(Math.log(middle) + resultBits * Math.LN2 + logFactorialOverPower(n));
  return Math.min(1, p);
}

/**
 * Pr(D_n <= x) by Pelz and Good's (1976) expansion K0 + K1/sqrt(n) + K2/n + K3/n^(3/2) in the
 * theta-function form suited to small z = x sqrt(n).
 */
export function kolmogorovCdfPelzGood(n: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const z = Math.sqrt(n) * x;
  const z2 = z * z;
  const z4 = z2 * z2;
  const z6 = z4 * z2;
  const logQ = -(Math.PI * Math.PI) / (8 * z2);
  if (logQ < -708) return 0;
  const pi2 = Math.PI * Math.PI;
  const pi4 = pi2 * pi2;
  const pi6 = pi4 * pi2;
  const terms = Math.max(1, Math.ceil((16 * z) / Math.PI));
  let k0 = 0;
  let k1 = 0;
  let k2 = 0;
  let k3 = 0;
  // Sums over odd j = 2k - 1 of polynomials in j^2 times q^(j^2), smallest terms first.
  for (let k = terms; k >= 1; k--) {
    const j2 = (2 * k - 1) ** 2;
    const weight = Math.exp(logQ * j2);
    k0 += weight;
    k1 += weight * ((pi2 / 4) * j2 - z2);
    k2 +=
      weight * (6 * z6 + 2 * z4 + ((2 * z4 - 5 * z2) * pi2 * j2) / 4 + (pi4 * (1 - 2 * z2) * j2 * j2) / 16);
    k3 +=
      weight *
      (-30 * z6 -
        90 * z4 * z4 +
        (pi2 * (135 * z4 - 96 * z6) * j2) / 4 +
        (pi4 * (212 * z4 - 60 * z2) * j2 * j2) / 16 +
        (pi6 * (5 - 30 * z2) * j2 * j2 * j2) / 64);
  }
  k0 *= SQRT_2PI / z;
  k1 *= SQRT_2PI / (6 * z4);
  k2 *= SQRT_2PI / (72 * z6 * z);
  k3 *= SQRT_2PI / (6480 * z6 * z4);
  // Second sums over all integers k of k^2 exp(-pi^2 k^2 / (2 z^2)).
  let extra2 = 0;
  let extra3 = 0;
  for (let k = terms; k >= 1; k--) {
    const k2sq = k * k;
    const weight = Math.exp((-pi2 * k2sq) / (2 * z2)) * k2sq;
    extra2 += weight;
    extra3 += weight * (3 * z2 - pi2 * k2sq);
  }
  k2 += (extra2 * pi2 * SQRT_2PI) / (-36 * z2 * z);
  k3 += (extra3 * pi2 * SQRT_2PI) / (216 * z6);
  return k0 + k1 / Math.sqrt(n) + k2 / n + k3 / (n * Math.sqrt(n));
}

const clip01 = (p: number): number => Math.min(1, Math.max(0, p));

/**
 * Pr(D_n >= x) for the two-sided one-sample Kolmogorov statistic (scipy.stats.kstwo.sf(x, n)).
 * Exact (Ruben-Gambino edges, Durbin's matrix, Birnbaum-Tingey) except where SciPy too uses
 * 2 x the one-sided tail (n x^2 >= 2.2 for n > 140) or Pelz-Good (large n, moderate x).
 */
export function kolmogorovSf(n: number, x: number): number {
  if (!Number.isInteger(n) || n <= 0 || Number.isNaN(x)) return Number.NaN;
  if (x >= 1) return 0;
  if (x <= 0) return 1;
  const t = n * x;
  if (t <= 1) {
    if (t <= 0.5) return 1;
    const cdf = Math.exp(logFactorialOverPower(n) + n * Math.log(2 * t - 1));
    return clip01(1 - cdf);
  }
  if (t >= n - 1) return clip01(2 * (1 - x) ** n);
  if (x >= 0.5) return clip01(2 * smirnovSf(n, x));
  const nx2 = t * x;
  if (n <= 140) {
    // SciPy switches to Pomeranz's recursion above n x^2 = 0.754693; both are exact, so Durbin's
    // matrix (at most 47 x 47 here) serves the whole region.
    if (nx2 <= 4) return clip01(1 - kolmogorovCdfDurbin(n, x));
    return clip01(2 * smirnovSf(n, x));
  }
  if (nx2 >= 370) return 0;
  if (nx2 >= 2.2) return clip01(2 * smirnovSf(n, x));
  const cdf = n <= 100_000 && n * x ** 1.5 <= 1.4 ? kolmogorovCdfDurbin(n, x) : kolmogorovCdfPelzGood(n, x);
  return clip01(1 - cdf);
}
