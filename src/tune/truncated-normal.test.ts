import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { TuneRandom } from './rng.js';
import { erfc, logSumExp, sampleTruncatedNormal, truncatedNormalLogPdf } from './truncated-normal.js';

/** SciPy's values, written by scripts/fixtures/tune_truncnorm.py. */
const FIXTURE = JSON.parse(
  readFileSync(resolve(import.meta.dirname, '../../fixtures/tune/truncnorm.json'), 'utf8'),
) as { meta: { scipy: string }; erfc: [number, number][]; logpdf: number[][] };

test('the fixture records the SciPy that made it', () => {
  assert.equal(FIXTURE.meta.scipy, '1.10.1');
});

test('erfc matches SciPy to a relative 1.2e-7, tails included', () => {
  for (const [x, expected] of FIXTURE.erfc) {
    const got = erfc(x);
    assert.ok(Math.abs(got - expected) <= 1.2e-7 * expected, `erfc(${x}) = ${got}, SciPy ${expected}`);
  }
});

test('the truncated normal log density matches scipy.stats.truncnorm.logpdf, far kernels included', () => {
  for (const [x, mu, sigma, low, high, expected] of FIXTURE.logpdf as [
    number,
    number,
    number,
    number,
    number,
    number,
  ][]) {
    const got = truncatedNormalLogPdf(x, mu, sigma, low, high);
    assert.ok(
      Math.abs(got - expected) <= 1e-6 * Math.max(1, Math.abs(expected)),
      `logpdf(${x}; ${mu}, ${sigma}, [${low}, ${high}]) = ${got}, SciPy ${expected}`,
    );
  }
});

test('draws stay inside the interval and follow the density (mean of a one-sided kernel)', () => {
  const rng = new TuneRandom(1);
  let sum = 0;
  const n = 20_000;
  for (let i = 0; i < n; i++) {
    const x = sampleTruncatedNormal(rng, 0, 1, 0, 10);
    assert.ok(x >= 0 && x <= 10);
    sum += x;
  }
  // Half-normal mean: sqrt(2/pi) = 0.7979; the standard error at n = 20,000 is about 0.004.
  assert.ok(Math.abs(sum / n - Math.sqrt(2 / Math.PI)) < 0.02, `mean ${sum / n}`);
  assert.equal(logSumExp([-Infinity, -Infinity]), -Infinity);
  assert.ok(Math.abs(logSumExp([1000, 1000]) - (1000 + Math.log(2))) < 1e-9);
});
