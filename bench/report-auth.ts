/**
 * The authentication part of BENCHMARKS.md: requests/s of the digits model with a bearer token
 * checked on every request over the same server with no token configured, from paired runs.
 * Target (issue 10): ≥ 0.95 at 32 clients.
 */
import { AUTH_TARGET_CONNECTIONS, authPairs, type AuthResult } from './auth.js';
import {
  controlledVerdict,
  controlTarget,
  notRun,
  tooNoisy,
  type Outcome,
  type TargetRow,
} from './report-rows.js';
import type { PairedRatio } from './statistics.js';

export const AUTH_TARGET = 0.95;

const ms = (x: number): string => (x >= 10 ? x.toFixed(1) : x.toFixed(2));
const rate = (x: number): string => Math.round(x).toLocaleString('en-US');
const interval = (p: PairedRatio): string =>
  `${p.ratio.toFixed(2)} (95% interval ${p.low.toFixed(2)}–${p.high.toFixed(2)})`;

export function authTargets(
  outcome: Outcome<AuthResult> | undefined,
  whyMissing: (o: Outcome<unknown> | undefined) => string,
): TargetRow[] {
  const name = `Digits model over JSON, c=${AUTH_TARGET_CONNECTIONS}, bearer token on every request (req/s)`;
  const target = `≥ ${AUTH_TARGET.toFixed(2)}, ${controlTarget()}`;
  if (outcome === undefined) return [];
  if (!('data' in outcome)) return [notRun(name, target, whyMissing(outcome))];
  const level = outcome.data.levels.find((l) => l.connections === AUTH_TARGET_CONNECTIONS);
  if (!level) return [notRun(name, target, `no figure at ${AUTH_TARGET_CONNECTIONS} clients`)];
  const r = level.paired.ratio;
  const failures = level.on.failures + level.off.failures;
  const notes = [
    `geometric mean of ${level.paired.pairs} paired runs, 95% interval ${level.paired.low.toFixed(2)}–${level.paired.high.toFixed(2)}`,
  ];
  if (outcome.data.control !== null)
    notes.push(`control (no auth in both halves) ${outcome.data.control.ratio.toFixed(2)}`);
  if (failures > 0) notes.push(`${failures} failed requests`);
  // The control pairs runs that both have no auth: how far the pairing alone moves the ratio.
  const verdict = controlledVerdict(
    failures === 0,
    [outcome.data.control?.ratio ?? Number.NaN],
    r >= AUTH_TARGET,
  );
  if (verdict === 'INCONCLUSIVE') notes.push(tooNoisy());
  return [
    {
      name,
      figure: `${rate(level.on.requestsPerSecond)} (token checked)`,
      baseline: `${rate(level.off.requestsPerSecond)} (no auth)`,
      ratio: r,
      target,
      verdict,
      note: notes.join('; '),
    },
  ];
}

export function renderAuth(
  outcome: Outcome<AuthResult> | undefined,
  runs: number,
  whyMissing: (o: Outcome<unknown> | undefined) => string,
): string[] {
  const out: string[] = ['## 11. Security: what authentication costs', ''];
  if (outcome === undefined || !('data' in outcome))
    return [...out, `_Not measured: ${whyMissing(outcome)}._`, ''];
  const { levels, control, runSeconds, checkNs } = outcome.data;
  out.push(
    'One `tend serve` process serves the trained digits model with its default configuration (prediction log on). ' +
      "Authentication is switched between runs through the server's own API, which applies token changes at once: " +
      '**token** = an admin token and a client token (`infer,read`) exist, and every request sends ' +
      '`Authorization: Bearer <client token>` (the server finds the header in its cache of headers seen, or hashes it with SHA-256, ' +
      'and checks the access table); **no auth** = every token revoked and authentication switched off, as after a restart with no token ' +
      '(a server only turns authentication off at start, so this one runs with TEND_FAULT_INJECTION=1, whose admin-only debug route does both).',
    '',
    `Runs of ${runSeconds} s come in pairs, one of each, in alternating order (AB BA AB …). Why: two identical \`tend serve\` processes ` +
      'measured side by side differ by several per cent on their own, and this VM’s speed wanders by ±20% from one second to the next, ' +
      'so only runs of one process close together in time compare. The ratio is the geometric mean of the per-pair ratios, with a ' +
      '95% bootstrap interval; req/s and latencies are medians over the runs of each kind. ' +
      `${authPairs(runs)} pairs at each number of clients.`,
    '',
    '| clients | pairs | req/s no auth | req/s token | ratio (95% interval) | p50 no auth | p50 token | p99 no auth | p99 token |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const l of levels) {
    out.push(
      `| ${l.connections} | ${l.paired.pairs} | ${rate(l.off.requestsPerSecond)} | ${rate(l.on.requestsPerSecond)} | ${interval(l.paired)} | ` +
        `${ms(l.off.p50Ms)} ms | ${ms(l.on.p50Ms)} ms | ${ms(l.off.p99Ms)} ms | ${ms(l.on.p99Ms)} ms |`,
    );
  }
  out.push('');
  if (control !== null) {
    out.push(
      `Control: the same ${control.pairs} pairs at ${AUTH_TARGET_CONNECTIONS} clients with no auth in both halves read ${interval(control)}: ` +
        'the spread the method shows when nothing differs.',
      '',
    );
  }
  const target = levels.find((l) => l.connections === AUTH_TARGET_CONNECTIONS);
  const cpu = target?.cpuUsPerRequest;
  if (cpu !== undefined && cpu.off !== null && cpu.on !== null) {
    out.push(
      `CPU the server process used per request at ${AUTH_TARGET_CONNECTIONS} clients (all threads, over all runs of each kind): ${cpu.off.toFixed(1)} µs with no auth, ${cpu.on.toFixed(1)} µs with a token.`,
      '',
    );
  }
  if (checkNs !== null) {
    out.push(
      `The access check alone (route lookup, header cache, scope and model test), timed in the bench process over ${(1e6).toLocaleString('en-US')} calls: ` +
        `${checkNs.token.toFixed(0)} ns per call with a token, ${checkNs.none.toFixed(0)} ns with no token configured.`,
      '',
    );
  }
  return out;
}
