/**
 * The prediction-log part of BENCHMARKS.md: requests/s of the digits model with every request
 * logged over the same server without logging. Target (issue 7): ≥ 0.85 at 32 clients.
 */
import type { LoggingResult } from './logging.js';
import {
  splitHalfControl,
  THROUGHPUT_CONTROL_TOLERANCE,
  type Outcome,
  type TargetRow,
  notRun,
} from './report-rows.js';
import { ratio } from './statistics.js';

export const LOGGING_TARGET = 0.85;
export const LOGGING_TARGET_CONNECTIONS = 32;

const ms = (x: number): string => (x >= 10 ? x.toFixed(1) : x.toFixed(2));
const rate = (x: number): string => Math.round(x).toLocaleString('en-US');

export function loggingTargets(
  outcome: Outcome<LoggingResult> | undefined,
  whyMissing: (o: Outcome<unknown> | undefined) => string,
): TargetRow[] {
  const name = `Digits model over JSON, c=${LOGGING_TARGET_CONNECTIONS}, every request logged (req/s)`;
  const target = `≥ ${LOGGING_TARGET.toFixed(2)}`;
  if (outcome === undefined) return [];
  if (!('data' in outcome)) return [notRun(name, target, whyMissing(outcome))];
  const level = outcome.data.levels.find((l) => l.connections === LOGGING_TARGET_CONNECTIONS);
  if (!level) return [notRun(name, target, 'no figure at 32 clients')];
  const r = ratio(level.on.requestsPerSecond, level.off.requestsPerSecond);
  const failures = level.on.failures + level.off.failures;
  const dropped = outcome.data.rowsDropped ?? 0;
  const controls = [splitHalfControl(level.on), splitHalfControl(level.off)];
  const quiet = controls.every((c) => Math.abs(c - 1) <= THROUGHPUT_CONTROL_TOLERANCE);
  const clean = failures === 0 && dropped === 0;
  return [
    {
      name,
      figure: `${rate(level.on.requestsPerSecond)} (sampling 1.0)`,
      baseline: `${rate(level.off.requestsPerSecond)} (monitoring off)`,
      ratio: r,
      target: `${target}, A/A within ±${(100 * THROUGHPUT_CONTROL_TOLERANCE).toFixed(0)}%`,
      verdict: !clean ? 'FAIL' : !quiet ? 'INCONCLUSIVE' : r >= LOGGING_TARGET ? 'PASS' : 'FAIL',
      note: [
        `A/A ${controls.map((c) => (Number.isFinite(c) ? c.toFixed(2) : '—')).join(' and ')} (on, off)`,
        failures > 0 ? `${failures} failed requests` : '',
        dropped > 0 ? `${dropped} log rows dropped` : '',
        clean && !quiet ? 'too noisy to judge: an A/A control is off by more than 5%' : '',
      ]
        .filter((n) => n !== '')
        .join('; '),
    },
  ];
}

export function renderLogging(
  outcome: Outcome<LoggingResult> | undefined,
  runs: number,
  whyMissing: (o: Outcome<unknown> | undefined) => string,
): string[] {
  const out: string[] = ['## 7. Monitoring: what the prediction log costs', ''];
  if (outcome === undefined || !('data' in outcome))
    return [...out, `_Not measured: ${whyMissing(outcome)}._`, ''];
  const data = outcome.data;
  out.push(
    'Two `tend serve` processes serve the trained digits model from the same repository: one with the default monitoring ' +
      '(every request logged to `monitor.db`: features, probabilities, class, latency), one with `monitoring.enabled: false`. ' +
      `wrk runs against the two alternate; figures are medians of ${runs} run(s).`,
    '',
    '| clients | req/s logging off | req/s logging on | ratio | p50 off | p50 on | p99 off | p99 on |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const l of data.levels) {
    out.push(
      `| ${l.connections} | ${rate(l.off.requestsPerSecond)} | ${rate(l.on.requestsPerSecond)} | ${ratio(l.on.requestsPerSecond, l.off.requestsPerSecond).toFixed(2)} | ` +
        `${ms(l.off.p50Ms)} ms | ${ms(l.on.p50Ms)} ms | ${ms(l.off.p99Ms)} ms | ${ms(l.on.p99Ms)} ms |`,
    );
  }
  out.push(
    '',
    `Rows the logging server committed over the section: ${data.rowsWritten ?? '—'}; dropped: ${data.rowsDropped ?? '—'}.`,
    '',
  );
  return out;
}
