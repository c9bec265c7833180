import { test } from 'node:test';
import assert from 'node:assert/strict';
import { minimizeLbfgs } from './lbfgs.js';
import { multiplyTransposed } from './matmul.js';
import { DenseNetwork } from './network.js';
import { batchObjective } from './objective.js';
import { Random } from './random.js';

test('the blocked kernel equals the plain triple loop for every remainder shape', () => {
  const random = new Random(1);
  for (const [m, n, k] of [
    [1, 1, 1],
    [2, 4, 3],
    [3, 5, 7],
    [5, 9, 2],
    [4, 8, 16],
    [7, 3, 1],
  ] as const) {
    const a = Float64Array.from({ length: m * k }, () => random.normal());
    const b = Float64Array.from({ length: n * k }, () => random.normal());
    const out = Float64Array.from({ length: m * n }, () => Number.NaN);
    multiplyTransposed(a, m, b, n, k, out, false);
    const acc = new Float64Array(m * n).fill(1);
    multiplyTransposed(a, m, b, n, k, acc, true);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let t = 0; t < k; t++) sum += (a[i * k + t] as number) * (b[j * k + t] as number);
        assert.ok(Math.abs((out[i * n + j] as number) - sum) < 1e-12, `${m}×${n}×${k} at ${i},${j}`);
        assert.ok(Math.abs((acc[i * n + j] as number) - 1 - sum) < 1e-12);
      }
    }
  }
});

for (const activation of ['relu', 'tanh'] as const) {
  for (const task of ['classification', 'regression'] as const) {
    test(`${activation} ${task}: analytic gradients (with L2 and the logistic pin) match finite differences`, () => {
      const random = new Random(2);
      const outputs = task === 'classification' ? 3 : 1;
      const network = DenseNetwork.initialized([4, 5, 3, outputs], random, activation);
      for (const layer of network.layers)
        for (let i = 0; i < layer.bias.length; i++) layer.bias[i] = random.uniformRange(-0.3, 0.3);
      const rows = 7;
      const x = Float64Array.from({ length: rows * 4 }, () => random.normal());
      const setup = {
        labels: task === 'classification' ? Int32Array.from({ length: rows }, (_, r) => r % 3) : null,
        targets: task === 'regression' ? Float64Array.from({ length: rows }, () => random.normal()) : null,
        l2: 0.03,
        pinFirstOutput: task === 'classification',
      };
      const ws = network.workspace(rows);
      const objective = () => {
        let sum = 0;
        for (const layer of network.layers) for (const w of layer.weights) sum += w * w;
        return (
          batchObjective(network, ws, x, rows, { ...setup, pinFirstOutput: false }, null) +
          0.5 * setup.l2 * sum
        );
      };
      const analytic = new Float64Array(network.parameters.length);
      batchObjective(network, ws, x, rows, setup, analytic);
      const p = network.parameters;
      const last = network.layerViews(analytic)[2];
      const pinned = new Set<number>();
      if (setup.pinFirstOutput && last !== undefined) {
        const offset = p.length - last.weights.length - last.bias.length;
        for (let i = 0; i < last.inputs; i++) pinned.add(offset + i);
        pinned.add(p.length - last.bias.length);
      }
      let worst = 0;
      for (let i = 0; i < p.length; i++) {
        if (pinned.has(i)) {
          assert.equal(analytic[i], 0);
          continue;
        }
        const saved = p[i] as number;
        p[i] = saved + 1e-6;
        const up = objective();
        p[i] = saved - 1e-6;
        const down = objective();
        p[i] = saved;
        const numeric = (up - down) / 2e-6;
        worst = Math.max(
          worst,
          Math.abs(numeric - (analytic[i] as number)) /
            Math.max(1e-4, Math.abs(numeric) + Math.abs(analytic[i] as number)),
        );
      }
      assert.ok(worst < 1e-5, `worst relative gradient error ${worst}`);
    });
  }
}

test('L-BFGS finds the minimum of the Rosenbrock function and of a quadratic', () => {
  const rosenbrock = (x: Float64Array, g: Float64Array) => {
    const [a, b] = [x[0] as number, x[1] as number];
    g[0] = -2 * (1 - a) - 400 * a * (b - a * a);
    g[1] = 200 * (b - a * a);
    return (1 - a) ** 2 + 100 * (b - a * a) ** 2;
  };
  const x = Float64Array.of(-1.2, 1);
  const result = minimizeLbfgs(rosenbrock, x, { gradientTolerance: 1e-9 });
  assert.ok(result.converged);
  assert.ok(
    Math.abs((x[0] as number) - 1) < 1e-6 && Math.abs((x[1] as number) - 1) < 1e-6,
    `${x[0]}, ${x[1]}`,
  );
  const seen: number[] = [];
  const q = Float64Array.of(5, -3, 2);
  minimizeLbfgs(
    (v, g) => {
      let f = 0;
      for (let i = 0; i < v.length; i++) {
        const d = (v[i] as number) - i;
        g[i] = 2 * (i + 1) * d;
        f += (i + 1) * d * d;
      }
      return f;
    },
    q,
    { onIteration: (_, value) => seen.push(value) },
  );
  assert.deepEqual(
    [...q].map((v) => Math.round(v * 1e6) / 1e6),
    [0, 1, 2],
  );
  assert.ok(seen.every((v, i) => i === 0 || v <= (seen[i - 1] as number)));
});

test('a workspace forward pass equals forward() and float32 inputs equal float64 ones', () => {
  const random = new Random(3);
  const network = DenseNetwork.initialized([6, 9, 4], random, 'tanh');
  const x = Float32Array.from({ length: 5 * 6 }, () => random.normal());
  const ws = network.workspace(8);
  const a = Float64Array.from(network.forwardBatch(x, 5, ws).subarray(0, 20));
  const b = network.forward(Float64Array.from(x), 5);
  assert.deepEqual(a, b);
  assert.equal(network.clone().activation, 'tanh');
  assert.throws(
    () => new DenseNetwork([2, 2], undefined, 'gelu' as 'relu'),
    /activation must be one of relu, tanh/,
  );
});
