import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CommitsResult } from './commits.js';
import { summarize } from './http-load.js';
import { commitsTargets, renderCommits } from './report-commits.js';
import type { WrkResult } from './wrk.js';

const wrk = (requestsPerSecond: number, failures = 0): WrkResult => ({
  connections: 32,
  durationSeconds: 8,
  requests: requestsPerSecond * 8,
  requestsPerSecond,
  latencyMs: { p50: 2, p75: 2.5, p90: 3, p99: 5 },
  non2xx: failures,
  socketErrors: 0,
});

function result(before: number[], after: number[], failures = 0): CommitsResult {
  return {
    before: { ref: 'c8a2e62', sha: 'c8a2e62'.padEnd(40, '0'), subject: 'before' },
    after: { ref: 'HEAD', sha: 'abcdef1'.padEnd(40, '0'), subject: 'after' },
    connections: 32,
    beforeFigure: summarize(
      32,
      before.map((r) => wrk(r)),
      4,
    ),
    afterFigure: summarize(
      32,
      after.map((r, i) => wrk(r, i === 0 ? failures : 0)),
      4,
    ),
    roundRatios: after.map((a, i) => a / (before[i] ?? Number.NaN)),
  };
}

const why = (): string => 'section not run';
const row = (data: CommitsResult) => commitsTargets({ data }, why)[0];

test('the commits row passes at after/before ≥ 0.97 with both A/A controls within 5%', () => {
  assert.equal(row(result([10000, 10100, 10000], [9800, 9900, 9800]))?.verdict, 'PASS'); // 0.98
  assert.equal(row(result([10000, 10100, 10000], [9500, 9600, 9500]))?.verdict, 'FAIL'); // 0.95
  assert.equal(row(result([10000, 10000, 10000], [10000, 10000, 10000], 2))?.verdict, 'FAIL');
  const passed = row(result([10000, 10100, 10000], [9800, 9900, 9800]));
  assert.match(passed?.note ?? '', /A\/A 0\.99 \(before\), 0\.99 \(after\)/);
  assert.match(passed?.target ?? '', /≥ 0\.97, A\/A within ±5%/);
});

test('a build whose own runs move more than 5% makes the row INCONCLUSIVE, whatever the ratio', () => {
  const noisy = row(result([10000, 11000, 10000], [10000, 10000, 10000]));
  assert.equal(noisy?.verdict, 'INCONCLUSIVE');
  assert.match(noisy?.note ?? '', /0\.91 \(before\).*too noisy to judge/);
  // One run per build: no control can be measured, so nothing is judged.
  assert.equal(row(result([10000], [10000]))?.verdict, 'INCONCLUSIVE');
});

test('the section prints the controls and says when it was not measured', () => {
  const text = renderCommits({ data: result([10000, 10100, 10000], [9800, 9900, 9800]) }, why).join('\n');
  assert.match(text, /A\/A controls .*before 0\.990, after 0\.990/);
  assert.match(
    renderCommits({ skipped: 'no --before' }, () => 'no --before').join('\n'),
    /_Not measured: no --before\._/,
  );
  assert.equal(commitsTargets({ error: 'boom' }, () => 'error: boom')[0]?.verdict, 'NOT RUN');
});
