import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AUTH_TARGET_CONNECTIONS, type AuthResult } from './auth.js';
import { summarize } from './http-load.js';
import { authTargets } from './report-auth.js';
import type { WrkResult } from './wrk.js';

const wrk = (requestsPerSecond: number, failures = 0): WrkResult => ({
  connections: AUTH_TARGET_CONNECTIONS,
  durationSeconds: 1,
  requests: requestsPerSecond,
  requestsPerSecond,
  latencyMs: { p50: 2, p75: 2.5, p90: 3, p99: 5 },
  non2xx: failures,
  socketErrors: 0,
});

const paired = (ratio: number) => ({ ratio, low: ratio - 0.02, high: ratio + 0.02, pairs: 60 });

function result(ratio: number, control: number | null, failures = 0): AuthResult {
  return {
    levels: [
      {
        connections: AUTH_TARGET_CONNECTIONS,
        off: summarize(AUTH_TARGET_CONNECTIONS, [wrk(10000)], null),
        on: summarize(AUTH_TARGET_CONNECTIONS, [wrk(10000 * ratio, failures)], null),
        paired: paired(ratio),
        cpuUsPerRequest: { off: null, on: null },
      },
    ],
    control: control === null ? null : paired(control),
    runSeconds: 1,
    checkNs: null,
  };
}

const why = (): string => 'section not run';
const row = (data: AuthResult) => authTargets({ data }, why)[0];

test('the auth row is judged only when its no-auth control is within 5% of 1', () => {
  assert.equal(row(result(0.97, 1.01))?.verdict, 'PASS');
  assert.equal(row(result(0.9, 0.99))?.verdict, 'FAIL');
  assert.equal(row(result(0.97, 1.01, 3))?.verdict, 'FAIL');
  const noisy = row(result(0.97, 1.08));
  assert.equal(noisy?.verdict, 'INCONCLUSIVE');
  assert.match(noisy?.note ?? '', /control \(no auth in both halves\) 1\.08; too noisy to judge/);
  assert.equal(row(result(0.97, null))?.verdict, 'INCONCLUSIVE');
  assert.match(row(result(0.97, 1))?.target ?? '', /≥ 0\.95, A\/A within ±5%/);
});
