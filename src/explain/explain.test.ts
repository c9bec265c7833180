/**
 * The explainers on models written in JavaScript (fast, exact references): KernelSHAP against
 * Shapley values computed from their definition, the sum property, seeds; LIME on a linear
 * regressor; permutation importance on a model that reads two features; the k-means background.
 * The same explainers on ONNX models through the serving runtime are in engine/jobs/explain-job.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  accuracyScore,
  expectedValue,
  featureStats,
  kernelShap,
  kmeansBackground,
  lime,
  negativeMseScore,
  permutationImportance,
  planCoalitions,
  SeededRandom,
  uniformBackground,
  type Background,
  type BatchModel,
} from './index.js';

/** A model computed in JavaScript, with the BatchModel's chunking. */
function jsModel(
  features: number,
  outputs: number,
  f: (row: Float32Array, out: Float64Array) => void,
  batchRows = 512,
): BatchModel & { calls: number[] } {
  const calls: number[] = [];
  return {
    features,
    outputs,
    batchRows,
    concurrency: 2,
    calls,
    async run(rows, count) {
      calls.push(count);
      const out = new Float64Array(count * outputs);
      for (let i = 0; i < count; i++)
        f(rows.subarray(i * features, (i + 1) * features), out.subarray(i * outputs, (i + 1) * outputs));
      await Promise.resolve();
      return out;
    },
  };
}

function linear(w: readonly number[], b: number[] = [0.5]): BatchModel & { calls: number[] } {
  return jsModel(w.length, b.length, (row, out) => {
    for (let c = 0; c < b.length; c++) {
      let s = b[c] as number;
      for (let j = 0; j < w.length; j++) s += (c + 1) * (w[j] as number) * (row[j] as number);
      out[c] = s;
    }
  });
}

function randomRows(rows: number, features: number, seed: number): Float32Array {
  const r = new SeededRandom(seed);
  return Float32Array.from({ length: rows * features }, () => Math.fround(r.normal()));
}

/** Shapley values from their definition: Σ_S |S|!(M−|S|−1)!/M! (v(S∪{i}) − v(S)), v(S) = E_b f(x_S, b). */
async function bruteForceShapley(model: BatchModel, x: Float32Array, bg: Background): Promise<Float64Array> {
  const m = model.features;
  const k = model.outputs;
  const v = new Float64Array(2 ** m * k);
  for (let s = 0; s < 2 ** m; s++) {
    const rows = new Float32Array(bg.rows * m);
    for (let b = 0; b < bg.rows; b++)
      for (let j = 0; j < m; j++)
        rows[b * m + j] = (s >>> j) & 1 ? (x[j] as number) : (bg.data[b * m + j] as number);
    const out = await model.run(rows, bg.rows);
    for (let b = 0; b < bg.rows; b++)
      for (let c = 0; c < k; c++)
        v[s * k + c] = (v[s * k + c] as number) + (bg.weights[b] as number) * (out[b * k + c] as number);
  }
  const fact = (n: number): number => (n <= 1 ? 1 : n * fact(n - 1));
  const phi = new Float64Array(k * m);
  for (let i = 0; i < m; i++)
    for (let s = 0; s < 2 ** m; s++) {
      if ((s >>> i) & 1) continue;
      let size = 0;
      for (let j = 0; j < m; j++) size += (s >>> j) & 1;
      const w = (fact(size) * fact(m - size - 1)) / fact(m);
      for (let c = 0; c < k; c++)
        phi[c * m + i] =
          (phi[c * m + i] as number) + w * ((v[(s | (1 << i)) * k + c] as number) - (v[s * k + c] as number));
    }
  return phi;
}

async function shap(model: BatchModel, x: Float32Array, bg: Background, seed = 1, nsamples?: number) {
  const fx = await expectedValue(model, uniformBackground(x, 1, model.features));
  const base = await expectedValue(model, bg);
  const result = await kernelShap(model, x, fx, base, bg, {
    random: new SeededRandom(seed),
    ...(nsamples !== undefined ? { nsamples } : {}),
  });
  return { ...result, fx, base };
}

function assertSums(phi: Float64Array, fx: Float64Array, base: Float64Array, m: number): void {
  for (let c = 0; c < fx.length; c++) {
    let s = 0;
    for (let j = 0; j < m; j++) s += phi[c * m + j] as number;
    assert.ok(Math.abs(s - ((fx[c] as number) - (base[c] as number))) < 1e-6, `class ${c}: Σφ = ${s}`);
  }
}

