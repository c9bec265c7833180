import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectDrift } from './drift.js';
import type { Columns, DriftOptions, FeatureDrift, StatTestName } from './drift.js';
import { assertClose, column, driftFixture, sample } from './drift-fixture.test-helper.js';
import type { FixtureColumn } from './drift-fixture.test-helper.js';
import { hasCode } from '../core/test-support.test-helper.js';

interface DriftCase {
  name: string;
  reference: Record<string, FixtureColumn>;
  current: Record<string, FixtureColumn>;
  stattests: Record<string, StatTestName>;
  expected: {
    dataset_drift: boolean;
    drifted_share: number;
    features: Omit<FeatureDrift, 'psi_band' | 'skipped_reason'>[];
  };
}

const cases = driftFixture<{ drift: DriftCase[] }>().drift;

function table(spec: Record<string, FixtureColumn>): Columns {
  return Object.fromEntries(Object.entries(spec).map(([name, values]) => [name, column(values)]));
}

for (const c of cases) {
  test(`drift report matches Evidently's choices and SciPy's values: ${c.name}`, () => {
    const report = detectDrift(table(c.reference), table(c.current), { stattests: c.stattests });
    assert.equal(report.dataset_drift, c.expected.dataset_drift);
    assertClose(report.drifted_share, c.expected.drifted_share, 'drifted_share', 1e-15);
    assert.equal(report.features.length, c.expected.features.length);
    for (const [k, want] of c.expected.features.entries()) {
      const got = report.features[k];
      assert.ok(got !== undefined);
      const what = `${c.name} / ${want.name}`;
      assert.equal(got.name, want.name);
      assert.equal(got.column_type, want.column_type, `${what}: column_type`);
      assert.equal(got.stattest, want.stattest, `${what}: stattest`);
      assert.equal(got.threshold, want.threshold, `${what}: threshold`);
      assert.equal(got.drifted, want.drifted, `${what}: drifted`);
      assert.equal(got.reference_rows, want.reference_rows, `${what}: reference_rows`);
      assert.equal(got.current_rows, want.current_rows, `${what}: current_rows`);
      // The z statistic's sign depends on which value is counted; Evidently reports only p.
      const statistic =
        want.stattest === 'z' && got.statistic !== null ? Math.abs(got.statistic) : got.statistic;
      assertClose(
        statistic,
        want.stattest === 'z' && want.statistic !== null ? Math.abs(want.statistic) : want.statistic,
        `${what}: statistic`,
      );
      assertClose(got.p_value, want.p_value, `${what}: p_value`);
      assertClose(got.psi, want.psi, `${what}: psi`);
      assert.equal(got.skipped_reason, null);
    }
  });
}

test('the fixture covers every test, both sides of 1000 rows, drifted and stable features', () => {
  const all = cases.flatMap((c) => c.expected.features);
  assert.deepEqual(
    new Set(all.map((f) => f.stattest)),
    new Set(['ks', 'chisquare', 'z', 'wasserstein', 'jensenshannon', 'psi']),
  );
  assert.ok(all.some((f) => f.drifted) && all.some((f) => !f.drifted));
  assert.ok(cases.some((c) => c.expected.dataset_drift) && cases.some((c) => !c.expected.dataset_drift));
  // A category the reference never had: chi-squared is unbounded (reported as null) and p = 0.
  assert.ok(all.some((f) => f.stattest === 'chisquare' && f.statistic === null && f.p_value === 0));
});

test('JSON of a report has no NaN, Infinity or undefined', () => {
  const c = cases[0];
  assert.ok(c !== undefined);
  const report = detectDrift(table(c.reference), table(c.current));
  const text = JSON.stringify(report);
  assert.deepEqual(JSON.parse(text), report);
});

test('the prediction column is tested but reported apart from the features and the share', () => {
  const reference = { x: sample({ seed: 1, n: 200 }), score: sample({ seed: 2, n: 200 }) };
  const current = { x: sample({ seed: 3, n: 150 }), score: sample({ seed: 4, n: 150, shift: 0.3 }) };
  const report = detectDrift(reference, current, { predictionColumn: 'score' });
  assert.deepEqual(
    report.features.map((f) => f.name),
    ['x'],
  );
  assert.equal(report.prediction?.name, 'score');
  assert.equal(report.prediction?.stattest, 'ks');
  assert.equal(report.prediction?.drifted, true);
  assert.equal(report.number_of_drifted, 0);
  assert.equal(report.dataset_drift, false);
});

test('dataset drift needs the configured share of drifted features', () => {
  const reference = {
    a: sample({ seed: 1, n: 100 }),
    b: sample({ seed: 2, n: 100 }),
    c: sample({ seed: 3, n: 100 }),
  };
  const current = {
    a: sample({ seed: 4, n: 100, shift: 1 }),
    b: sample({ seed: 5, n: 100 }),
    c: sample({ seed: 6, n: 100 }),
  };
  const half = detectDrift(reference, current);
  assert.equal(half.number_of_drifted, 1);
  assert.equal(half.dataset_drift, false);
  const third = detectDrift(reference, current, { driftShare: 1 / 3 });
  assert.equal(third.dataset_drift, true);
  assert.equal(third.drift_share_threshold, 1 / 3);
});

