import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { TendError } from '../core/errors.js';
import {
  classificationMetrics,
  confusionMatrix,
  logLoss,
  regressionMetrics,
  rocAucBinary,
  rocAucOvr,
} from './quality.js';
import type { AverageOver, ClassificationRow, RegressionRow } from './quality.js';
import { QualityWindow } from './quality-window.js';

type Expected = Record<string, number | null | number[][]>;

interface ClassificationCase {
  name: string;
  task: 'classification';
  num_classes: number;
  labels: number[];
  predicted: number[];
  probabilities: number[][] | null;
  expected: Record<AverageOver, Expected>;
}

interface RegressionCase {
  name: string;
  task: 'regression';
  labels: number[];
  predicted: number[];
  expected: Expected;
}

const fixture = JSON.parse(
  readFileSync(new URL('../../fixtures/monitor/quality.json', import.meta.url), 'utf8'),
) as { sklearn_version: string; cases: (ClassificationCase | RegressionCase)[] };

/**
 * |ours − sklearn| ≤ 1e-9; relative for values above 1, which only MAPE with zero targets reaches
 * (~1e14, where one float64 ulp is already far above 1e-9).
 */
function assertMetricsMatch(name: string, actual: object, expected: Expected): void {
  const ours = actual as Record<string, unknown>;
  assert.deepEqual(Object.keys(ours).sort(), Object.keys(expected).sort(), `${name}: keys`);
  for (const [key, want] of Object.entries(expected)) {
    const got = ours[key];
    if (want === null || Array.isArray(want)) {
      assert.deepEqual(got, want, `${name}.${key}`);
      continue;
    }
    assert.equal(typeof got, 'number', `${name}.${key}: expected a number, got ${String(got)}`);
    const tolerance = 1e-9 * Math.max(1, Math.abs(want));
    assert.ok(
      Math.abs((got as number) - want) <= tolerance,
      `${name}.${key}: ours ${String(got)}, sklearn ${want}`,
    );
  }
}

function classificationRows(c: ClassificationCase): ClassificationRow[] {
  return c.labels.map((label, i) => {
    const row: ClassificationRow = { label, predicted: c.predicted[i] as number };
    if (c.probabilities !== null) row.probabilities = c.probabilities[i] as number[];
    return row;
  });
}

function regressionRows(c: RegressionCase): RegressionRow[] {
  return c.labels.map((label, i) => ({ label, predicted: c.predicted[i] as number }));
}

function assertInvalid(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof TendError, 'a TendError');
    assert.equal(err.code, 'TEND_INVALID_ARGUMENT');
    assert.match(err.message, message);
    return true;
  });
}

test('the fixture covers every kind of case and was made by scikit-learn 1.2', () => {
  assert.match(fixture.sklearn_version, /^1\.2\./);
  const names = fixture.cases.map((c) => c.name);
  for (const n of [
    'binary_tied_scores',
    'ten_class_absent_class',
    'regression_zero_targets',
    'regression_constant_target',
  ]) {
    assert.ok(names.includes(n), n);
  }
});

for (const c of fixture.cases) {
  if (c.task === 'classification') {
    for (const averageOver of ['observed', 'all'] as const) {
      test(`classification matches sklearn: ${c.name} (${averageOver} classes)`, () => {
        const metrics = classificationMetrics(classificationRows(c), {
          numClasses: c.num_classes,
          averageOver,
        });
        assertMetricsMatch(c.name, metrics, c.expected[averageOver]);
      });
    }
  } else {
    test(`regression matches sklearn: ${c.name}`, () => {
      assertMetricsMatch(c.name, regressionMetrics(regressionRows(c)), c.expected);
    });
  }
}

test('K defaults to the probability length, else to the largest class seen + 1 (at least 2)', () => {
  const probs = classificationMetrics([{ label: 0, predicted: 0, probabilities: [0.5, 0.3, 0.2] }]);
  assert.equal(probs.confusion_matrix.length, 3);
  assert.ok('roc_auc_ovr' in probs && !('roc_auc' in probs));
  const labelsOnly = classificationMetrics([{ label: 0, predicted: 0 }]);
  assert.deepEqual(labelsOnly.confusion_matrix, [
    [1, 0],
    [0, 0],
  ]);
  assert.equal(labelsOnly.precision_binary, 0);
  assert.equal(classificationMetrics([{ label: 4, predicted: 1 }]).confusion_matrix.length, 5);
});

