/**
 * Explanations through the HTTP route and the serving runtime (`inject`): KernelSHAP on ONNX linear
 * models built here equals the exact Shapley values w_i·(x_i − mean background x_i), with explicit
 * background (exact enumeration) and with the reference summarised by k-means (sampled budget);
 * the digits MLP agrees with itself across seeds; LIME on a linear regressor; the bad inputs.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { attachReference } from '../../engine/index.js';
import { GraphBuilder, writeModel } from '../../onnx/index.js';
import {
  DIGITS_MLP,
  SMALL_CNN,
  injectJson,
  openInjectApp,
  seededRandom,
  type InjectApp,
} from './inject.test-helper.js';

const W5 = [
  [0.5, -1],
  [-2, 0.25],
  [1.25, 3],
  [3, -0.5],
  [-0.75, 1],
];
const B5 = [0.1, -0.3];
const W20 = Array.from({ length: 20 }, (_, j) => Math.fround(Math.sin(j + 1) * 2));
const SIGMA20 = Array.from({ length: 20 }, (_, j) => 0.2 + (j % 5));

/** x [batch, M] → MatMul W [M, K] + b → `name` [batch, K]. */
function linearModel(w: number[][], b: number[], output: string): Uint8Array {
  const m = w.length;
  const k = b.length;
  return writeModel(
    new GraphBuilder('linear')
      .input('x', 'FP32', ['batch', m])
      .output(output, 'FP32', ['batch', k])
      .initializer('w', Float32Array.from(w.flat()), [m, k])
      .initializer('b', Float32Array.from(b), [k])
      .node('MatMul', ['x', 'w'], ['xw'])
      .node('Add', ['xw', 'b'], [output])
      .build(),
  );
}

function randomRows(rows: number, sigma: readonly number[], seed: number): number[][] {
  const r = seededRandom(seed);
  const normal = () => Math.sqrt(-2 * Math.log(r() || 1e-12)) * Math.cos(2 * Math.PI * r());
  return Array.from({ length: rows }, () => sigma.map((s) => Math.fround(normal() * s)));
}

const REFERENCE20 = randomRows(300, SIGMA20, 3);

/** The digits data set scaled as the MLP reads it (pixels / 16), 64 columns then the digit. */
function digitsRows(): number[][] {
  const path = fileURLToPath(new URL('../../../assets/datasets/digits.csv', import.meta.url));
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(',').map(Number))
    .map((cells) => [...cells.slice(0, 64).map((v) => v / 16), cells[64] as number]);
}
const DIGITS = digitsRows();

const csv = (header: string[], rows: number[][]) =>
  `${[header.join(','), ...rows.map((r) => r.join(','))].join('\n')}\n`;

let t: InjectApp;
const explain = (model: string, body: unknown, version?: string) =>
  injectJson(t.app, 'POST', `/v2/models/${model}${version ? `/versions/${version}` : ''}/explain`, body);
const rowsBody = (rows: number[][], parameters?: Record<string, unknown>) => ({
  inputs: [{ name: 'x', datatype: 'FP32', shape: [rows.length, rows[0]?.length ?? 0], data: rows.flat() }],
  ...(parameters ? { parameters } : {}),
});

interface Explained {
  name: string;
  classes: string[];
  base_value: number[];
  attributions: number[][][];
  feature_names: string[];
  local_r2?: number[][];
  top_features?: number[][][];
}

before(async () => {
  t = await openInjectApp({
    registry: [
      { name: 'logit5', model: linearModel(W5, B5, 'logits') },
      {
        name: 'reg20',
        model: linearModel(
          W20.map((v) => [v]),
          [0.7],
          'value',
        ),
      },
      { name: 'digits', model: DIGITS_MLP },
      { name: 'cnn', model: SMALL_CNN },
    ],
    prepare: async (registry) => {
      const names20 = Array.from({ length: 20 }, (_, j) => `f${j}`);
      await attachReference(
        registry,
        'reg20',
        undefined,
        csv(
          [...names20, 'y'],
          REFERENCE20.map((r) => [...r, 0]),
        ),
        'test',
      );
      const pixels = Array.from({ length: 64 }, (_, j) => `pixel_${Math.floor(j / 8)}_${j % 8}`);
      const even = DIGITS.filter((_, i) => i % 2 === 0).slice(0, 400);
      await attachReference(registry, 'digits', undefined, csv([...pixels, 'digit'], even), 'test');
    },
    config: { limits: { max_explain_nsamples: 50_000 } },
  });
});

