/** The few statistics the benchmark report needs. */

import { Random } from '../src/train/random.js';

export { median } from '../src/core/percentile.js';

/** a / b, or NaN when b is not a positive number. */
export function ratio(a: number, b: number): number {
  return b > 0 ? a / b : Number.NaN;
}

/** A ratio estimated from paired runs, with a 95% interval. */
export interface PairedRatio {
  /** Geometric mean of the per-pair ratios. */
  ratio: number;
  /** 95% bootstrap interval of that geometric mean. */
  low: number;
  high: number;
  pairs: number;
}

const BOOTSTRAP_RESAMPLES = 4000;

/**
 * The geometric mean of `ratios` (each a figure over its baseline measured next to it) and a 95%
 * percentile-bootstrap interval, resampled with a fixed seed so that the same runs give the same
 * interval. Ratios are averaged as logarithms: 0.8 and 1.25 cancel.
 */
export function pairedRatio(ratios: readonly number[], seed = 20261126): PairedRatio {
  const logs = ratios.filter((r) => r > 0 && Number.isFinite(r)).map(Math.log);
  const n = logs.length;
  if (n === 0) return { ratio: Number.NaN, low: Number.NaN, high: Number.NaN, pairs: 0 };
  const mean = (xs: ArrayLike<number>): number => {
    let s = 0;
    for (let i = 0; i < xs.length; i++) s += xs[i] as number;
    return s / xs.length;
  };
  const random = new Random(seed);
  const means = new Float64Array(BOOTSTRAP_RESAMPLES);
  const sample = new Float64Array(n);
  for (let b = 0; b < BOOTSTRAP_RESAMPLES; b++) {
    for (let i = 0; i < n; i++) sample[i] = logs[random.int(n)] as number;
    means[b] = mean(sample);
  }
  means.sort();
  const at = (q: number): number =>
    means[Math.min(BOOTSTRAP_RESAMPLES - 1, Math.floor(q * BOOTSTRAP_RESAMPLES))] as number;
  return { ratio: Math.exp(mean(logs)), low: Math.exp(at(0.025)), high: Math.exp(at(0.975)), pairs: n };
}
