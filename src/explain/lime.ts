/**
 * LIME for tabular rows (Ribeiro et al., 2016, as the `lime` library's LimeTabularExplainer without
 * discretisation): draw perturbations from the reference statistics (feature mean + σ·N(0,1)), weigh
 * each by an exponential kernel of its distance to the explained row in standardised units
 * (width 0.75·√M), and fit a weighted ridge regression (α = 1) on the standardised features. The
 * coefficients are in standardised units (for a linear model: w_i·σ_i), the top-k are the largest
 * |coefficients|, and the local model's weighted R² says how far to trust them. One deviation from
 * `lime`: a feature with σ = 0 in the reference keeps the explained row's value instead of being
 * perturbed with σ = 1 (an always-blank pixel stays blank).
 */
import { evaluateRows, type BatchModel, type EvaluationCounter } from './batch-model.js';
import { weightedLeastSquares } from './linear-solve.js';
import type { SeededRandom } from './random.js';

/** Per-feature mean and standard deviation of the reference data. */
export interface FeatureStats {
  mean: Float64Array;
  std: Float64Array;
}

export interface LimeOptions {
  /** Perturbed samples (default 5000, as `lime`). */
  nsamples?: number;
  /** Kernel width (default 0.75·√M). */
  kernelWidth?: number;
  /** Features reported per class (default min(10, M)). */
  topK?: number;
  /** Ridge α (default 1, as `lime`'s Ridge). */
  ridge?: number;
  random: SeededRandom;
  counter?: EvaluationCounter;
}

export interface LimeResult {
  /** Local model coefficients, class-major: `outputs × features`. */
  coefficients: Float64Array;
  intercepts: Float64Array;
  /** Weighted R² of the local model, per output column. */
  r2: Float64Array;
  /** The local model's prediction at the explained row, per output column. */
  localPrediction: Float64Array;
  /** Indices of the top-k features by |coefficient|, per output column. */
  topFeatures: number[][];
  samples: number;
}

export const DEFAULT_LIME_SAMPLES = 5000;

/** Mean and (population) standard deviation of each column of `rows × features` data. */
export function featureStats(data: ArrayLike<number>, rows: number, features: number): FeatureStats {
  const mean = new Float64Array(features);
  const std = new Float64Array(features);
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < features; j++) mean[j] = (mean[j] as number) + (data[r * features + j] as number);
  for (let j = 0; j < features; j++) mean[j] = (mean[j] as number) / Math.max(rows, 1);
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < features; j++) {
      const d = (data[r * features + j] as number) - (mean[j] as number);
      std[j] = (std[j] as number) + d * d;
    }
  for (let j = 0; j < features; j++) std[j] = Math.sqrt((std[j] as number) / Math.max(rows, 1));
  return { mean, std };
}

/** Explain one row `x` with a local linear model. */
export async function lime(
  model: BatchModel,
  x: Float32Array,
  stats: FeatureStats,
  options: LimeOptions,
): Promise<LimeResult> {
  const m = model.features;
  const k = model.outputs;
  const n = Math.max(2, options.nsamples ?? DEFAULT_LIME_SAMPLES);
  const width = options.kernelWidth ?? 0.75 * Math.sqrt(m);
  const topK = Math.min(options.topK ?? 10, m);
  const random = options.random;
  // Standardised samples; row 0 is the explained row itself, as in `lime`.
  const scaled = new Float64Array(n * m);
  const xs = new Float64Array(m);
  for (let j = 0; j < m; j++) {
    const s = stats.std[j] as number;
    xs[j] = s > 0 ? ((x[j] as number) - (stats.mean[j] as number)) / s : 0;
  }
  scaled.set(xs, 0);
  for (let i = 1; i < n; i++)
    for (let j = 0; j < m; j++) scaled[i * m + j] = (stats.std[j] as number) > 0 ? random.normal() : 0;
  const weights = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let d2 = 0;
    for (let j = 0; j < m; j++) {
      const d = (scaled[i * m + j] as number) - (xs[j] as number);
      d2 += d * d;
    }
    weights[i] = Math.sqrt(Math.exp(-d2 / (width * width)));
  }
  const y = new Float64Array(n * k);
  await evaluateRows(
    model,
    n,
    (start, count, rows) => {
      for (let r = 0; r < count; r++) {
        const i = start + r;
        for (let j = 0; j < m; j++) {
          const s = stats.std[j] as number;
          rows[r * m + j] =
            s > 0 ? (stats.mean[j] as number) + s * (scaled[i * m + j] as number) : (x[j] as number);
        }
      }
    },
    (start, _count, outputs) => y.set(outputs, start * k),
    options.counter,
  );
  const fit = weightedLeastSquares(scaled, y, weights, n, m, k, {
    ridge: options.ridge ?? 1,
    intercept: true,
  });
  const coefficients = new Float64Array(k * m);
  const r2 = new Float64Array(k);
  const localPrediction = new Float64Array(k);
  const topFeatures: number[][] = [];
  let wsum = 0;
  for (let i = 0; i < n; i++) wsum += weights[i] as number;
  for (let c = 0; c < k; c++) {
    const intercept = fit.intercepts[c] as number;
    for (let j = 0; j < m; j++) coefficients[c * m + j] = fit.coefficients[j * k + c] as number;
    let yMean = 0;
    for (let i = 0; i < n; i++) yMean += (weights[i] as number) * (y[i * k + c] as number);
    yMean /= wsum;
    let residual = 0;
    let spread = 0;
    for (let i = 0; i < n; i++) {
      let pred = intercept;
      for (let j = 0; j < m; j++) pred += (coefficients[c * m + j] as number) * (scaled[i * m + j] as number);
      const w = weights[i] as number;
      const yi = y[i * k + c] as number;
      residual += w * (yi - pred) ** 2;
      spread += w * (yi - yMean) ** 2;
    }
    r2[c] = spread > 0 ? 1 - residual / spread : 1;
    let local = intercept;
    for (let j = 0; j < m; j++) local += (coefficients[c * m + j] as number) * (xs[j] as number);
    localPrediction[c] = local;
    const order = Array.from({ length: m }, (_, j) => j).sort(
      (a, b) =>
        Math.abs(coefficients[c * m + b] as number) - Math.abs(coefficients[c * m + a] as number) || a - b,
    );
    topFeatures.push(order.slice(0, topK));
  }
  return { coefficients, intercepts: fit.intercepts, r2, localPrediction, topFeatures, samples: n };
}
