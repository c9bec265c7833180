/**
 * A background data set summarised by weighted k-means, as the SHAP library's `shap.kmeans` does:
 * KernelSHAP's cost grows with the background's rows, and 50 centroids weighted by their cluster's
 * size keep the expected value while cutting thousands of reference rows to 50.
 */
import type { SeededRandom } from './random.js';

/** Background rows (`rows × features`, row-major) and their weights, summing to 1. */
export interface Background {
  rows: number;
  features: number;
  data: Float32Array;
  weights: Float64Array;
}

/** Every row with the same weight. */
export function uniformBackground(data: Float32Array, rows: number, features: number): Background {
  return { rows, features, data, weights: new Float64Array(rows).fill(1 / rows) };
}

/**
 * Summarise `data` (rows × features) by k centroids (k-means++ seeding, then Lloyd's iterations),
 * each weighted by the share of rows nearest to it. With k ≥ rows, the rows themselves.
 */
export function kmeansBackground(
  data: Float32Array,
  rows: number,
  features: number,
  k: number,
  random: SeededRandom,
  maxIterations = 30,
): Background {
  if (rows <= k) return uniformBackground(data.slice(0, rows * features), rows, features);
  const m = features;
  const centers = new Float64Array(k * m);
  const nearest = new Float64Array(rows).fill(Infinity);
  const copyCenter = (c: number, r: number): void => {
    for (let j = 0; j < m; j++) centers[c * m + j] = data[r * m + j] as number;
  };
  const distance = (r: number, c: number): number => {
    let s = 0;
    for (let j = 0; j < m; j++) {
      const d = (data[r * m + j] as number) - (centers[c * m + j] as number);
      s += d * d;
    }
    return s;
  };
  copyCenter(0, random.int(rows));
  for (let c = 1; c < k; c++) {
    let total = 0;
    for (let r = 0; r < rows; r++) {
      nearest[r] = Math.min(nearest[r] as number, distance(r, c - 1));
      total += nearest[r] as number;
    }
    copyCenter(c, total > 0 ? random.pick(nearest, total) : random.int(rows));
  }
  const assignment = new Int32Array(rows).fill(-1);
  const counts = new Float64Array(k);
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    let changed = 0;
    for (let r = 0; r < rows; r++) {
      let best = 0;
      let bestDistance = Infinity;
      for (let c = 0; c < k; c++) {
        const d = distance(r, c);
        if (d < bestDistance) {
          bestDistance = d;
          best = c;
        }
      }
      if (assignment[r] !== best) {
        assignment[r] = best;
        changed++;
      }
    }
    counts.fill(0);
    const sums = new Float64Array(k * m);
    for (let r = 0; r < rows; r++) {
      const c = assignment[r] as number;
      counts[c] = (counts[c] as number) + 1;
      for (let j = 0; j < m; j++) sums[c * m + j] = (sums[c * m + j] as number) + (data[r * m + j] as number);
    }
    for (let c = 0; c < k; c++) {
      const n = counts[c] as number;
      if (n === 0) continue; // an empty cluster keeps its centre (it gets weight 0 below)
      for (let j = 0; j < m; j++) centers[c * m + j] = (sums[c * m + j] as number) / n;
    }
    if (changed === 0) break;
  }
  const kept: number[] = [];
  for (let c = 0; c < k; c++) if ((counts[c] as number) > 0) kept.push(c);
  const out = new Float32Array(kept.length * m);
  const weights = new Float64Array(kept.length);
  kept.forEach((c, i) => {
    for (let j = 0; j < m; j++) out[i * m + j] = centers[c * m + j] as number;
    weights[i] = (counts[c] as number) / rows;
  });
  return { rows: kept.length, features: m, data: out, weights };
}
