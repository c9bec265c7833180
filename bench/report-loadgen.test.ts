import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LoadgenResult, LoadgenRun } from './loadgen.js';
import { loadgenTargets, renderLoadgen } from './report-loadgen.js';

const run = (p99Ms: number, failures = 0, clientCpuCores: number | null = null): LoadgenRun => ({
  requestsPerSecond: 5000,
  p50Ms: 1,
  p99Ms,
  failures,
  clientCpuCores,
});

function result(wrk: number[], tend: number[], failures = 0): LoadgenResult {
  return {
    connections: 8,
    durationSeconds: 8,
    wrk: wrk.map((p) => run(p)),
    tend: tend.map((p, i) => run(p, i === 0 ? failures : 0, 0.3)),
    wrkP99Ms: [...wrk].sort((a, b) => a - b)[wrk.length >> 1] as number,
    tendP99Ms: [...tend].sort((a, b) => a - b)[tend.length >> 1] as number,
  };
}

const why = () => 'section not run';

test('the p99 of tend bench passes within 10% of wrk’s either way, and fails beyond or with failures', () => {
  const verdict = (data: LoadgenResult) => loadgenTargets({ data }, why)[0]?.verdict;
  assert.equal(verdict(result([2, 2.02, 2], [2.1, 2.12, 2.1])), 'PASS'); // 2.1 / 2.0 = 1.05
  assert.equal(verdict(result([2, 2.02, 2], [1.85, 1.87, 1.85])), 'PASS'); // 0.925
  assert.equal(verdict(result([2, 2.02, 2], [2.3, 2.32, 2.3])), 'FAIL'); // 1.15
  assert.equal(verdict(result([2, 2.02, 2], [1.7, 1.72, 1.7])), 'FAIL'); // 0.85
  assert.equal(verdict(result([2, 2, 2], [2, 2, 2], 3)), 'FAIL');
  // wrk's own p99s move by 20% between its runs: the ratio cannot be judged.
  const noisy = loadgenTargets({ data: result([2, 2.4, 2], [2.1, 2.1, 2.1]) }, why)[0];
  assert.equal(noisy?.verdict, 'INCONCLUSIVE');
  assert.match(noisy?.note ?? '', /A\/A 0\.83 \(wrk p99\), 1\.00 \(tend bench p99\)/);
  assert.match(noisy?.target ?? '', /A\/A within ±5%/);
  const row = loadgenTargets({ data: result([2, 2, 2], [2.1, 2.1, 2.1]) }, why)[0];
  assert.match(row?.note ?? '', /tend bench used 0\.30 cores/);
  assert.equal(loadgenTargets({ error: 'boom' }, why)[0]?.verdict, 'NOT RUN');
  assert.deepEqual(loadgenTargets(undefined, why), []);
});

test('the section shows each run and the medians', () => {
  const text = renderLoadgen({ data: result([2, 3, 4], [2.2, 3.3, 4.4]) }, why).join('\n');
  assert.match(text, /^## 13\. The load generator/m);
  assert.match(
    text,
    /^\| 2 \| 5,000 \| 5,000 \| 1\.00 ms \| 1\.00 ms \| 3\.00 ms \| 3\.30 ms \| 1\.10 \| 0\.30 cores \|$/m,
  );
  assert.match(text, /Medians: wrk p99 3\.00 ms, tend bench p99 3\.30 ms, ratio 1\.10\./);
  assert.match(renderLoadgen({ skipped: 'no wrk' }, () => 'no wrk').join('\n'), /_Not measured: no wrk\._/);
});
