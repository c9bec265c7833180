import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LoadFigure } from './http-load.js';
import { mirroredShare, renderShadow, shadowTargets } from './report-shadow.js';
import { roundOrder, tallyDelta, type ShadowLevel, type ShadowTally } from './shadow.js';

const figure = (p50Ms: number, failures = 0): LoadFigure => ({
  connections: 8,
  runs: [],
  requestsPerSecond: 1000,
  p50Ms,
  p99Ms: p50Ms * 4,
  failures,
  meanBatchSize: null,
});
const why = (): string => 'not run';
const tally = (compared: number, skipped: number, skippedExpired = 0, skippedBusy = 0): ShadowTally => ({
  compared,
  skipped,
  skippedExpired,
  skippedBusy,
  deferred: 7,
  errors: 0,
  agreementRate: 1,
  maxAbsDiff: 0,
});
const level = (connections: number, off: number, on: number, control: number, failures = 0): ShadowLevel => ({
  connections,
  off: figure(off),
  on: figure(on, failures),
  control: figure(control),
  tally: tally(30, 10, 4),
  serverCpuUs: { off: 100, on: 112, control: 101 },
  disturbedRuns: 1,
});

test('the shadow target passes within 10% only when the A/A control is within 5% (else INCONCLUSIVE), and fails with failures', () => {
  const rows = shadowTargets(
    {
      data: {
        bounds: { maxPending: 256, maxWaitMs: 1000, maxBatchMs: 2, maxLoopShare: 0.7, loopWindowMs: 100 },
        tally: tally(10, 0),
        levels: [
          level(1, 1, 1.1, 1.04),
          level(8, 1, 1.2, 1),
          level(32, 1, 1, 1, 3),
          level(64, 1, 1.05, 1.06),
          level(128, 1, 1.05, 0.94),
        ],
      },
    },
    why,
  );
  assert.deepEqual(
    rows.map((r) => r.verdict),
    ['PASS', 'FAIL', 'FAIL', 'INCONCLUSIVE', 'INCONCLUSIVE'],
  );
  assert.match(rows[0]?.note ?? '', /A\/A control 1\.04; 75\.0% mirrored/);
  assert.match(rows[2]?.note ?? '', /3 failed requests/);
  assert.match(rows[3]?.note ?? '', /too noisy to judge/);
  assert.match(rows[4]?.note ?? '', /too noisy to judge/);
  assert.deepEqual(
    shadowTargets({ skipped: 'no wrk' }, why).map((r) => r.verdict),
    ['NOT RUN'],
  );
  assert.match(
    renderShadow({ error: 'boom' }, 3, () => 'error: boom').join('\n'),
    /Not measured: error: boom/,
  );
  const text = renderShadow(
    {
      data: {
        bounds: { maxPending: 256, maxWaitMs: 1000, maxBatchMs: 2, maxLoopShare: 0.7, loopWindowMs: 100 },
        tally: tally(30, 10, 4),
        levels: [level(8, 1, 1.05, 1.01)],
      },
    },
    3,
    why,
  ).join('\n');
  assert.match(text, /\| 8 \| 1\.00 ms \| 1\.05 ms \| 1\.05 \| 1\.01 \|/);
  assert.match(text, /\| 75\.0% \| 30 \| 10 \(4, 0\) \| 7 \|/);
  assert.match(text, /\| 8 \| 100 \| 112 \| 1\.12 \| 1\.01 \| 1 of 9 \|/);
});

test('the mirrored share, tally differences and the rotation of the three states', () => {
  assert.equal(mirroredShare(tally(3, 1)), 0.75);
  assert.equal(mirroredShare(tally(0, 0)), null);
  assert.deepEqual(tallyDelta(tally(10, 2, 1, 1), tally(15, 5, 3, 1)), {
    ...tally(5, 3, 2, 0),
    deferred: 0,
  });
  assert.equal(tallyDelta(null, null), null);
  assert.deepEqual(
    [0, 1, 2, 3].map((r) => roundOrder(r).join(' ')),
    ['off on control', 'on control off', 'control off on', 'off on control'],
  );
});
