/** The outcome of a conformance run: per-case results, the counts, and the cases the server lost. */
import type { Tolerance } from './compare.js';

export type Verdict = 'pass' | 'fail';

/** One carriable case through both paths; `*_error` says why a path failed. */
export interface CaseResult {
  case: string;
  direct: Verdict;
  direct_error?: string;
  server: Verdict;
  server_error?: string;
}

export interface ConformanceSummary {
  data_dir: string;
  filter: string | null;
  tolerance: Tolerance;
  duration_seconds: number;
  counts: {
    total: number;
    not_carriable: number;
    not_carriable_by_reason: Record<string, number>;
    carriable: number;
    direct_pass: number;
    direct_fail: number;
    server_pass: number;
    server_fail: number;
    /** Cases that pass directly but not through the server: the acceptance criterion wants none. */
    server_lost: number;
  };
  not_carriable: { case: string; reason: string }[];
  server_lost: CaseResult[];
  cases: CaseResult[];
}

/** Build the summary from the per-case results and the cases set aside. */
export function summarize(options: {
  dataDir: string;
  filter: string | undefined;
  tolerance: Tolerance;
  durationSeconds: number;
  notCarriable: { case: string; reason: string; category: string }[];
  results: CaseResult[];
}): ConformanceSummary {
  const byReason: Record<string, number> = {};
  for (const n of options.notCarriable) byReason[n.category] = (byReason[n.category] ?? 0) + 1;
  const count = (pick: (r: CaseResult) => boolean): number => options.results.filter(pick).length;
  const lost = options.results.filter((r) => r.direct === 'pass' && r.server === 'fail');
  return {
    data_dir: options.dataDir,
    filter: options.filter ?? null,
    tolerance: options.tolerance,
    duration_seconds: Math.round(options.durationSeconds * 10) / 10,
    counts: {
      total: options.results.length + options.notCarriable.length,
      not_carriable: options.notCarriable.length,
      not_carriable_by_reason: byReason,
      carriable: options.results.length,
      direct_pass: count((r) => r.direct === 'pass'),
      direct_fail: count((r) => r.direct === 'fail'),
      server_pass: count((r) => r.server === 'pass'),
      server_fail: count((r) => r.server === 'fail'),
      server_lost: lost.length,
    },
    not_carriable: options.notCarriable.map(({ case: name, reason }) => ({ case: name, reason })),
    server_lost: lost,
    cases: options.results,
  };
}

/** The counts on one line, for the test's output. */
export function countsLine(s: ConformanceSummary): string {
  const c = s.counts;
  const reasons = Object.entries(c.not_carriable_by_reason)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return (
    `ONNX node conformance: ${c.total} cases, ${c.not_carriable} not carriable (${reasons || 'none'}), ` +
    `direct ${c.direct_pass} pass / ${c.direct_fail} fail, server ${c.server_pass} pass / ${c.server_fail} fail, ` +
    `${c.server_lost} lost by the server (${s.duration_seconds} s)`
  );
}
