import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TendError } from '../core/errors.js';
import {
  chiSquaredSf,
  kolmogorovSf,
  logGamma,
  normalSf,
  regularizedGammaQ,
  roundHalfEven,
} from './drift-distributions.js';
import {
  chiSquareTest,
  histogramCounts,
  jensenShannonDistance,
  ks2samp,
  populationStabilityIndex,
  proportionZTest,
  psiBand,
  quantileOfSorted,
  sturgesEdges,
  wassersteinDistance,
} from './drift-stats.js';
import { assertClose, column, driftFixture, numbers } from './drift-fixture.test-helper.js';
import type { FixtureColumn } from './drift-fixture.test-helper.js';

interface StatsFixture {
  meta: { scipy: string; numpy: string };
  kstwo_sf: { n: number; x: number; sf: number }[];
  chi2_sf: { x: number; df: number; sf: number }[];
  norm_sf: { z: number; sf: number }[];
  ks_2samp: {
    name: string;
    a: FixtureColumn;
    b: FixtureColumn;
    method: string;
    statistic: number;
    p_value: number;
  }[];
  chisquare: { f_obs: number[]; f_exp: number[]; statistic: number; p_value: number }[];
  wasserstein: { a: FixtureColumn; b: FixtureColumn; distance: number }[];
  jensenshannon: { p: number[]; q: number[]; distance: number }[];
  histogram: {
    a: FixtureColumn;
    b: FixtureColumn;
    edges: number[];
    counts_a: number[];
    counts_b: number[];
    jensenshannon: number;
  }[];
  psi: { a: FixtureColumn; b: FixtureColumn; bins: number; psi: number }[];
}

const fixture = driftFixture<StatsFixture>();

function throwsInvalidArgument(fn: () => unknown): void {
  assert.throws(fn, (err: unknown) => err instanceof TendError && err.code === 'TEND_INVALID_ARGUMENT');
}

test('the fixture records the SciPy and NumPy that made it', () => {
  assert.equal(fixture.meta.scipy, '1.10.1');
  assert.equal(fixture.meta.numpy, '1.24.2');
});

test('kstwo.sf: every region of (n, x) matches SciPy', () => {
  assert.ok(fixture.kstwo_sf.length > 150);
  for (const { n, x, sf } of fixture.kstwo_sf) assertClose(kolmogorovSf(n, x), sf, `kstwo.sf(${x}, ${n})`);
});

test('chi2.sf and norm.sf match SciPy, with relative accuracy in the far tail', () => {
  for (const { x, df, sf } of fixture.chi2_sf) {
    assertClose(chiSquaredSf(x, df), sf, `chi2.sf(${x}, ${df})`);
    if (sf > 0) assert.ok(Math.abs(chiSquaredSf(x, df) / sf - 1) < 1e-10, `chi2.sf(${x}, ${df}) relative`);
  }
  for (const { z, sf } of fixture.norm_sf) {
    assertClose(normalSf(z), sf, `norm.sf(${z})`);
    assert.ok(Math.abs(normalSf(z) / sf - 1) < 1e-10, `norm.sf(${z}) relative`);
  }
});

test('special functions: known values and edges', () => {
  assertClose(logGamma(0.5), Math.log(Math.sqrt(Math.PI)), 'lgamma(1/2)', 1e-14);
  assertClose(logGamma(1), 0, 'lgamma(1)', 1e-14);
  assertClose(logGamma(171), 706.5730622457874, 'lgamma(171)', 1e-14);
  assert.ok(Number.isNaN(logGamma(0)));
  assert.equal(regularizedGammaQ(2, 0), 1);
  assert.equal(regularizedGammaQ(2, Infinity), 0);
  assert.equal(chiSquaredSf(Infinity, 3), 0);
  assert.equal(normalSf(0), 0.5);
  assert.equal(roundHalfEven(2.5), 2);
  assert.equal(roundHalfEven(3.5), 4);
  assert.equal(roundHalfEven(-2.5), -2);
  assert.equal(roundHalfEven(2.4), 2);
  assert.ok(Number.isNaN(kolmogorovSf(2.5, 0.3)));
});

test('ks_2samp: statistic, p-value and method match SciPy (exact, n1 == n2, ties, asymptotic)', () => {
  const methods = new Set<string>();
  for (const c of fixture.ks_2samp) {
    const r = ks2samp(numbers(c.a), numbers(c.b));
    assertClose(r.statistic, c.statistic, `${c.name}: D`, 1e-12);
    assertClose(r.p_value, c.p_value, `${c.name}: p`);
    assert.equal(r.method, c.method.startsWith('exact') ? 'exact' : 'asymptotic', c.name);
    // Tiny p-values keep their relative accuracy: no cancellation in the exact recursion.
    if (c.p_value < 1e-6 && r.method === 'exact') {
      assert.ok(Math.abs(r.p_value / c.p_value - 1) < 1e-8, `${c.name}: p relative`);
    }
    methods.add(r.method);
  }
  assert.deepEqual([...methods].sort(), ['asymptotic', 'exact']);
});

test('ks_2samp is symmetric in its samples and rejects an empty one', () => {
  const a = [0.1, 0.4, 0.35, 0.8, 1.2];
  const b = [0.5, 1.1, 1.3, 0.95];
  assert.deepEqual(ks2samp(a, b), ks2samp(b, a));
  throwsInvalidArgument(() => ks2samp([], b));
  throwsInvalidArgument(() => ks2samp(a, []));
});

