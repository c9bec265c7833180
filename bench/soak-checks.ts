/**
 * The soak's verdicts from its windows, apart from the run so that they are tested on made-up
 * windows. The first windows are warm-up (the process still grows caches, pools and the prediction
 * log): they count for the load and failure checks, not for RSS or p99. RSS and p99 compare the
 * median of the first group of windows after warm-up with the median of the last group, so that
 * one noisy window cannot pass or fail a check alone.
 */
import { median } from './statistics.js';
import { SOAK_LOAD, type LoadBand } from './soak-rate.js';

export interface SoakWindow {
  /** Seconds since the soak began, at the end of the window. */
  atSeconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Non-2xx answers and socket errors. */
  failures: number;
  rssBytes: number;
  fds: number;
}

export const SOAK_LIMITS = {
  /** RSS of the last group over the first group (after warm-up) must stay below 1 + this. */
  rssGrowth: 0.05,
  /** p99 of the last group over the first group must stay at or below this. */
  p99Ratio: 1.2,
  /** The capacity may differ from section 1's figure at the same connection count by at most this share. */
  capacityVsSection1: 0.1,
} as const;

/** Which windows are warm-up, and how many windows each compared group holds. */
export interface WindowPlan {
  warmup: number;
  group: number;
}

/**
 * Warm-up: the first 10% of the windows (at least one). Groups: 10% of the windows after warm-up,
 * but at least 3 when there are 6 or more, so that a median means something in a short run.
 */
export function windowPlan(windows: number): WindowPlan {
  if (!Number.isInteger(windows) || windows < 3)
    throw new Error(`a soak needs at least 3 windows (warm-up, first, last), got ${windows}`);
  const warmup = Math.max(1, Math.ceil(windows / 10));
  const rest = windows - warmup;
  const group = Math.max(1, Math.round(rest / 10), Math.min(3, Math.floor(rest / 2)));
  return { warmup, group };
}

export type SoakVerdict = 'PASS' | 'FAIL' | 'NOT RUN';

export interface SoakCheck {
  name: string;
  first: string;
  last: string;
  value: string;
  limit: string;
  verdict: SoakVerdict;
}

export interface LoadSummary {
  /** Each window's rate as a share of the capacity. */
  shares: number[];
  min: number;
  median: number;
  max: number;
}

export function loadSummary(windows: readonly SoakWindow[], capacityPerSecond: number): LoadSummary {
  const shares = windows.map((w) => w.requestsPerSecond / capacityPerSecond);
  return {
    shares,
    min: Math.min(...shares),
    median: median(shares),
    max: Math.max(...shares),
  };
}

export interface SoakEvaluation {
  plan: WindowPlan;
  load: LoadSummary;
  checks: SoakCheck[];
  pass: boolean;
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const verdict = (ok: boolean): SoakVerdict => (ok ? 'PASS' : 'FAIL');

/**
 * Every check of a soak. `section1PerSecond` is BENCHMARKS.md section 1's tend figure at the soak's
 * connection count (null when that run has none: the check is then NOT RUN, which fails nothing).
 */
export function evaluateSoak(
  windows: readonly SoakWindow[],
  capacityPerSecond: number,
  section1PerSecond: number | null,
  band: LoadBand = SOAK_LOAD,
): SoakEvaluation {
  const plan = windowPlan(windows.length);
  const load = loadSummary(windows, capacityPerSecond);
  const measured = windows.slice(plan.warmup);
  const first = measured.slice(0, plan.group);
  const last = measured.slice(measured.length - plan.group);
  const checks: SoakCheck[] = [];

  if (section1PerSecond === null || !(section1PerSecond > 0)) {
    checks.push({
      name: 'capacity vs section 1 at the same connection count',
      first: '—',
      last: `${Math.round(capacityPerSecond)} req/s`,
      value: '—',
      limit: `within ${pct(SOAK_LIMITS.capacityVsSection1)}`,
      verdict: 'NOT RUN',
    });
  } else {
    const r = capacityPerSecond / section1PerSecond;
    checks.push({
      name: 'capacity vs section 1 at the same connection count',
      first: `${Math.round(section1PerSecond)} req/s (section 1)`,
      last: `${Math.round(capacityPerSecond)} req/s (soak)`,
      value: r.toFixed(3),
      limit: `${(1 - SOAK_LIMITS.capacityVsSection1).toFixed(2)}–${(1 + SOAK_LIMITS.capacityVsSection1).toFixed(2)}`,
      verdict: verdict(Math.abs(r - 1) <= SOAK_LIMITS.capacityVsSection1),
    });
  }

  const outside = load.shares.filter((s) => s < band.low || s > band.high).length;
  checks.push({
    name: 'load of every window, share of the capacity',
    first: `min ${pct(load.min)}`,
    last: `max ${pct(load.max)}`,
    value: `median ${pct(load.median)}; ${outside} of ${windows.length} outside`,
    limit: `${pct(band.low)}–${pct(band.high)}`,
    verdict: verdict(outside === 0),
  });

  const rssFirst = median(first.map((w) => w.rssBytes));
  const rssLast = median(last.map((w) => w.rssBytes));
  const rssRatio = rssLast / rssFirst;
  checks.push({
    name: 'RSS, median of the last windows over the first after warm-up',
    first: mib(rssFirst),
    last: mib(rssLast),
    value: rssRatio.toFixed(3),
    limit: `< ${(1 + SOAK_LIMITS.rssGrowth).toFixed(2)}`,
    verdict: verdict(rssRatio < 1 + SOAK_LIMITS.rssGrowth),
  });

  const p99First = median(first.map((w) => w.p99Ms));
  const p99Last = median(last.map((w) => w.p99Ms));
  const p99Ratio = p99Last / p99First;
  checks.push({
    name: 'p99, median of the last windows over the first after warm-up',
    first: `${p99First.toFixed(2)} ms`,
    last: `${p99Last.toFixed(2)} ms`,
    value: p99Ratio.toFixed(2),
    limit: `≤ ${SOAK_LIMITS.p99Ratio.toFixed(2)}`,
    verdict: verdict(p99Ratio <= SOAK_LIMITS.p99Ratio),
  });

  const failures = windows.reduce((sum, w) => sum + w.failures, 0);
  checks.push({
    name: 'failed requests (all windows)',
    first: '',
    last: String(failures),
    value: '',
    limit: '0',
    verdict: verdict(failures === 0),
  });

  return { plan, load, checks, pass: checks.every((c) => c.verdict !== 'FAIL') };
}