test('no rows: every metric is null and the confusion matrix is K × K zeros', () => {
  const m = classificationMetrics([], { numClasses: 2 });
  assert.equal(m.count, 0);
  assert.equal(m.accuracy, null);
  assert.equal(m.f1_binary, null);
  assert.equal(m.roc_auc, null);
  assert.equal(m.log_loss, null);
  assert.deepEqual(m.confusion_matrix, [
    [0, 0],
    [0, 0],
  ]);
  assert.deepEqual(regressionMetrics([]), { count: 0, mae: null, rmse: null, r2: null, mape: null });
});

test('one row without probabilities makes ROC AUC and log loss null, not partial', () => {
  const rows: ClassificationRow[] = [
    { label: 0, predicted: 0, probabilities: [0.9, 0.1] },
    { label: 1, predicted: 1 },
    { label: 1, predicted: 1, probabilities: [0.2, 0.8] },
  ];
  const m = classificationMetrics(rows, { numClasses: 2 });
  assert.equal(m.roc_auc, null);
  assert.equal(m.log_loss, null);
  assert.equal(m.accuracy, 1);
});

test('ROC AUC handles ties as a diagonal step and is null with one class', () => {
  assert.equal(rocAucBinary([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 0.75);
  assert.equal(rocAucBinary([0, 1], [0.5, 0.5]), 0.5);
  assert.equal(rocAucBinary([1, 1, 1], [0.1, 0.2, 0.3]), null);
  assert.equal(rocAucBinary([], []), null);
  assert.equal(
    rocAucOvr(
      [0, 1, 2],
      [
        [1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
      ],
      3,
    ),
    1,
  );
  assert.equal(
    rocAucOvr(
      [0, 1, 1],
      [
        [1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
      ],
      3,
    ),
    null,
  );
  assert.equal(logLoss([], []), null);
  assert.deepEqual(confusionMatrix([0, 1, 1], [1, 1, 0], 2), [
    [0, 1],
    [1, 1],
  ]);
});

test('bad classification input throws TEND_INVALID_ARGUMENT naming the row', () => {
  assertInvalid(
    () => classificationMetrics([{ label: 3, predicted: 0 }], { numClasses: 3 }),
    /row 0: label 3 .*0\.\.2/,
  );
  assertInvalid(
    () => classificationMetrics([{ label: 0, predicted: -1 }], { numClasses: 3 }),
    /predicted -1/,
  );
  assertInvalid(() => classificationMetrics([{ label: 0.5, predicted: 0 }], { numClasses: 3 }), /label 0\.5/);
  assertInvalid(
    () =>
      classificationMetrics(
        [
          { label: 0, predicted: 0, probabilities: [0.5, 0.5] },
          { label: 1, predicted: 1, probabilities: [Number.NaN, 1] },
        ],
        { numClasses: 2 },
      ),
    /row 1: probability of class 0 is NaN/,
  );
  assertInvalid(
    () => classificationMetrics([{ label: 0, predicted: 0, probabilities: [1.5, -0.5] }], { numClasses: 2 }),
    /probability of class 0 is 1\.5/,
  );
  assertInvalid(
    () => classificationMetrics([{ label: 0, predicted: 0, probabilities: [0.5, 0.5] }], { numClasses: 3 }),
    /2 probabilities for 3 classes/,
  );
  assertInvalid(() => classificationMetrics([], { numClasses: 1 }), /numClasses/);
  assertInvalid(
    () => classificationMetrics([], { numClasses: 2, averageOver: 'some' as AverageOver }),
    /averageOver/,
  );
});

test('bad regression input throws TEND_INVALID_ARGUMENT naming the row', () => {
  assertInvalid(
    () =>
      regressionMetrics([
        { label: 1, predicted: 1 },
        { label: Number.NaN, predicted: 1 },
      ]),
    /row 1: label NaN/,
  );
  assertInvalid(() => regressionMetrics([{ label: 1, predicted: Infinity }]), /predicted Infinity/);
});

test('R² of a constant y_true follows the convention even when its mean does not round to it', () => {
  const y = new Array<number>(3).fill(0.1);
  assert.equal(regressionMetrics(y.map((label) => ({ label, predicted: label + 0.01 }))).r2, 0);
  assert.equal(regressionMetrics(y.map((label) => ({ label, predicted: label }))).r2, 1);
});

test('a count window keeps the last maxRows rows', () => {
  let now = 0;
  const w = new QualityWindow({ task: 'regression', maxRows: 3, now: () => now });
  for (let i = 0; i < 5; i++) w.add({ label: i, predicted: 0 }, ++now);
  assert.equal(w.size, 3);
  const m = w.compute();
  assert.equal(m.count, 3);
  assert.equal(m.mae, (2 + 3 + 4) / 3);
});

test('a time window drops rows older than maxAgeMs, on add and on compute', () => {
  let now = 1_000;
  const w = new QualityWindow({ task: 'classification', numClasses: 2, maxAgeMs: 100, now: () => now });
  w.add({ label: 1, predicted: 0 });
  now = 1_050;
  w.add({ label: 1, predicted: 1 });
  assert.equal(w.size, 2);
  now = 1_120;
  w.add({ label: 0, predicted: 0 });
  assert.equal(w.size, 2, 'the row of t=1000 is evicted on add');
  const m = w.compute(1_151);
  assert.equal(m.count, 1, 'the row of t=1050 is evicted at compute time');
  assert.deepEqual(m.confusion_matrix, [
    [1, 0],
    [0, 0],
  ]);
  assert.equal(w.compute(10_000).count, 0);
});

test('late rows are placed by timestamp, so bounds evict the oldest timestamps first', () => {
  const now = 1_000;
  const w = new QualityWindow({ task: 'regression', maxRows: 2, maxAgeMs: 500, now: () => now });
  w.add({ label: 10, predicted: 0 }, 900);
  w.add({ label: 20, predicted: 0 }, 950);
  w.add({ label: 30, predicted: 0 }, 920);
  assert.equal(w.compute().mae, 25, 'the row of t=900 is the one dropped');
  w.add({ label: 40, predicted: 0 }, 100);
  assert.equal(w.compute().mae, 25, 'a row older than both bounds is not kept');
});

test('the window keeps the metrics of the rows it holds after many evictions and copies probabilities', () => {
  let now = 0;
  const w = new QualityWindow({ task: 'classification', numClasses: 3, maxRows: 500, now: () => now });
  const buffer = new Float64Array(3);
  const all: ClassificationRow[] = [];
  for (let i = 0; i < 5_000; i++) {
    const label = (i * 7) % 3;
    const predicted = (i * 5) % 3;
    buffer.fill(0.2);
    buffer[predicted] = 0.6;
    all.push({ label, predicted, probabilities: Float64Array.from(buffer) });
    w.add({ label, predicted, probabilities: buffer }, ++now);
  }
  assert.equal(w.size, 500);
  assert.deepEqual(w.compute(), classificationMetrics(all.slice(-500), { numClasses: 3 }));
  w.clear();
  assert.equal(w.compute().count, 0);
});

test('the window rejects bad options and bad rows (which it does not keep)', () => {
  assertInvalid(() => new QualityWindow({ task: 'regression' }), /maxRows, maxAgeMs or both/);
  assertInvalid(() => new QualityWindow({ task: 'regression', maxRows: 0 }), /maxRows/);
  assertInvalid(() => new QualityWindow({ task: 'regression', maxAgeMs: Number.NaN }), /maxAgeMs/);
  assertInvalid(() => new QualityWindow({ task: 'classification', numClasses: 1, maxRows: 5 }), /numClasses/);
  assertInvalid(() => new QualityWindow({ task: 'forecast' as 'regression', maxRows: 5 }), /task/);
  const w = new QualityWindow({ task: 'classification', numClasses: 2, maxRows: 5 });
  assertInvalid(() => w.add({ label: 2, predicted: 0 }), /label 2/);
  assertInvalid(() => w.add({ label: 1, predicted: 0, probabilities: [Number.NaN, 1] }), /NaN/);
  assertInvalid(() => w.add({ label: 1, predicted: 0 }, Number.NaN), /timestampMs/);
  assert.equal(w.size, 0);
});
