/**
 * The large-bodies part of BENCHMARKS.md (Security II): liveness while 8 concurrent ~60 MiB bodies
 * arrive, against the same poller's liveness before them, and resident memory 10 s later against
 * before. Targets: liveness p99 ≤ 250 ms, every large request refused with 400/413/503, memory back
 * within 20%.
 */
import type { LargeBodiesResult } from './large-bodies.js';
import type { Outcome, TargetRow } from './report-rows.js';

export const LIVENESS_P99_TARGET_MS = 250;
export const RSS_RETURN_TARGET = 1.2;
const REFUSALS = new Set([400, 413, 503]);

const ms = (x: number): string => (Number.isFinite(x) ? (x >= 10 ? x.toFixed(1) : x.toFixed(2)) : '∞');

export function largeBodyTargets(
  outcome: Outcome<LargeBodiesResult> | undefined,
  whyMissing: (o: Outcome<unknown> | undefined) => string,
): TargetRow[] {
  const live = 'Liveness p99 while 8 concurrent ~60 MiB bodies arrive (ms)';
  const memory = 'Server RSS 10 s after the large-body burst (MB)';
  if (outcome === undefined) return [];
  if (!('data' in outcome)) {
    const note = whyMissing(outcome);
    return [
      {
        name: live,
        figure: '—',
        baseline: '—',
        ratio: Number.NaN,
        target: `≤ ${LIVENESS_P99_TARGET_MS} ms`,
        verdict: 'NOT RUN',
        note,
      },
      {
        name: memory,
        figure: '—',
        baseline: '—',
        ratio: Number.NaN,
        target: `≤ ${RSS_RETURN_TARGET.toFixed(2)}`,
        verdict: 'NOT RUN',
        note,
      },
    ];
  }
  const d = outcome.data;
  const refusedAll = d.statuses.every((s) => REFUSALS.has(s));
  const statusNote = `statuses ${d.statuses.join(', ')}${refusedAll ? '' : ' (not all refused with 400/413/503)'}`;
  const rssRatio = d.rssMb.after / d.rssMb.before;
  return [
    {
      name: live,
      figure: `${ms(d.liveness.during.p99Ms)} (burst)`,
      baseline: `${ms(d.liveness.before.p99Ms)} (quiet)`,
      ratio: d.liveness.during.p99Ms / d.liveness.before.p99Ms,
      target: `p99 ≤ ${LIVENESS_P99_TARGET_MS} ms`,
      verdict:
        d.liveness.during.p99Ms <= LIVENESS_P99_TARGET_MS && d.livenessFailures === 0 && refusedAll
          ? 'PASS'
          : 'FAIL',
      note: `${d.liveness.during.samples} health checks, ${d.livenessFailures} failed; ${statusNote}`,
    },
    {
      name: memory,
      figure: `${d.rssMb.after.toFixed(0)} (10 s after)`,
      baseline: `${d.rssMb.before.toFixed(0)} (before)`,
      ratio: rssRatio,
      target: `≤ ${RSS_RETURN_TARGET.toFixed(2)}`,
      verdict: rssRatio <= RSS_RETURN_TARGET ? 'PASS' : 'FAIL',
      note: `peak ${d.rssMb.peak.toFixed(0)} MB`,
    },
  ];
}

export function renderLargeBodies(
  outcome: Outcome<LargeBodiesResult> | undefined,
  whyMissing: (o: Outcome<unknown> | undefined) => string,
): string[] {
  const out: string[] = ['## 12. Security: large bodies must not stall the server', ''];
  if (outcome === undefined || !('data' in outcome))
    return [...out, `_Not measured: ${whyMissing(outcome)}._`, ''];
  const d = outcome.data;
  out.push(
    `One \`tend serve\` (digits model, default configuration, tokens on). A client with an \`infer\` token sends ${d.requests} concurrent bodies of ` +
      `${(d.bodyBytes / 2 ** 20).toFixed(1)} MiB each: a \`[1, 64]\` input whose \`data\` holds ~${Math.round(d.bodyBytes / 2 / 1e6)} million numbers. ` +
      'A second client asks `/v2/health/live` every 50 ms, for 3 s before the burst (the baseline) and from its start until 1 s after its last answer. ' +
      'Large bodies are scanned while they arrive (refused at the first element past the shape), at most one per core are read at once (503 + Retry-After beyond), ' +
      'and valid large bodies are parsed in a worker thread.',
    '',
    '| | quiet (before) | during the burst |',
    '| --- | --- | --- |',
    `| liveness p50 | ${ms(d.liveness.before.p50Ms)} ms | ${ms(d.liveness.during.p50Ms)} ms |`,
    `| liveness p99 | ${ms(d.liveness.before.p99Ms)} ms | ${ms(d.liveness.during.p99Ms)} ms |`,
    `| liveness max | ${ms(d.liveness.before.maxMs)} ms | ${ms(d.liveness.during.maxMs)} ms |`,
    `| health checks | ${d.liveness.before.samples} | ${d.liveness.during.samples} (${d.livenessFailures} failed) |`,
    '',
    `Large requests answered ${d.statuses.join(', ')} in ${d.burstSeconds.toFixed(1)} s. Server RSS: ${d.rssMb.before.toFixed(0)} MB before, ` +
      `${d.rssMb.peak.toFixed(0)} MB at the peak, ${d.rssMb.after.toFixed(0)} MB 10 s after the burst.`,
    '',
  );
  return out;
}
