/**
 * The shadow part of BENCHMARKS.md: the caller's median latency with a shadow on, over the same
 * endpoint without one, at each concurrency. Goal (issue 5): within 10%.
 */
import type { Outcome, TargetRow } from './report-rows.js';
import type { ShadowResult } from './shadow.js';
import { ratio } from './statistics.js';

/** The caller's p50 with a shadow may be at most this many times the p50 without one. */
export const SHADOW_P50_LIMIT = 1.1;

const ms = (x: number): string => (x >= 10 ? x.toFixed(1) : x.toFixed(2));
const rate = (x: number): string => Math.round(x).toLocaleString('en-US');

/** One target row per concurrency. */
export function shadowTargets(
  outcome: Outcome<ShadowResult> | undefined,
  whyMissing: (o: Outcome<unknown> | undefined) => string,
): TargetRow[] {
  const name = 'digits caller p50, shadow on vs off';
  const target = `≤ ${SHADOW_P50_LIMIT.toFixed(2)}`;
  if (outcome === undefined) return [];
  if (!('data' in outcome))
    return [
      {
        name,
        figure: '—',
        baseline: '—',
        ratio: Number.NaN,
        target,
        verdict: 'NOT RUN',
        note: whyMissing(outcome),
      },
    ];
  return outcome.data.levels.map((level) => {
    const r = ratio(level.on.p50Ms, level.off.p50Ms);
    const failures = level.on.failures + level.off.failures;
    return {
      name: `${name}, c=${level.connections}`,
      figure: `${ms(level.on.p50Ms)} ms (shadow on)`,
      baseline: `${ms(level.off.p50Ms)} ms (no shadow)`,
      ratio: r,
      target,
      verdict: failures === 0 && r <= SHADOW_P50_LIMIT ? 'PASS' : 'FAIL',
      note: failures > 0 ? `${failures} failed requests` : '',
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
    'One `tend serve` holds two registry endpoints of the trained digits model with the same (default) config: `plain` routes every ' +
      'request to its champion; `mirrored` routes to its champion too and mirrors each request to a shadow version (the same network) ' +
      "after the caller has its answer; the shadow's answers are compared with the champion's and never returned. wrk runs against " +
      `the two endpoints alternate; figures are medians of ${runs} run(s). Mirrored requests gather for a few milliseconds and go to the shadow together; up to ${data.maxInFlight} ` +
      'may wait or run at once, and requests beyond that are not mirrored but counted as skipped (mirroring doubles the inference work; ' +
      "a shadow queueing without bound on a saturated machine would take the champion's CPU and memory). The tally below says how many were mirrored.",
    '',
    '| clients | p50 no shadow | p50 shadow on | ratio | p99 no shadow | p99 shadow on | req/s no shadow | req/s shadow on |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const l of data.levels) {
    out.push(
      `| ${l.connections} | ${ms(l.off.p50Ms)} ms | ${ms(l.on.p50Ms)} ms | ${ratio(l.on.p50Ms, l.off.p50Ms).toFixed(2)} | ${ms(l.off.p99Ms)} ms | ${ms(l.on.p99Ms)} ms | ` +
        `${rate(l.off.requestsPerSecond)} | ${rate(l.on.requestsPerSecond)} |`,
    );
  }
  out.push('');
  const t = data.tally;
  if (t) {
    const mirrored = t.compared + t.errors;
    const share = mirrored + t.skipped > 0 ? (100 * mirrored) / (mirrored + t.skipped) : 0;
    out.push(
      `Shadow tally after the runs (\`GET /api/v1/deployments/mirrored\`): ${rate(t.compared)} answers compared, ${rate(t.errors)} shadow errors, ` +
        `${rate(t.skipped)} requests skipped (${share.toFixed(1)}% of requests mirrored); agreement rate ${t.agreementRate === null ? '—' : t.agreementRate.toFixed(4)}, ` +
        `max abs diff ${t.maxAbsDiff === null ? '—' : t.maxAbsDiff.toExponential(2)}.`,
      '',
    );
  }
  return out;
}
