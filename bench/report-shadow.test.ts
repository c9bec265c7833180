import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LoadFigure } from './http-load.js';
import { renderShadow, shadowTargets } from './report-shadow.js';

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

test('the shadow target passes within 10% of the p50 without a shadow and fails beyond or with failures', () => {
  const rows = shadowTargets(
    {
      data: {
        maxInFlight: 256,
        tally: { compared: 10, skipped: 0, errors: 0, agreementRate: 1, maxAbsDiff: 0 },
        levels: [
          { connections: 1, off: figure(1), on: figure(1.1) },
          { connections: 8, off: figure(1), on: figure(1.2) },
          { connections: 32, off: figure(1), on: figure(1, 3) },
        ],
      },
    },
    why,
  );
  assert.deepEqual(
    rows.map((r) => r.verdict),
    ['PASS', 'FAIL', 'FAIL'],
  );
  assert.match(rows[2]?.note ?? '', /3 failed requests/);
  assert.deepEqual(
    shadowTargets({ skipped: 'no wrk' }, why).map((r) => r.verdict),
    ['NOT RUN'],
  );
  assert.match(
    renderShadow({ error: 'boom' }, 3, () => 'error: boom').join('\n'),
    /Not measured: error: boom/,
  );
});
