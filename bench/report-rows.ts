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
 * The A/A control of a series of samples of one thing, in the order measured (interleaved with the
 * samples of the other figures): the median of the odd-numbered samples over the median of the
 * even-numbered ones. How far the machine alone moves that figure. NaN with fewer than two samples.
 */
export function splitHalf(samples: readonly number[]): number {
  if (samples.length < 2) return Number.NaN;
  return ratio(median(samples.filter((_, i) => i % 2 === 0)), median(samples.filter((_, i) => i % 2 === 1)));
}

/** A load figure's A/A control: splitHalf over its runs' requests per second. */
export function splitHalfControl(figure: LoadFigure): number {
  return splitHalf(figure.runs.map((r) => r.requestsPerSecond));
}

/** True when every control is measured and within `tolerance` of 1. */
export function controlsHold(controls: readonly number[], tolerance = THROUGHPUT_CONTROL_TOLERANCE): boolean {
  return controls.every((c) => Number.isFinite(c) && Math.abs(c - 1) <= tolerance);
}

/**
 * The verdict of a gated ratio: FAIL when the measurement is not clean (failed requests, differing
 * outputs), INCONCLUSIVE when an A/A control moved more than the tolerance (the machine alone moved
 * the figure more than the margin being judged), else PASS or FAIL by the target.
 */
export function controlledVerdict(
  clean: boolean,
  controls: readonly number[],
  meetsTarget: boolean,
  tolerance = THROUGHPUT_CONTROL_TOLERANCE,
): Verdict {
  if (!clean) return 'FAIL';
  if (!controlsHold(controls, tolerance)) return 'INCONCLUSIVE';
  return meetsTarget ? 'PASS' : 'FAIL';
}

/** "A/A 1.01 (json), 0.97 (grpc)": each control with what it measured. */
export function controlsNote(controls: readonly (readonly [string, number])[]): string {
  const fmt = (c: number): string => (Number.isFinite(c) ? c.toFixed(2) : '—');
  return `A/A ${controls.map(([label, c]) => `${fmt(c)} (${label})`).join(', ')}`;
}

/** The suffix of a gated target's text: the A/A condition. */
export function controlTarget(tolerance = THROUGHPUT_CONTROL_TOLERANCE): string {
  return `A/A within ±${(100 * tolerance).toFixed(0)}%`;
}

/** The note of a row whose controls moved too much. */
export function tooNoisy(tolerance = THROUGHPUT_CONTROL_TOLERANCE): string {
  return `too noisy to judge: an A/A control is off by more than ${(100 * tolerance).toFixed(0)}%`;
}
