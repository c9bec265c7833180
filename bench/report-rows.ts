/**
 * What every report section shares: a measured outcome (data, skipped or error) and one row of the
 * targets table with its verdict. Apart from report.ts so that the sections (report-*.ts) use them
 * without importing the report that assembles them.
 */
import type { LoadFigure } from './http-load.js';
import { median, ratio } from './statistics.js';

export type Outcome<T> = { data: T } | { skipped: string } | { error: string };

/** INCONCLUSIVE: the A/A control of the measurement moved more than the margin judged; it fails the bench. */
export type Verdict = 'PASS' | 'FAIL' | 'NOT RUN' | 'INCONCLUSIVE';

export interface TargetRow {
  name: string;
  figure: string;
  baseline: string;
  ratio: number;
  target: string;
  verdict: Verdict;
  note: string;
}

/** A target row for a figure that was not measured, saying why. */
export function notRun(name: string, target: string, why: string): TargetRow {
  return { name, figure: '—', baseline: '—', ratio: Number.NaN, target, verdict: 'NOT RUN', note: why };
}

export function dataOf<T>(outcome: Outcome<T> | undefined): T | undefined {
  return outcome !== undefined && 'data' in outcome ? outcome.data : undefined;
}

/** Two figures' A/A controls must be within this of 1 for their ratio to be judged. */
export const THROUGHPUT_CONTROL_TOLERANCE = 0.05;

/**
 * A figure's A/A control: the median of its odd-numbered runs over the median of its even-numbered
 * ones (runs in the order measured, interleaved with the other figures'). The same server against
 * itself: how far the machine alone moves a figure. NaN with fewer than two runs.
 */
export function splitHalfControl(figure: LoadFigure): number {
  const rates = figure.runs.map((r) => r.requestsPerSecond);
  if (rates.length < 2) return Number.NaN;
  return ratio(median(rates.filter((_, i) => i % 2 === 0)), median(rates.filter((_, i) => i % 2 === 1)));
}
