/**
 * The commits part of BENCHMARKS.md: the digits model over JSON served by an earlier commit's build
 * and this one's, interleaved. Target: the request path does not get slower (after/before ≥ 0.97).
 */
import type { CommitsResult } from './commits.js';
import {
  controlledVerdict,
  controlsNote,
  controlTarget,
  notRun,
  splitHalfControl,
  tooNoisy,
  type Outcome,
  type TargetRow,
} from './report-rows.js';
import { median, ratio } from './statistics.js';

export const COMMITS_TARGET = 0.97;

const rate = (x: number): string => Math.round(x).toLocaleString('en-US');
const ms = (x: number): string => (x >= 10 ? x.toFixed(1) : x.toFixed(2));
const short = (sha: string): string => sha.slice(0, 7);

export function commitsTargets(
  outcome: Outcome<CommitsResult> | undefined,
  whyMissing: (o: Outcome<unknown> | undefined) => string,
): TargetRow[] {
  if (outcome === undefined) return [];
  const target = `≥ ${COMMITS_TARGET.toFixed(2)}, ${controlTarget()}`;
  if (!('data' in outcome)) {
    const name = 'Digits over JSON, c=32, this commit vs an earlier one (req/s)';
    const note = whyMissing(outcome);
    return [notRun(name, target, note)];
  }
  const d = outcome.data;
  const r = ratio(d.afterFigure.requestsPerSecond, d.beforeFigure.requestsPerSecond);
  const failures = d.afterFigure.failures + d.beforeFigure.failures;
  const controls = [splitHalfControl(d.beforeFigure), splitHalfControl(d.afterFigure)];
  const verdict = controlledVerdict(failures === 0, controls, r >= COMMITS_TARGET);
  return [
    {
      name: `Digits over JSON, c=${d.connections}, ${short(d.after.sha)} vs ${short(d.before.sha)} (req/s)`,
      figure: `${rate(d.afterFigure.requestsPerSecond)} (${short(d.after.sha)})`,
      baseline: `${rate(d.beforeFigure.requestsPerSecond)} (${short(d.before.sha)})`,
      ratio: r,
      target,
      verdict,
      note: [
        controlsNote([
          ['before', controls[0] ?? Number.NaN],
          ['after', controls[1] ?? Number.NaN],
        ]),
        failures > 0 ? `${failures} failed requests` : '',
        verdict === 'INCONCLUSIVE' ? tooNoisy() : '',
      ]
        .filter((n) => n !== '')
        .join('; '),
    },
  ];
}

export function renderCommits(
  outcome: Outcome<CommitsResult> | undefined,
  whyMissing: (o: Outcome<unknown> | undefined) => string,
): string[] {
  if (outcome === undefined) return [];
  const out: string[] = ['## 14. The request path across commits', ''];
  if (!('data' in outcome)) return [...out, `_Not measured: ${whyMissing(outcome)}._`, ''];
  const d = outcome.data;
  out.push(
    `Two builds of tend serve the digits model from one repository with the default config: ` +
      `\`${short(d.before.sha)}\` (${d.before.subject}; given as \`--before ${d.before.ref}\`) and ` +
      `\`${short(d.after.sha)}\` (${d.after.subject}; \`--after ${d.after.ref}\`). Each commit is checked out ` +
      'into a git worktree and built with the same compiler and node_modules. wrk (32 connections) runs ' +
      `against the two in ${d.roundRatios.length} rounds, the order flipped every round; figures are medians.`,
    '',
    '| build | req/s | p50 ms | p99 ms | mean batch | runs (req/s) |',
    '| --- | --- | --- | --- | --- | --- |',
  );
  for (const [label, build, f] of [
    ['before', d.before, d.beforeFigure],
    ['after', d.after, d.afterFigure],
  ] as const) {
    out.push(
      `| ${label} \`${short(build.sha)}\` | ${rate(f.requestsPerSecond)} | ${ms(f.p50Ms)} | ${ms(f.p99Ms)} | ` +
        `${f.meanBatchSize === null ? '—' : f.meanBatchSize.toFixed(1)} | ` +
        `${f.runs.map((r) => rate(r.requestsPerSecond)).join(', ')} |`,
    );
  }
  out.push(
    '',
    `after/before of each round: ${d.roundRatios.map((x) => x.toFixed(3)).join(', ')} ` +
      `(median ${median(d.roundRatios).toFixed(3)}); ratio of the medians: ` +
      `${ratio(d.afterFigure.requestsPerSecond, d.beforeFigure.requestsPerSecond).toFixed(3)}. ` +
      `A/A controls (each build's odd-numbered runs over its even-numbered ones): before ` +
      `${splitHalfControl(d.beforeFigure).toFixed(3)}, after ${splitHalfControl(d.afterFigure).toFixed(3)}; ` +
      'the target is judged only when both are within ±5%.',
    '',
  );
  return out;
}