describe('KernelSHAP', () => {
  test('a linear model: exact enumeration gives w_i·(x_i − mean background x_i), and Σφ = f(x) − E[f]', async () => {
    const w = [0.5, -2, 1.25, 3, -0.75];
    const model = linear(w, [0.1, -0.2]);
    const bgData = randomRows(30, 5, 2);
    const bg = uniformBackground(bgData, 30, 5);
    const x = randomRows(1, 5, 3);
    const r = await shap(model, x, bg);
    assert.equal(r.exact, true);
    assert.equal(r.coalitions, 30);
    const mean = featureStats(bgData, 30, 5).mean;
    for (let c = 0; c < 2; c++)
      for (let j = 0; j < 5; j++) {
        const expected = (c + 1) * (w[j] as number) * ((x[j] as number) - (mean[j] as number));
        assert.ok(Math.abs((r.attributions[c * 5 + j] as number) - expected) < 1e-9, `φ[${c}][${j}]`);
      }
    assertSums(r.attributions, r.fx, r.base, 5);
  });

  test('a linear model of 40 features with the default (sampled) budget is exact too', async () => {
    const w = Array.from({ length: 40 }, (_, j) => Math.sin(j + 1) * 2);
    const model = linear(w);
    const bgData = randomRows(20, 40, 4);
    const bg = uniformBackground(bgData, 20, 40);
    const x = randomRows(1, 40, 5);
    const r = await shap(model, x, bg);
    assert.equal(r.exact, false);
    assert.equal(r.coalitions, 2 * 40 + 2048);
    const mean = featureStats(bgData, 20, 40).mean;
    for (let j = 0; j < 40; j++) {
      const expected = (w[j] as number) * ((x[j] as number) - (mean[j] as number));
      assert.ok(Math.abs((r.attributions[j] as number) - expected) < 1e-3, `φ[${j}]`);
    }
    assertSums(r.attributions, r.fx, r.base, 40);
    assert.ok(Math.max(...model.calls) <= 512, 'rows go in chunks of batchRows');
  });

  test('a non-linear model: exact enumeration matches the Shapley values from their definition', async () => {
    const model = jsModel(6, 2, (r, out) => {
      const [a = 0, b = 0, c = 0, d = 0, e = 0, f = 0] = r;
      out[0] = Math.tanh(a * b) + c * c * d - Math.max(e, f);
      out[1] = 1 / (1 + Math.exp(-(a + 2 * c - e * f)));
    });
    const bg = kmeansBackground(randomRows(200, 6, 6), 200, 6, 8, new SeededRandom(0));
    const x = randomRows(1, 6, 7);
    const r = await shap(model, x, bg);
    const reference = await bruteForceShapley(model, x, bg);
    for (let i = 0; i < reference.length; i++)
      assert.ok(Math.abs((r.attributions[i] as number) - (reference[i] as number)) < 1e-9, `φ ${i}`);
    assertSums(r.attributions, r.fx, r.base, 6);
  });

  test('a non-linear model of 12 features, sampled: close to the exact values; same seed, same answer', async () => {
    const model = jsModel(12, 1, (r, out) => {
      let s = 0;
      for (let j = 0; j < 12; j++) s += Math.sin((j + 1) * (r[j] as number)) * (j % 3 === 0 ? 2 : 0.5);
      out[0] = s + (r[0] as number) * (r[1] as number);
    });
    const bg = uniformBackground(randomRows(6, 12, 8), 6, 12);
    const x = randomRows(1, 12, 9);
    const reference = await bruteForceShapley(model, x, bg);
    const a = await shap(model, x, bg, 1, 1000);
    const b = await shap(model, x, bg, 1, 1000);
    const c = await shap(model, x, bg, 2, 1000);
    assert.equal(a.exact, false);
    assert.deepEqual(a.attributions, b.attributions);
    assert.notDeepEqual(a.attributions, c.attributions);
    const scale = Math.max(...Array.from(reference, Math.abs));
    for (let j = 0; j < 12; j++)
      assert.ok(Math.abs((a.attributions[j] as number) - (reference[j] as number)) < 0.05 * scale, `φ[${j}]`);
    assertSums(a.attributions, a.fx, a.base, 12);
    assertSums(c.attributions, c.fx, c.base, 12);
  });

  test('features equal to every background row get 0; one varying feature takes the whole difference', async () => {
    const model = linear([1, 2, 3]);
    const bg = uniformBackground(Float32Array.from([0, 5, 1, 0, 5, 2]), 2, 3);
    const r = await shap(model, Float32Array.from([0, 5, 4]), bg);
    assert.equal(r.attributions[0], 0);
    assert.equal(r.attributions[1], 0);
    assert.ok(Math.abs((r.attributions[2] as number) - 3 * (4 - 1.5)) < 1e-9);
  });

  test('coalition plans: kernel weights sum to 1; budgets beyond 2^M − 2 enumerate', () => {
    const exact = planCoalitions(8, 254, new SeededRandom(1));
    assert.equal(exact.exact, true);
    assert.equal(exact.count, 254);
    const sampled = planCoalitions(8, 200, new SeededRandom(1));
    assert.equal(sampled.exact, false);
    assert.equal(sampled.count, 200);
    for (const plan of [exact, sampled]) {
      const total = plan.weights.reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(total - 1) < 1e-9, `weights sum to ${total}`);
    }
  });
});

