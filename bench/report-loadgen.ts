/**
 * The load-generator part of BENCHMARKS.md: `tend bench -c8` against `wrk -c8 --latency` on the
 * same server, runs alternating. Target (issue 19): the p99 of tend bench within 10% of wrk's
 * (medians of the runs), so that its figures describe the server rather than the client.
 */
import type { LoadgenResult } from './loadgen.js';
import {
  controlledVerdict,
  controlsNote,
  controlTarget,
  notRun,
  splitHalf,
  tooNoisy,
  type Outcome,
  type TargetRow,
} from './report-rows.js';
import { median, ratio } from './statistics.js';

export const LOADGEN_TOLERANCE = 0.1;

const ms = (x: number): string => (x >= 10 ? x.toFixed(1) : x.toFixed(2));
const rate = (x: number): string => Math.round(x).toLocaleString('en-US');

export function loadgenTargets(
  outcome: Outcome<LoadgenResult> | undefined,
  whyMissing: (o: Outcome<unknown> | undefined) => string,
): TargetRow[] {
  const name = 'tend bench -c8 p99 vs wrk -c8 p99, digits over JSON (ms)';
  const target =
    `within ${LOADGEN_TOLERANCE * 100}% (${(1 - LOADGEN_TOLERANCE).toFixed(2)}–${(1 + LOADGEN_TOLERANCE).toFixed(2)}), ` +
    controlTarget();
  if (outcome === undefined) return [];
  if (!('data' in outcome)) return [notRun(name, target, whyMissing(outcome))];
  const d = outcome.data;
  const r = ratio(d.tendP99Ms, d.wrkP99Ms);
  const failures = [...d.wrk, ...d.tend].reduce((sum, run) => sum + run.failures, 0);
  const cpu = d.tend.map((run) => run.clientCpuCores).filter((c): c is number => c !== null);
  // p99 against p99: each client's own p99s split in half (wrk against wrk, tend bench against itself).
  const controls = [splitHalf(d.wrk.map((run) => run.p99Ms)), splitHalf(d.tend.map((run) => run.p99Ms))];
  const verdict = controlledVerdict(failures === 0, controls, Math.abs(r - 1) <= LOADGEN_TOLERANCE);
  return [
    {
      name,
      figure: `${ms(d.tendP99Ms)} (tend bench)`,
      baseline: `${ms(d.wrkP99Ms)} (wrk)`,
      ratio: r,
      target,
      verdict,
      note: [
        controlsNote([
          ['wrk p99', controls[0] ?? Number.NaN],
          ['tend bench p99', controls[1] ?? Number.NaN],
        ]),
        verdict === 'INCONCLUSIVE' ? tooNoisy() : '',
        failures > 0 ? `${failures} failed requests` : '',
        cpu.length > 0 ? `tend bench used ${median(cpu).toFixed(2)} cores` : '',
      ]
        .filter((n) => n !== '')
        .join('; '),
    },
  ];
}

export function renderLoadgen(
  outcome: Outcome<LoadgenResult> | undefined,
  whyMissing: (o: Outcome<unknown> | undefined) => string,
): string[] {
  const out: string[] = ['## 13. The load generator: `tend bench` against wrk', ''];
  if (outcome === undefined || !('data' in outcome))
    return [...out, `_Not measured: ${whyMissing(outcome)}._`, ''];
  const d = outcome.data;
  out.push(
    `One \`tend serve\` serves the digits model; \`wrk -t1 -c${d.connections} --latency\` and ` +
      `\`tend bench digits --concurrency ${d.connections} --warmup 0s --json\` (a child process, node:http keep-alive clients) load it in turn, ` +
      `${d.durationSeconds} s each, after a wrk warm-up. The target compares the medians of the p99s. ` +
      'On two cores the load generator and the server share the CPU: the client CPU column is what tend bench itself used.',
    '',
    '| run | wrk req/s | tend bench req/s | wrk p50 | tend bench p50 | wrk p99 | tend bench p99 | p99 ratio | tend bench client CPU |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  d.wrk.forEach((w, i) => {
    const t = d.tend[i];
    if (t === undefined) return;
    out.push(
      `| ${i + 1} | ${rate(w.requestsPerSecond)} | ${rate(t.requestsPerSecond)} | ${ms(w.p50Ms)} ms | ${ms(t.p50Ms)} ms | ` +
        `${ms(w.p99Ms)} ms | ${ms(t.p99Ms)} ms | ${ratio(t.p99Ms, w.p99Ms).toFixed(2)} | ` +
        `${t.clientCpuCores === null ? '—' : `${t.clientCpuCores.toFixed(2)} cores`} |`,
    );
  });
  out.push(
    '',
    `Medians: wrk p99 ${ms(d.wrkP99Ms)} ms, tend bench p99 ${ms(d.tendP99Ms)} ms, ratio ${ratio(d.tendP99Ms, d.wrkP99Ms).toFixed(2)}.`,
    '',
  );
  return out;
}
