import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateSoak, loadSummary, windowPlan, type SoakWindow } from './soak-checks.js';

const MiB = 2 ** 20;

/** `n` calm windows at 80% of a 10,000 req/s capacity, 400 MiB, p99 10 ms; `edit` changes some. */
function windows(
  n: number,
  edit: (w: SoakWindow, i: number) => Partial<SoakWindow> = () => ({}),
): SoakWindow[] {
  return Array.from({ length: n }, (_, i) => {
    const w: SoakWindow = {
      atSeconds: (i + 1) * 10,
      requestsPerSecond: 8000,
      p50Ms: 1,
      p99Ms: 10,
      failures: 0,
      rssBytes: 400 * MiB,
      fds: 40,
    };
    return { ...w, ...edit(w, i) };
  });
}

const verdictOf = (checks: ReturnType<typeof evaluateSoak>['checks'], prefix: string): string | undefined =>
  checks.find((c) => c.name.startsWith(prefix))?.verdict;

test('windowPlan: the first 10% are warm-up; groups are 10% of the rest, at least 3 when there are 6', () => {
  assert.deepEqual(windowPlan(60), { warmup: 6, group: 5 }, '10 minutes of 10 s windows');
  assert.deepEqual(windowPlan(12), { warmup: 2, group: 3 }, '2 minutes');
  assert.deepEqual(windowPlan(120), { warmup: 12, group: 11 });
  assert.deepEqual(windowPlan(3), { warmup: 1, group: 1 });
  assert.deepEqual(windowPlan(5), { warmup: 1, group: 2 });
  for (const n of [3, 4, 5, 7, 12, 25, 60, 61, 99, 360]) {
    const { warmup, group } = windowPlan(n);
    assert.ok(warmup >= 1 && warmup + 2 * group <= n, `first and last groups never overlap (${n})`);
  }
  assert.throws(() => windowPlan(2), /at least 3 windows/);
  assert.throws(() => windowPlan(0), /at least 3 windows/);
});

test('loadSummary: each window as a share of the capacity, with min, median and max', () => {
  const s = loadSummary(
    windows(3, (_, i) => ({ requestsPerSecond: [7600, 8000, 8400][i] ?? 0 })),
    10_000,
  );
  assert.deepEqual(s.shares, [0.76, 0.8, 0.84]);
  assert.equal(s.min, 0.76);
  assert.equal(s.median, 0.8);
  assert.equal(s.max, 0.84);
});

test('evaluateSoak: calm windows pass every check', () => {
  const e = evaluateSoak(windows(12), 10_000, 10_500);
  assert.equal(e.pass, true);
  assert.deepEqual(
    e.checks.map((c) => c.verdict),
    ['PASS', 'PASS', 'PASS', 'PASS', 'PASS'],
  );
  assert.deepEqual(e.plan, { warmup: 2, group: 3 });
});

test('evaluateSoak: one window outside 75–85% of the capacity fails the load check', () => {
  for (const rate of [7400, 8600]) {
    const e = evaluateSoak(
      windows(12, (_, i) => (i === 7 ? { requestsPerSecond: rate } : {})),
      10_000,
      10_000,
    );
    assert.equal(verdictOf(e.checks, 'load of every window'), 'FAIL', `${rate} req/s`);
    assert.match(e.checks[1]?.value ?? '', /1 of 12 outside/);
    assert.equal(e.pass, false);
  }
  // Warm-up windows count for the load too: the generator must hold the rate from the start.
  const early = evaluateSoak(
    windows(12, (_, i) => (i === 0 ? { requestsPerSecond: 9000 } : {})),
    10_000,
    null,
  );
  assert.equal(verdictOf(early.checks, 'load of every window'), 'FAIL');
  // The band's edges are inside it.
  const edges = evaluateSoak(
    windows(12, (_, i) => ({ requestsPerSecond: i % 2 === 0 ? 7500 : 8500 })),
    10_000,
    null,
  );
  assert.equal(verdictOf(edges.checks, 'load of every window'), 'PASS');
});

test('evaluateSoak: RSS compares medians after warm-up, so warm-up growth and one high window do not count', () => {
  // Growth during warm-up only (windows 1–2), then flat: passes.
  const warm = evaluateSoak(
    windows(12, (_, i) => ({ rssBytes: (i < 2 ? 300 : 420) * MiB })),
    10_000,
    null,
  );
  assert.equal(verdictOf(warm.checks, 'RSS'), 'PASS');
  // One window of the last group 8% high: the median of three ignores it.
  const spike = evaluateSoak(
    windows(12, (_, i) => (i === 10 ? { rssBytes: 432 * MiB } : {})),
    10_000,
    null,
  );
  assert.equal(verdictOf(spike.checks, 'RSS'), 'PASS');
  // Steady growth of 1% per window after warm-up: medians 1.01 (windows 3–5) and 1.08 (10–12).
  const leak = evaluateSoak(
    windows(12, (_, i) => ({ rssBytes: 400 * MiB * (1 + 0.01 * Math.max(0, i - 2)) })),
    10_000,
    null,
  );
  assert.equal(verdictOf(leak.checks, 'RSS'), 'FAIL');
  assert.equal(leak.checks.find((c) => c.name.startsWith('RSS'))?.value, '1.069');
  assert.equal(leak.pass, false);
});

test('evaluateSoak: p99 leaves out warm-up windows and fails when the last windows are 20% slower', () => {
  const warm = evaluateSoak(
    windows(12, (_, i) => (i < 2 ? { p99Ms: 50 } : {})),
    10_000,
    null,
  );
  assert.equal(verdictOf(warm.checks, 'p99'), 'PASS', 'slow warm-up windows are not the baseline');
  const slower = evaluateSoak(
    windows(12, (_, i) => (i >= 9 ? { p99Ms: 12.5 } : {})),
    10_000,
    null,
  );
  assert.equal(verdictOf(slower.checks, 'p99'), 'FAIL');
  const limit = evaluateSoak(
    windows(12, (_, i) => (i >= 9 ? { p99Ms: 12 } : {})),
    10_000,
    null,
  );
  assert.equal(verdictOf(limit.checks, 'p99'), 'PASS', 'exactly 1.2 × passes');
});

test('evaluateSoak: any failed request fails, warm-up included', () => {
  const e = evaluateSoak(
    windows(12, (_, i) => (i === 0 ? { failures: 1 } : {})),
    10_000,
    null,
  );
  assert.equal(verdictOf(e.checks, 'failed requests'), 'FAIL');
  assert.equal(e.pass, false);
});

test('evaluateSoak: the capacity must come within 10% of section 1; no section 1 figure is NOT RUN, not a failure', () => {
  assert.equal(verdictOf(evaluateSoak(windows(12), 10_000, 9_100).checks, 'capacity'), 'PASS');
  assert.equal(verdictOf(evaluateSoak(windows(12), 10_000, 11_000).checks, 'capacity'), 'PASS');
  const low = evaluateSoak(
    windows(12, () => ({ requestsPerSecond: 5000 })),
    6_235,
    12_409,
  );
  assert.equal(verdictOf(low.checks, 'capacity'), 'FAIL', 'the old soak: two wrk at once read half');
  assert.equal(low.pass, false);
  const none = evaluateSoak(windows(12), 10_000, null);
  assert.equal(verdictOf(none.checks, 'capacity'), 'NOT RUN');
  assert.equal(none.pass, true);
});