after(() => t?.close());

function sumOf(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** Spearman's rank correlation (average ranks for ties). */
function spearman(a: readonly number[], b: readonly number[]): number {
  const ranks = (v: readonly number[]) => {
    const order = v.map((x, i) => ({ x, i })).sort((p, q) => p.x - q.x);
    const r = new Array<number>(v.length);
    for (let s = 0; s < order.length;) {
      let e = s;
      while (e + 1 < order.length && order[e + 1]?.x === order[s]?.x) e++;
      for (let k = s; k <= e; k++) r[(order[k] as { i: number }).i] = (s + e) / 2;
      s = e + 1;
    }
    return r;
  };
  const ra = ranks(a);
  const rb = ranks(b);
  const mean = (v: number[]) => sumOf(v) / v.length;
  const ma = mean(ra);
  const mb = mean(rb);
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < ra.length; i++) {
    num += ((ra[i] as number) - ma) * ((rb[i] as number) - mb);
    da += ((ra[i] as number) - ma) ** 2;
    db += ((rb[i] as number) - mb) ** 2;
  }
  return num / Math.sqrt(da * db);
}

describe('explain: KernelSHAP', () => {
  test('a logistic-style model (logits = W·x + b), explicit background: exact Shapley values, Σφ = f(x) − E[f]', async () => {
    const background = randomRows(12, [1, 1, 1, 1, 1], 1);
    const rows = randomRows(3, [1, 2, 1, 0.5, 1], 2);
    const res = await explain('logit5', rowsBody(rows, { background, seed: 4 }));
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(
      Object.keys(res.body).sort(),
      ['method', 'model_name', 'model_version', 'nsamples', 'outputs', 'seconds'].sort(),
    );
    assert.equal(res.body['method'], 'kernel_shap');
    assert.equal(res.body['model_version'], '1');
    assert.equal(res.body['nsamples'], 30, 'all 2^5 − 2 coalitions');
    const [out] = res.body['outputs'] as Explained[];
    assert.ok(out);
    assert.deepEqual(
      Object.keys(out).sort(),
      ['attributions', 'base_value', 'classes', 'feature_names', 'name'].sort(),
    );
    assert.equal(out.name, 'logits');
    assert.deepEqual(out.classes, ['0', '1']);
    assert.deepEqual(out.feature_names, ['x[0]', 'x[1]', 'x[2]', 'x[3]', 'x[4]']);
    const mean = [0, 1, 2, 3, 4].map((j) => sumOf(background.map((r) => r[j] as number)) / background.length);
    const f = (x: number[], c: number) =>
      (B5[c] as number) + sumOf(x.map((v, j) => v * (W5[j]?.[c] as number)));
    rows.forEach((x, r) => {
      for (let c = 0; c < 2; c++) {
        const phi = out.attributions[r]?.[c] as number[];
        phi.forEach((p, j) => {
          const exact = (W5[j]?.[c] as number) * ((x[j] as number) - (mean[j] as number));
          assert.ok(Math.abs(p - exact) < 1e-3, `row ${r} class ${c} feature ${j}: ${p} vs ${exact}`);
        });
        const expectedF = f(mean, c);
        assert.ok(Math.abs((out.base_value[c] as number) - expectedF) < 1e-4);
        // Σφ = f(x) − E[f] up to the float32 arithmetic of the model itself.
        assert.ok(Math.abs(sumOf(phi) - (f(x, c) - (out.base_value[c] as number))) < 1e-4);
      }
    });
  });

  test('a linear regressor with a reference (k-means background), default nsamples: exact within 1e-3', async () => {
    const x = randomRows(1, SIGMA20, 9);
    const res = await explain('reg20', rowsBody(x));
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body['nsamples'], 2 * 20 + 2048);
    const [out] = res.body['outputs'] as Explained[];
    assert.ok(out);
    assert.deepEqual(out.classes, ['value']);
    assert.equal(out.feature_names[3], 'f3');
    const mean = W20.map((_, j) => sumOf(REFERENCE20.map((r) => r[j] as number)) / REFERENCE20.length);
    const phi = out.attributions[0]?.[0] as number[];
    phi.forEach((p, j) => {
      const exact = (W20[j] as number) * ((x[0]?.[j] as number) - (mean[j] as number));
      assert.ok(Math.abs(p - exact) < 1e-3, `feature ${j}: ${p} vs ${exact}`);
    });
  });

  test('the sum property is exact against the model outputs the explanation used (within 1e-6)', async () => {
    const x = randomRows(2, SIGMA20, 10);
    const res = await explain('reg20', rowsBody(x, { nsamples: 500 }));
    assert.equal(res.status, 200, res.text);
    const [out] = res.body['outputs'] as Explained[];
    const infer = await injectJson(t.app, 'POST', '/v2/models/reg20/infer', rowsBody(x));
    const fx = (infer.body['outputs'] as { data: number[] }[])[0]?.data as number[];
    x.forEach((_, r) => {
      const phi = out?.attributions[r]?.[0] as number[];
      assert.ok(Math.abs(sumOf(phi) - ((fx[r] as number) - (out?.base_value[0] as number))) < 1e-6);
    });
  });

  test('digits MLP: seeds 1 and 2 agree (rank correlation of |φ| ≥ 0.9), Σφ = f(x) − E[f] per class', async () => {
    const pixels = [DIGITS[1]?.slice(0, 64) as number[]];
    const body = (seed: number) => ({
      inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 64], data: pixels.flat() }],
      parameters: { seed },
    });
    const [a, b] = await Promise.all([explain('digits', body(1)), explain('digits', body(2))]);
    assert.equal(a.status, 200, a.text);
    assert.equal(b.status, 200, b.text);
    const oa = (a.body['outputs'] as Explained[])[0] as Explained;
    const ob = (b.body['outputs'] as Explained[])[0] as Explained;
    assert.equal(oa.classes.length, 10);
    assert.equal(oa.feature_names[9], 'pixel_1_1');
    const infer = await injectJson(t.app, 'POST', '/v2/models/digits/infer', body(1));
    const logits = (infer.body['outputs'] as { data: number[] }[])[0]?.data as number[];
    const predicted = logits.indexOf(Math.max(...logits));
    assert.equal(predicted, DIGITS[1]?.[64]);
    const abs = (o: Explained, c: number) => (o.attributions[0]?.[c] as number[]).map(Math.abs);
    const rho = spearman(abs(oa, predicted), abs(ob, predicted));
    assert.ok(rho >= 0.9, `rank correlation ${rho}`);
    for (let c = 0; c < 10; c++) {
      const phi = oa.attributions[0]?.[c] as number[];
      assert.ok(
        Math.abs(sumOf(phi) - ((logits[c] as number) - (oa.base_value[c] as number))) < 1e-6,
        `class ${c}`,
      );
    }
    const again = await explain('digits', body(1));
    assert.deepEqual(
      (again.body['outputs'] as Explained[])[0]?.attributions,
      oa.attributions,
      'same seed, same answer',
    );
  });
});

