/**
 * The authentication part of BENCHMARKS.md: requests/s of the digits model with a bearer token
 * checked on every request over the same server with no token configured. Target (issue 10): ≥ 0.95
 * at 32 clients.
 */
import type { AuthResult } from './auth.js';
import type { Outcome, TargetRow } from './report.js';
import { ratio } from './statistics.js';

export const AUTH_TARGET = 0.95;
export const AUTH_TARGET_CONNECTIONS = 32;

const ms = (x: number): string => (x >= 10 ? x.toFixed(1) : x.toFixed(2));
const rate = (x: number): string => Math.round(x).toLocaleString('en-US');

export function authTargets(outcome: Outcome<AuthResult> | undefined, whyMissing: (o: Outcome<unknown> | undefined) => string): TargetRow[] {
  const name = `Digits model over JSON, c=${AUTH_TARGET_CONNECTIONS}, bearer token on every request (req/s)`;
  const target = `≥ ${AUTH_TARGET.toFixed(2)}`;
  if (outcome === undefined) return [];
  if (!('data' in outcome)) return [{ name, figure: '—', baseline: '—', ratio: Number.NaN, target, verdict: 'NOT RUN', note: whyMissing(outcome) }];
  const level = outcome.data.levels.find((l) => l.connections === AUTH_TARGET_CONNECTIONS);
  if (!level) return [{ name, figure: '—', baseline: '—', ratio: Number.NaN, target, verdict: 'NOT RUN', note: 'no figure at 32 clients' }];
  const r = ratio(level.on.requestsPerSecond, level.off.requestsPerSecond);
  const failures = level.on.failures + level.off.failures;
  return [
    {
      name,
      figure: `${rate(level.on.requestsPerSecond)} (token checked)`,
      baseline: `${rate(level.off.requestsPerSecond)} (no auth)`,
      ratio: r,
      target,
      verdict: failures === 0 && r >= AUTH_TARGET ? 'PASS' : 'FAIL',
      note: failures > 0 ? `${failures} failed requests` : '',
    },
  ];
}

export function renderAuth(outcome: Outcome<AuthResult> | undefined, runs: number, whyMissing: (o: Outcome<unknown> | undefined) => string): string[] {
  const out: string[] = ['## 11. Security: what authentication costs', ''];
  if (outcome === undefined || !('data' in outcome)) return [...out, `_Not measured: ${whyMissing(outcome)}._`, ''];
  out.push(
    'Two `tend serve` processes serve the trained digits model from the same repository: one with a tokens file ' +
      '(every request sends `Authorization: Bearer <token>`; the server hashes it with SHA-256, finds it in memory and checks ' +
      'the access table), one with no token configured (loopback only). wrk runs against the two alternate; ' +
      `figures are medians of ${runs} run(s).`,
    '',
    '| clients | req/s no auth | req/s token | ratio | p50 no auth | p50 token | p99 no auth | p99 token |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const l of outcome.data.levels) {
    out.push(
      `| ${l.connections} | ${rate(l.off.requestsPerSecond)} | ${rate(l.on.requestsPerSecond)} | ${ratio(l.on.requestsPerSecond, l.off.requestsPerSecond).toFixed(2)} | ` +
        `${ms(l.off.p50Ms)} ms | ${ms(l.on.p50Ms)} ms | ${ms(l.off.p99Ms)} ms | ${ms(l.on.p99Ms)} ms |`,
    );
  }
  out.push('');
  return out;
}
