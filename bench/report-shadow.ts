/**
 * The shadow part of BENCHMARKS.md: the caller's median latency with the shadow route on, over the
 * same endpoint with it off, at each concurrency, next to an A/A control (off over off, the same
 * rounds). Goal (issue 19): within 10%, judged only when the control is within ±5%.
 */
import { type Outcome, type TargetRow, notRun } from './report-rows.js';
import type { ShadowLevel, ShadowResult, ShadowTally } from './shadow.js';
import { ratio } from './statistics.js';

/** The caller's p50 with a shadow may be at most this many times the p50 without one. */
export const SHADOW_P50_LIMIT = 1.1;
/** The A/A control (off over off) must be within this of 1 for the shadow's ratio to be judged. */
export const SHADOW_CONTROL_TOLERANCE = 0.05;

const ms = (x: number): string => (x >= 10 ? x.toFixed(1) : x.toFixed(2));
const rate = (x: number): string => Math.round(x).toLocaleString('en-US');

/** The share of champion-routed requests the shadow saw (compared or failed), or null without any. */
export function mirroredShare(t: ShadowTally): number | null {
  const mirrored = t.compared + t.errors;
  const offered = mirrored + t.skipped;
  return offered > 0 ? mirrored / offered : null;
}

const percent = (x: number | null): string => (x === null ? '—' : `${(100 * x).toFixed(1)}%`);

/**
 * FAIL with failed requests; INCONCLUSIVE when the A/A control is outside tolerance (it fails the
 * bench as a FAIL does); else PASS when the ratio is within the limit.
 */
export function shadowVerdict(level: ShadowLevel): {
  verdict: 'PASS' | 'FAIL' | 'INCONCLUSIVE';
  note: string;
} {
  const failures = level.on.failures + level.off.failures + level.control.failures;
  const r = ratio(level.on.p50Ms, level.off.p50Ms);
  const control = ratio(level.control.p50Ms, level.off.p50Ms);
  const notes: string[] = [`A/A control ${control.toFixed(2)}`];
  const share = level.tally ? mirroredShare(level.tally) : null;
  if (share !== null) notes.push(`${percent(share)} mirrored`);
  if (failures > 0) notes.push(`${failures} failed requests`);
  const controlOk = Math.abs(control - 1) <= SHADOW_CONTROL_TOLERANCE;
  if (!controlOk)
    notes.push(`control outside ±${(100 * SHADOW_CONTROL_TOLERANCE).toFixed(0)}%: too noisy to judge`);
  const verdict =
    failures > 0 ? 'FAIL' : !controlOk ? 'INCONCLUSIVE' : r <= SHADOW_P50_LIMIT ? 'PASS' : 'FAIL';
  return { verdict, note: notes.join('; ') };
}

/** One target row per concurrency. */
export function shadowTargets(
  outcome: Outcome<ShadowResult> | undefined,
  whyMissing: (o: Outcome<unknown> | undefined) => string,
): TargetRow[] {
  const name = 'digits caller p50, shadow on vs off';
  const target = `≤ ${SHADOW_P50_LIMIT.toFixed(2)} (A/A within ±${(100 * SHADOW_CONTROL_TOLERANCE).toFixed(0)}%)`;
  if (outcome === undefined) return [];
  if (!('data' in outcome)) return [notRun(name, target, whyMissing(outcome))];
  return outcome.data.levels.map((level) => {
    const { verdict, note } = shadowVerdict(level);
    return {
      name: `${name}, c=${level.connections}`,
      figure: `${ms(level.on.p50Ms)} ms (shadow on)`,
      baseline: `${ms(level.off.p50Ms)} ms (shadow off)`,
      ratio: ratio(level.on.p50Ms, level.off.p50Ms),
      target,
      verdict,
      note,
    };
  });
}

