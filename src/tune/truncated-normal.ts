/**
 * The normal distribution truncated to [low, high]: log density and sampling, the kernel of the TPE
 * sampler's Parzen estimators. Tails are computed through erfc (relative error under 1.2e-7), so a
 * kernel far from an interval still gets a finite log density instead of log(0).
 */
import type { TuneRandom } from './rng.js';

/** Complementary error function (Chebyshev fit, fractional error < 1.2e-7 everywhere). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** log of the standard normal's probability mass on [a, b] (a < b), accurate in both tails. */
export function logNormalMass(a: number, b: number): number {
  // Work in the tail where the mass is a difference of two small numbers, not of two near-1 numbers.
  if (a > 0) {
    const mass = 0.5 * (erfc(a / Math.SQRT2) - erfc(b / Math.SQRT2));
    return Math.log(Math.max(mass, Number.MIN_VALUE));
  }
  if (b < 0) return logNormalMass(-b, -a);
  const mass = 1 - 0.5 * erfc(-a / Math.SQRT2) - 0.5 * erfc(b / Math.SQRT2);
  return Math.log(Math.max(mass, Number.MIN_VALUE));
}

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** log density at x of N(mu, sigma²) truncated to [low, high]. */
export function truncatedNormalLogPdf(
  x: number,
  mu: number,
  sigma: number,
  low: number,
  high: number,
): number {
  const z = (x - mu) / sigma;
  return (
    -0.5 * z * z - LOG_SQRT_2PI - Math.log(sigma) - logNormalMass((low - mu) / sigma, (high - mu) / sigma)
  );
}

/** A draw of N(mu, sigma²) truncated to [low, high] (rejection; the kernels keep mu inside the interval). */
export function sampleTruncatedNormal(
  rng: TuneRandom,
  mu: number,
  sigma: number,
  low: number,
  high: number,
): number {
  for (let attempt = 0; attempt < 100; attempt++) {
    const x = mu + sigma * rng.normal();
    if (x >= low && x <= high) return x;
  }
  return Math.min(high, Math.max(low, mu)); // practically unreachable with mu in [low, high] and sigma ≤ range
}

/** log Σ exp(values), stable. */
export function logSumExp(values: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) max = Math.max(max, values[i] as number);
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += Math.exp((values[i] as number) - max);
  return max + Math.log(sum);
}