test('chisquare matches SciPy; an unexpected category gives p = 0; bad shapes throw', () => {
  for (const c of fixture.chisquare) {
    const r = chiSquareTest(c.f_obs, c.f_exp);
    assertClose(r.statistic, c.statistic, `chisquare ${JSON.stringify(c.f_obs)}: statistic`);
    assertClose(r.p_value, c.p_value, `chisquare ${JSON.stringify(c.f_obs)}: p`);
  }
  assert.deepEqual(chiSquareTest([3, 4, 2], [4.5, 4.5, 0]), { statistic: Infinity, p_value: 0 });
  assert.deepEqual(chiSquareTest([3], [3]), { statistic: 0, p_value: 1 });
  throwsInvalidArgument(() => chiSquareTest([1, 2], [1]));
  throwsInvalidArgument(() => chiSquareTest([], []));
});

test('proportion z-test: a hand-checked value, symmetry, degenerate shares', () => {
  // 70 of 100 against 50 of 100: pooled 0.6, z = 0.2 / sqrt(0.24 * 0.02).
  const r = proportionZTest(70, 100, 50, 100);
  assertClose(r.statistic, 0.2 / Math.sqrt(0.0048), 'z', 1e-12);
  assertClose(r.p_value, 2 * normalSf(r.statistic), 'p', 1e-15);
  assert.equal(proportionZTest(50, 100, 70, 100).p_value, r.p_value);
  assert.deepEqual(proportionZTest(10, 10, 5, 5), { statistic: 0, p_value: 1 });
  assert.deepEqual(proportionZTest(0, 10, 0, 5), { statistic: 0, p_value: 1 });
  throwsInvalidArgument(() => proportionZTest(0, 0, 1, 2));
});

test('wasserstein_distance matches SciPy', () => {
  for (const c of fixture.wasserstein) {
    assertClose(wassersteinDistance(numbers(c.a), numbers(c.b)), c.distance, 'wasserstein', 1e-9);
  }
  assert.equal(wassersteinDistance([1, 2, 3], [3, 2, 1]), 0);
  throwsInvalidArgument(() => wassersteinDistance([], [1]));
});

test('jensenshannon matches SciPy and rejects bad weights', () => {
  for (const c of fixture.jensenshannon) {
    assertClose(jensenShannonDistance(c.p, c.q), c.distance, `jensenshannon ${JSON.stringify(c.p)}`, 1e-12);
  }
  throwsInvalidArgument(() => jensenShannonDistance([1, 2], [1]));
  throwsInvalidArgument(() => jensenShannonDistance([0, 0], [1, 1]));
  throwsInvalidArgument(() => jensenShannonDistance([-1, 2], [1, 1]));
});

test("Sturges bin edges and counts are NumPy's, and so is the binned Jensen-Shannon distance", () => {
  for (const c of fixture.histogram) {
    const a = numbers(c.a);
    const b = numbers(c.b);
    const edges = sturgesEdges([...a, ...b]);
    assert.equal(edges.length, c.edges.length);
    edges.forEach((e, k) => assertClose(e, c.edges[k] ?? null, `edge ${k}`, 1e-15));
    assert.deepEqual(histogramCounts(a, edges), c.counts_a);
    assert.deepEqual(histogramCounts(b, edges), c.counts_b);
    const p = histogramCounts(a, edges).map((n) => n / a.length);
    const q = histogramCounts(b, edges).map((n) => n / b.length);
    assertClose(jensenShannonDistance(p, q), c.jensenshannon, 'binned jensenshannon', 1e-12);
  }
  assert.deepEqual(sturgesEdges([2, 2, 2]), [1.5, 2.5]);
  assert.deepEqual(histogramCounts([0, 1, 2, 3, 9], [0, 1.5, 3]), [2, 2]);
  throwsInvalidArgument(() => sturgesEdges([]));
});

test('PSI with reference-decile bins matches the NumPy computation of the fixture', () => {
  for (const c of fixture.psi) {
    assertClose(
      populationStabilityIndex(numbers(c.a), numbers(c.b), c.bins),
      c.psi,
      `psi ${JSON.stringify(c.b)}`,
      1e-9,
    );
  }
  const same = column({ seed: 5, n: 200 }) as number[];
  assertClose(populationStabilityIndex(same, same), 0, 'psi of a sample with itself', 1e-15);
  assert.equal(psiBand(0.05), 'stable');
  assert.equal(psiBand(0.1), 'moderate');
  assert.equal(psiBand(0.25), 'significant');
  throwsInvalidArgument(() => populationStabilityIndex([1, 2], [1], 1));
  throwsInvalidArgument(() => populationStabilityIndex([], [1]));
});

test('quantiles interpolate linearly as NumPy does', () => {
  const sorted = [1, 2, 4, 8];
  assert.equal(quantileOfSorted(sorted, 0), 1);
  assert.equal(quantileOfSorted(sorted, 1), 8);
  assert.equal(quantileOfSorted(sorted, 0.5), 3);
  assertClose(quantileOfSorted(sorted, 0.9), 6.8, 'q0.9', 1e-15);
});