/** Section 6 of the document. */
export function renderShadow(
  outcome: Outcome<ShadowResult> | undefined,
  runs: number,
  whyMissing: (o: Outcome<unknown> | undefined) => string,
): string[] {
  const out: string[] = ['## 6. Deployments: what a shadow costs the caller', ''];
  if (outcome === undefined || !('data' in outcome))
    return [...out, `_Not measured: ${whyMissing(outcome)}._`, ''];
  const data = outcome.data;
  out.push(
    'One `tend serve` holds one registry endpoint, `digits`, with two versions of the trained digits network (default config), both ' +
      'loaded throughout. Between wrk runs its shadow route is switched on (`{"champion": 1, "shadow": {"version": 2}}`: every request ' +
      'is also run on version 2 after the caller has its answer, and the answers are compared, never returned) or off (`{"champion": 1}`) ' +
      'through `PUT /api/v1/deployments/digits`. So the caller side — process, endpoint, champion worker and batcher, route lookup — is the ' +
      'same in every run and only the shadow differs (two endpoints side by side would compare two champion workers and batchers). ' +
      `Each of ${runs} round(s) per concurrency runs three states, shadow off, on, and off again, in an order rotated from round to round; ` +
      'figures are medians over the rounds. **A/A** is "off again" over "off": how far two runs of the same thing differ on the machine at ' +
      `that moment; the target (on ≤ ${SHADOW_P50_LIMIT.toFixed(2)} × off) is judged only when A/A is within ±${(100 * SHADOW_CONTROL_TOLERANCE).toFixed(0)}%.`,
    '',
    'Shadow policy: mirrored work yields to callers. It runs only while the champion has no caller request queued or running, one ' +
      'shadow batch at a time (waiting mirrored requests joined into one request; its cap on rows starts at one, doubles after a ' +
      `full batch that took at most ${data.bounds.maxBatchMs} ms and halves after one over twice that), and the champion is asked ` +
      'again before each batch. ' +
      `Nothing queues without bound: at most ${data.bounds.maxPending} mirrored requests per endpoint wait or run (more are skipped), and a ` +
      `request that waited ${data.bounds.maxWaitMs} ms for an idle champion is dropped (skipped, "expired"). ` +
      `While the server's main thread (its event loop) was busy more than ${Math.round(data.bounds.maxLoopShare * 100)}% of the last ` +
      `${data.bounds.loopWindowMs} ms, requests are not mirrored at all (skipped, "busy": \`shadows.max_main_thread_share\`). So the shadow sees fewer ` +
      'requests as the champion gets busier; the share it saw is in the table (mirrored = compared + shadow errors, over those plus skipped), ' +
      'with "deferred" counting mirrored requests that had to wait at least once.',
    '',
    '| clients | p50 shadow off | p50 shadow on | ratio | A/A (off again / off) | p99 off | p99 on | req/s off | req/s on | mirrored | compared | skipped (expired, busy) | deferred |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const l of data.levels) {
    const t = l.tally;
    out.push(
      `| ${l.connections} | ${ms(l.off.p50Ms)} ms | ${ms(l.on.p50Ms)} ms | ${ratio(l.on.p50Ms, l.off.p50Ms).toFixed(2)} | ` +
        `${ratio(l.control.p50Ms, l.off.p50Ms).toFixed(2)} | ${ms(l.off.p99Ms)} ms | ${ms(l.on.p99Ms)} ms | ` +
        `${rate(l.off.requestsPerSecond)} | ${rate(l.on.requestsPerSecond)} | ` +
        (t
          ? `${percent(mirroredShare(t))} | ${rate(t.compared)} | ${rate(t.skipped)} (${rate(t.skippedExpired)}, ${rate(t.skippedBusy)}) | ${rate(t.deferred)} |`
          : '— | — | — | — |'),
    );
  }
  out.push(
    '',
    "The server process's CPU time per answered request (all its threads: HTTP, champion and shadow workers, log writer; median " +
      'over the rounds) says what the shadow costs in work, a figure that noise moves much less than latency. Runs during which ' +
      'other processes took more than a little CPU were measured again, up to three attempts; "disturbed" counts runs kept anyway.',
    '',
    '| clients | CPU µs/request off | on | on / off | A/A (off again / off) | runs disturbed |',
    '| --- | --- | --- | --- | --- | --- |',
  );
  const us = (x: number | null): string => (x === null ? '—' : x.toFixed(0));
  const over = (a: number | null, b: number | null): string =>
    a === null || b === null ? '—' : ratio(a, b).toFixed(2);
  for (const l of data.levels) {
    const c = l.serverCpuUs;
    out.push(
      `| ${l.connections} | ${us(c.off)} | ${us(c.on)} | ${over(c.on, c.off)} | ${over(c.control, c.off)} | ${l.disturbedRuns} of ${3 * runs} |`,
    );
  }
  out.push('');
  const t = data.tally;
  if (t) {
    out.push(
      `Shadow tally after the section (\`GET /api/v1/deployments/digits\`): ${rate(t.compared)} answers compared, ${rate(t.errors)} shadow errors, ` +
        `${rate(t.skipped)} requests skipped (${rate(t.skippedExpired)} of them expired, ${rate(t.skippedBusy)} while the main thread was busy), ${rate(t.deferred)} deferred, ${percent(mirroredShare(t))} mirrored; ` +
        `agreement rate ${t.agreementRate === null ? '—' : t.agreementRate.toFixed(4)}, ` +
        `max abs diff ${t.maxAbsDiff === null ? '—' : t.maxAbsDiff.toExponential(2)}.`,
      '',
    );
  }
  return out;
}