describe('explain: LIME', () => {
  test('a linear regressor: top-k are the largest |w_i·σ_i|, local R² ≥ 0.95', async () => {
    const x = randomRows(1, SIGMA20, 11);
    const res = await explain('reg20', rowsBody(x, { method: 'lime', top_k: 5, seed: 3 }));
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body['method'], 'lime');
    assert.equal(res.body['nsamples'], 5000);
    const [out] = res.body['outputs'] as Explained[];
    const sd = W20.map((_, j) => {
      const column = REFERENCE20.map((r) => r[j] as number);
      const mu = sumOf(column) / column.length;
      return Math.sqrt(sumOf(column.map((v) => (v - mu) ** 2)) / column.length);
    });
    const expected = W20.map((w, j) => ({ j, impact: Math.abs(w * (sd[j] as number)) }))
      .sort((p, q) => q.impact - p.impact)
      .slice(0, 5)
      .map((e) => e.j);
    assert.deepEqual(out?.top_features?.[0]?.[0], expected);
    assert.ok((out?.local_r2?.[0]?.[0] as number) >= 0.95, `R² ${out?.local_r2?.[0]?.[0]}`);
  });
});

describe('explain: bad input', () => {
  test('a model with non-tabular input: 400 saying which models the methods apply to', async () => {
    const res = await explain('cnn', {
      inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 3, 32, 32], data: new Array(3072).fill(0) }],
    });
    assert.equal(res.status, 400, res.text);
    assert.equal(res.body['code'], 'TEND_INVALID_ARGUMENT');
    assert.match(
      res.body['error'] as string,
      /model 'cnn' version 1 cannot be explained: its input 'image' FP32 \[batch, 3, 32, 32\] has 3072 elements per row/,
    );
    assert.match(
      res.body['error'] as string,
      /kernel_shap and lime apply to models with one FP32 or FP64 input shaped \[batch, features\] with at most 1024 features/,
    );
  });

  test('nsamples ≤ 0, over the cap, and other bad parameters: 400 naming the field', async () => {
    const x = randomRows(1, SIGMA20, 12);
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ nsamples: 0 }, /parameters\.nsamples must be a positive integer, got 0/],
      [{ nsamples: -5 }, /parameters\.nsamples must be a positive integer, got -5/],
      [{ nsamples: 2.5 }, /parameters\.nsamples must be a positive integer/],
      [
        { nsamples: 50_001 },
        /parameters\.nsamples 50001 is over the server's limit of 50000 \(limits\.max_explain_nsamples\)/,
      ],
      [{ method: 'deep_shap' }, /parameters\.method must be one of kernel_shap, lime/],
      [{ seed: 'x' }, /parameters\.seed must be an integer/],
      [{ nsample: 10 }, /unknown parameter\(s\) 'nsample'/],
      [{ output: 'nope' }, /parameters\.output 'nope' is not an output of model 'reg20'/],
      [{ background: [[1, 2]] }, /parameters\.background\[0\] has 2 values but input 'x' takes 20 features/],
      [{ background: [['a']] }, /parameters\.background\[0\] must be an array of finite numbers/],
    ];
    for (const [parameters, message] of cases) {
      const res = await explain('reg20', rowsBody(x, parameters));
      assert.equal(res.status, 400, `${JSON.stringify(parameters)}: ${res.text}`);
      assert.equal(res.body['code'], 'TEND_INVALID_ARGUMENT');
      assert.match(res.body['error'] as string, message);
    }
    const wrongInput = await explain('reg20', {
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }],
    });
    assert.equal(wrongInput.status, 400, wrongInput.text);
    assert.equal(wrongInput.body['code'], 'TEND_INVALID_INPUT');
  });

  test('no reference data and no background: 400 naming both ways to fix it', async () => {
    const res = await explain('logit5', rowsBody(randomRows(1, [1, 1, 1, 1, 1], 5)));
    assert.equal(res.status, 400, res.text);
    assert.match(
      res.body['error'] as string,
      /model 'logit5' version 1 has no reference data and the request gives no background/,
    );
    assert.match(res.body['error'] as string, /tend monitor reference set logit5@1 FILE\.csv/);
    assert.match(res.body['error'] as string, /parameters\.background/);
  });

  test('unknown model and version: 404; the versioned path works', async () => {
    const body = rowsBody(randomRows(1, SIGMA20, 13), { nsamples: 100 });
    assert.equal((await explain('nope', body)).status, 404);
    assert.equal((await explain('reg20', body, '7')).status, 404);
    const ok = await explain('reg20', body, '1');
    assert.equal(ok.status, 200, ok.text);
    // The server keeps serving after the refusals.
    assert.equal((await injectJson(t.app, 'POST', '/v2/models/reg20/infer', body)).status, 200);
  });
});