describe('k-means background', () => {
  test('weights sum to 1 and the weighted centroids keep the data mean', () => {
    const data = randomRows(500, 4, 11);
    const bg = kmeansBackground(data, 500, 4, 10, new SeededRandom(0));
    assert.equal(bg.rows, 10);
    assert.ok(Math.abs(bg.weights.reduce((a, b) => a + b, 0) - 1) < 1e-12);
    const mean = featureStats(data, 500, 4).mean;
    for (let j = 0; j < 4; j++) {
      let s = 0;
      for (let c = 0; c < bg.rows; c++) s += (bg.weights[c] as number) * (bg.data[c * 4 + j] as number);
      assert.ok(Math.abs(s - (mean[j] as number)) < 1e-5, `feature ${j}`);
    }
    assert.deepEqual(kmeansBackground(data, 500, 4, 10, new SeededRandom(0)), bg);
    assert.equal(kmeansBackground(data, 5, 4, 10, new SeededRandom(0)).rows, 5);
  });
});

describe('LIME', () => {
  test('a linear regressor: the top-k are the largest |w_i·σ_i|, coefficients ≈ w_i·σ_i, local R² ≥ 0.95', async () => {
    const w = [3, -0.2, 0.5, -4, 0.05, 1.5, 0.01, -2];
    const model = linear(w, [1]);
    // Features on different scales, so that |w| alone would rank them differently.
    const r0 = new SeededRandom(12);
    const sigma = [0.1, 5, 2, 0.5, 10, 1, 3, 0.3];
    const data = Float32Array.from({ length: 400 * 8 }, (_, i) =>
      Math.fround(r0.normal() * (sigma[i % 8] as number)),
    );
    const stats = featureStats(data, 400, 8);
    const x = Float32Array.from(data.subarray(0, 8));
    const result = await lime(model, x, stats, { random: new SeededRandom(1), topK: 3 });
    const byImpact = w
      .map((wj, j) => ({ j, impact: Math.abs(wj * (stats.std[j] as number)) }))
      .sort((a, b) => b.impact - a.impact)
      .map((e) => e.j);
    assert.deepEqual(result.topFeatures[0], byImpact.slice(0, 3));
    assert.ok((result.r2[0] as number) >= 0.95, `R² ${result.r2[0]}`);
    for (let j = 0; j < 8; j++) {
      const expected = (w[j] as number) * (stats.std[j] as number);
      assert.ok(
        Math.abs((result.coefficients[j] as number) - expected) < 0.01 * Math.abs(expected) + 0.01,
        `β[${j}]`,
      );
    }
    assert.equal(result.samples, 5000);
  });
});

describe('permutation importance', () => {
  test('a classifier reading features 3 and 5 ranks them first', async () => {
    const rows = 300;
    const data = randomRows(rows, 8, 13);
    const model = jsModel(8, 2, (r, out) => {
      out[0] = 0;
      out[1] = 2 * (r[3] as number) - (r[5] as number);
    });
    const labels = new Int32Array(rows);
    for (let i = 0; i < rows; i++)
      labels[i] = 2 * (data[i * 8 + 3] as number) - (data[i * 8 + 5] as number) > 0 ? 1 : 0;
    const result = await permutationImportance(model, data, rows, {
      random: new SeededRandom(1),
      score: accuracyScore(labels, 2),
    });
    assert.equal(result.baseline, 1);
    const ranked = Array.from(result.mean)
      .map((v, j) => ({ v, j }))
      .sort((a, b) => b.v - a.v)
      .map((e) => e.j);
    assert.deepEqual(ranked.slice(0, 2).sort(), [3, 5]);
    for (const j of [0, 1, 2, 4, 6, 7]) assert.equal(result.mean[j], 0);
  });

  test('a regressor with mean squared error', async () => {
    const rows = 200;
    const data = randomRows(rows, 4, 14);
    const model = linear([0, 3, 0, -1], [0]);
    const values = new Float64Array(rows);
    for (let i = 0; i < rows; i++) values[i] = 3 * (data[i * 4 + 1] as number) - (data[i * 4 + 3] as number);
    const result = await permutationImportance(model, data, rows, {
      random: new SeededRandom(1),
      score: negativeMseScore(values),
      repeats: 3,
    });
    assert.ok(Math.abs(result.baseline) < 1e-9);
    assert.ok((result.mean[1] as number) > (result.mean[3] as number));
    assert.ok((result.mean[3] as number) > 0);
    assert.equal(result.mean[0], 0);
  });
});
