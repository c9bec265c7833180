/**
 * The soak block of BENCHMARKS.md (between its markers, so that `npm run bench` keeps it and
 * `npm run soak` replaces only it): the capacity and how it was measured, the load every window
 * held, the checks with their verdicts, and every window.
 */
import type { SoakEvaluation, SoakWindow } from './soak-checks.js';
import { SCHEDULE_SLACK_MS, SOAK_LOAD } from './soak-rate.js';

export const SOAK_START = '<!-- soak:start -->';
export const SOAK_END = '<!-- soak:end -->';

export interface SoakMeta {
  minutes: number;
  date: Date;
  machine: string;
  /** Connections of the capacity runs (section 1's count). */
  connections: number;
  /** Connections of the rate-controlled windows. */
  loadConnections: number;
  windowSeconds: number;
  capacity: {
    perSecond: number;
    runsPerSecond: number[];
    runSeconds: number;
    warmupSeconds: number;
  };
  targetPerSecond: number;
  /** Section 1's tend figure at the same connection count, and the date of the run it is from. */
  section1: { perSecond: number; date: string } | null;
}

const int = (x: number): string => Math.round(x).toLocaleString('en-US');
const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

function part(i: number, evaluation: SoakEvaluation, n: number): string {
  const { warmup, group } = evaluation.plan;
  if (i < warmup) return 'warm-up';
  if (i < warmup + group) return 'first';
  if (i >= n - group) return 'last';
  return '';
}

/** The soak block, markers included. */
export function soakMarkdown(
  windows: readonly SoakWindow[],
  evaluation: SoakEvaluation,
  meta: SoakMeta,
): string {
  const n = windows.length;
  const { warmup, group } = evaluation.plan;
  const { load } = evaluation;
  const failed = evaluation.checks.filter((c) => c.verdict === 'FAIL').map((c) => c.name);
  const section1 =
    meta.section1 === null
      ? 'BENCHMARKS.json holds no section 1 figure at this connection count to compare with.'
      : `Section 1 of the bench (run of ${meta.section1.date}) read ${int(meta.section1.perSecond)} req/s at ${meta.connections} connections.`;
  const lines = [
    SOAK_START,
    '## Soak: steady load for a long time',
    '',
    `\`npm run soak -- --minutes ${meta.minutes}\` on ${meta.machine}, ${meta.date.toISOString().slice(0, 16).replace('T', ' ')} UTC. ` +
      'The digits model, request body and server of section 1 (a repository folder under `tend serve`, default config: ' +
      'dynamic batching, every request logged).',
    '',
    `**Capacity: ${int(meta.capacity.perSecond)} req/s**, the median of ${meta.capacity.runsPerSecond.length} wrk runs of ${meta.capacity.runSeconds} s ` +
      `(${meta.capacity.runsPerSecond.map(int).join(', ')} req/s) after a ${meta.capacity.warmupSeconds} s warm-up run, one wrk at a time ` +
      `(1 thread, ${meta.connections} connections, unthrottled), as section 1 measures. ${section1}`,
    '',
    `**Load: ${int(meta.targetPerSecond)} req/s asked (${pct(SOAK_LOAD.share)} of the capacity)** for ${n} windows of ${meta.windowSeconds} s back to back, ` +
      `each a wrk run (1 thread, ${meta.loadConnections} connections) whose Lua \`delay()\` hook holds every request to its slot on one fixed schedule ` +
      `(bench/soak-rate.ts), so the rate does not follow the latency; a schedule that falls behind by up to ${SCHEDULE_SLACK_MS} ms is caught up ` +
      '(more connections than the capacity runs leave the schedule free ones when the latency jumps; at a fixed rate the requests in flight ' +
      'do not depend on the number of connections). ' +
      `Measured load per window: min ${pct(load.min)}, median ${pct(load.median)}, max ${pct(load.max)} of the capacity ` +
      `(every window must stay within ${pct(SOAK_LOAD.low)}–${pct(SOAK_LOAD.high)}). The server's RSS and open descriptors are read after each window.`,
    '',
    `Windows 1–${warmup} are warm-up: they count for the load and failure checks, not for RSS or p99. ` +
      `RSS and p99 compare the median of windows ${warmup + 1}–${warmup + group} (first after warm-up) ` +
      `with the median of windows ${n - group + 1}–${n} (last).`,
    '',
    '| check | first | last | value | limit | verdict |',
    '| --- | --- | --- | --- | --- | --- |',
    ...evaluation.checks.map(
      (c) => `| ${c.name} | ${c.first} | ${c.last} | ${c.value} | ${c.limit} | **${c.verdict}** |`,
    ),
    '',
    evaluation.pass
      ? '**Result: PASS** (every check passed or was not run).'
      : `**Result: FAIL** (${failed.join('; ')}).`,
    '',
    '| window | t | req/s | load | p50 | p99 | RSS | open fds | part |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...windows.map(
      (w, i) =>
        `| ${i + 1} | ${Math.round(w.atSeconds)} s | ${int(w.requestsPerSecond)} | ${pct(load.shares[i] ?? Number.NaN)} | ` +
        `${w.p50Ms.toFixed(2)} ms | ${w.p99Ms.toFixed(2)} ms | ${mib(w.rssBytes)} | ${w.fds} | ${part(i, evaluation, n)} |`,
    ),
    '',
    SOAK_END,
  ];
  return lines.join('\n');
}

/** Replace (or append) the soak block of a markdown file. */
export function withSoakBlock(markdown: string, block: string): string {
  const start = markdown.indexOf(SOAK_START);
  const end = markdown.indexOf(SOAK_END);
  if (start >= 0 && end > start)
    return `${markdown.slice(0, start)}${block}${markdown.slice(end + SOAK_END.length)}`;
  return `${markdown.trimEnd()}\n\n${block}\n`;
}