test('missing values are left out: NaN, Infinity and null count as missing, never as values', () => {
  const reference = { x: [1, 2, 3, 4, 5, 6, 7, 8, Number.NaN, null, Infinity] };
  const current = { x: [1, 2, 3, 4, 5, 6, 7, 8, -Infinity, null] };
  const [x] = detectDrift(reference, current).features;
  assert.equal(x?.reference_rows, 8);
  assert.equal(x?.current_rows, 8);
  assert.equal(x?.statistic, 0);
  assert.equal(x?.p_value, 1);
});

test('an all-missing column is skipped and left out of the share, not an error', () => {
  const reference = {
    a: [1, 2, 3, 4, 5, 6, 7],
    gone: [null, null, null, null, null, null, null],
    b: ['u', 'v', 'u', 'w', 'u', 'v', 'u'],
  };
  const report = detectDrift(reference, { a: [1, 2, 3], gone: [1, 2, 3], b: [null, Number.NaN, null] });
  const byName = new Map(report.features.map((f) => [f.name, f]));
  assert.equal(byName.get('gone')?.skipped_reason, 'reference has no usable values');
  assert.equal(byName.get('b')?.skipped_reason, 'current has no usable values');
  assert.equal(byName.get('b')?.statistic, null);
  assert.equal(byName.get('b')?.drifted, false);
  assert.equal(report.number_of_tested, 1);
  assert.equal(report.drifted_share, 0);
  assert.doesNotMatch(JSON.stringify(report), /NaN|Infinity/);
});

test('an empty current window gives a report with every feature skipped', () => {
  const report = detectDrift({ x: [1, 2, 3], y: ['a', 'b', 'c'] }, { x: [], y: [] });
  assert.equal(report.number_of_tested, 0);
  assert.equal(report.dataset_drift, false);
  assert.equal(report.drifted_share, 0);
});

test('values of the wrong type are left out (a string in a numeric column)', () => {
  const reference = { x: [1, 2, 3, 4, 5, 6, 7, 8] };
  const current = { x: [1, 2, 3, 'oops', 4, 5, 6, 7, 8] };
  const [x] = detectDrift(reference, current).features;
  assert.equal(x?.current_rows, 8);
  assert.equal(x?.column_type, 'numeric');
  assert.equal(x?.p_value, 1);
});

test('column types: strings are categorical, two values binary, few numbers categorical', () => {
  const ref = {
    s: ['a', 'b', 'c', 'd', 'e', 'f', 'g'],
    two: [0, 1, 0, 1, 1, 0, 0],
    few: [1, 2, 3, 1, 2, 3, 1],
    one: [5, 5, 5, 5, 5, 5, 5],
  };
  const report = detectDrift(ref, ref);
  const types = Object.fromEntries(
    report.features.map((f) => [f.name, [f.column_type, f.stattest, f.p_value]]),
  );
  assert.deepEqual(types, {
    s: ['categorical', 'chisquare', 1],
    two: ['binary', 'z', 1],
    few: ['categorical', 'chisquare', 1],
    one: ['binary', 'z', 1],
  });
  assert.equal(report.dataset_drift, false);
});

test('bad inputs: empty reference, missing columns, ragged columns, bad options', () => {
  const ok = { x: [1, 2, 3] };
  assert.throws(() => detectDrift({}, ok), hasCode('TEND_INVALID_ARGUMENT'));
  assert.throws(() => detectDrift({ x: [] }, ok), hasCode('TEND_INVALID_ARGUMENT'));
  assert.throws(
    () => detectDrift(ok, { y: [1] }),
    (err: unknown) => hasCode('TEND_INVALID_INPUT')(err) && /'x'/.test(String(err)),
  );
  assert.throws(() => detectDrift({ x: [1, 2], y: [1] }, ok), hasCode('TEND_INVALID_INPUT'));
  assert.throws(() => detectDrift(ok, { x: 'abc' } as unknown as Columns), hasCode('TEND_INVALID_INPUT'));
  assert.throws(() => detectDrift(ok, null as unknown as Columns), hasCode('TEND_INVALID_INPUT'));
  const bad: DriftOptions[] = [
    { predictionColumn: 'nope' },
    { driftShare: 0 },
    { driftShare: 1.5 },
    { psiBins: 1 },
    { stattests: { nope: 'ks' } },
    { stattests: { x: 'anova' as StatTestName } },
    { thresholds: { x: -1 } },
    { thresholds: { nope: 0.1 } },
  ];
  for (const options of bad) {
    assert.throws(
      () => detectDrift(ok, ok, options),
      hasCode('TEND_INVALID_ARGUMENT'),
      JSON.stringify(options),
    );
  }
  assert.throws(
    () => detectDrift({ s: ['a', 'b', 'c'] }, { s: ['a'] }, { stattests: { s: 'ks' } }),
    hasCode('TEND_INVALID_ARGUMENT'),
  );
});

test('extra current columns are listed and ignored; thresholds can be set per column', () => {
  const reference = { x: sample({ seed: 1, n: 200 }) };
  const current = { x: sample({ seed: 2, n: 200, shift: 0.03 }), extra: sample({ seed: 3, n: 200 }) };
  const report = detectDrift(reference, current, { thresholds: { x: 0.9 } });
  assert.deepEqual(report.extra_columns, ['extra']);
  assert.equal(report.features.length, 1);
  assert.equal(report.features[0]?.threshold, 0.9);
  assert.equal(report.features[0]?.drifted, true);
});
