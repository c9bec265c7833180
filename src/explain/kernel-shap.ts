/**
 * KernelSHAP (Lundberg & Lee, 2017): the Shapley values of one prediction as the solution of a
 * weighted linear regression over coalitions. A coalition z keeps the explained row's values on its
 * features and takes the others from each background row; v(z) = E_background[f(x_z, b_~z)]. With
 * the Shapley kernel weights and the efficiency constraint Σφ = f(x) − E[f(background)] enforced by
 * eliminating one feature, the regression's solution is the Shapley values: exactly when every
 * coalition is enumerated, and for a model linear in its inputs from any full-rank sample.
 * Features whose value equals every background row's get 0 and leave the regression, as in SHAP.
 */
import { evaluateRows, type BatchModel, type EvaluationCounter } from './batch-model.js';
import { defaultCoalitions, planCoalitions } from './coalitions.js';
import type { Background } from './kmeans.js';
import { weightedLeastSquares } from './linear-solve.js';
import type { SeededRandom } from './random.js';

export interface KernelShapOptions {
  /** Coalitions to evaluate (default 2·M' + 2048, M' the features that vary against the background). */
  nsamples?: number;
  random: SeededRandom;
  counter?: EvaluationCounter;
}

export interface KernelShapResult {
  /** Attributions, class-major: `outputs × features`. */
  attributions: Float64Array;
  /** f(x), per output column. */
  value: Float64Array;
  /** Coalitions evaluated. */
  coalitions: number;
  exact: boolean;
}

/** E[f(background)] per output column, weighted by the background's weights. */
export async function expectedValue(
  model: BatchModel,
  background: Background,
  counter?: EvaluationCounter,
): Promise<Float64Array> {
  const k = model.outputs;
  const m = model.features;
  const out = new Float64Array(k);
  await evaluateRows(
    model,
    background.rows,
    (start, n, rows) => rows.set(background.data.subarray(start * m, (start + n) * m)),
    (start, n, outputs) => {
      for (let i = 0; i < n; i++) {
        const w = background.weights[start + i] as number;
        for (let c = 0; c < k; c++) out[c] = (out[c] as number) + w * (outputs[i * k + c] as number);
      }
    },
    counter,
  );
  return out;
}

/**
 * Explain one row `x` (M features) against `background`, given f(x) and E[f(background)].
 * @example const r = await kernelShap(model, x, fx, base, background, { random: new SeededRandom(0) });
 */
export async function kernelShap(
  model: BatchModel,
  x: Float32Array,
  fx: Float64Array,
  base: Float64Array,
  background: Background,
  options: KernelShapOptions,
): Promise<KernelShapResult> {
  const m = model.features;
  const k = model.outputs;
  const attributions = new Float64Array(k * m);
  const varying: number[] = [];
  for (let j = 0; j < m; j++) {
    const xj = x[j] as number;
    for (let b = 0; b < background.rows; b++) {
      if (background.data[b * m + j] !== xj) {
        varying.push(j);
        break;
      }
    }
  }
  const mv = varying.length;
  const delta = new Float64Array(k);
  for (let c = 0; c < k; c++) delta[c] = (fx[c] as number) - (base[c] as number);
  if (mv === 0) return { attributions, value: fx, coalitions: 0, exact: true };
  if (mv === 1) {
    for (let c = 0; c < k; c++) attributions[c * m + (varying[0] as number)] = delta[c] as number;
    return { attributions, value: fx, coalitions: 0, exact: true };
  }
  const plan = planCoalitions(mv, options.nsamples ?? defaultCoalitions(mv), options.random);
  const n = plan.count;
  const bRows = background.rows;
  // The features each coalition takes from x (the others come from the background row).
  const members: Int32Array[] = [];
  for (let z = 0; z < n; z++) {
    const inside: number[] = [];
    for (let v = 0; v < mv; v++) if (plan.masks[z * mv + v] === 1) inside.push(varying[v] as number);
    members.push(Int32Array.from(inside));
  }
  // v(z) − E[f] for every coalition and output column. Rows go coalition by coalition, each a block of
  // the background rows (copied at once) with the coalition's features overwritten by x.
  const y = new Float64Array(n * k);
  const segments = (
    start: number,
    count: number,
    visit: (z: number, b0: number, b1: number, r: number) => void,
  ) => {
    for (let t = start, r = 0; t < start + count;) {
      const z = Math.floor(t / bRows);
      const b0 = t - z * bRows;
      const b1 = Math.min(bRows, b0 + (start + count - t));
      visit(z, b0, b1, r);
      r += b1 - b0;
      t += b1 - b0;
    }
  };
  await evaluateRows(
    model,
    n * bRows,
    (start, count, rows) =>
      segments(start, count, (z, b0, b1, r) => {
        rows.set(background.data.subarray(b0 * m, b1 * m), r * m);
        for (const j of members[z] as Int32Array) {
          const v = x[j] as number;
          for (let i = r * m + j, end = (r + b1 - b0) * m; i < end; i += m) rows[i] = v;
        }
      }),
    (start, count, outputs) =>
      segments(start, count, (z, b0, b1, r) => {
        for (let b = b0, row = r; b < b1; b++, row++) {
          const w = background.weights[b] as number;
          for (let c = 0; c < k; c++)
            y[z * k + c] = (y[z * k + c] as number) + w * (outputs[row * k + c] as number);
        }
      }),
    options.counter,
  );
  // Efficiency constraint: φ_last = Δ − Σ_{j<last} φ_j, so y − E[f] − z_last·Δ = Σ_j (z_j − z_last) φ_j.
  const p = mv - 1;
  const design = new Float64Array(n * p);
  const target = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    const last = plan.masks[i * mv + p] as number;
    for (let j = 0; j < p; j++) design[i * p + j] = (plan.masks[i * mv + j] as number) - last;
    for (let c = 0; c < k; c++)
      target[i * k + c] = (y[i * k + c] as number) - (base[c] as number) - last * (delta[c] as number);
  }
  const { coefficients } = weightedLeastSquares(design, target, plan.weights, n, p, k);
  for (let c = 0; c < k; c++) {
    let sum = 0;
    for (let j = 0; j < p; j++) {
      const phi = coefficients[j * k + c] as number;
      attributions[c * m + (varying[j] as number)] = phi;
      sum += phi;
    }
    attributions[c * m + (varying[p] as number)] = (delta[c] as number) - sum;
  }
  return { attributions, value: fx, coalitions: n, exact: plan.exact };
}
