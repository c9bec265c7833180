/**
 * The targets table (target, figure, baseline measured in the same run, ratio, target, result):
 * one renderer for the top of BENCHMARKS.md and for README's generated table, so that both always
 * show the same text for the same rows.
 */
import type { TargetRow } from './report-rows.js';

const cells = (values: readonly string[]): string => `| ${values.join(' | ')} |`;

/** A ratio with two decimals, '—' when there is none. */
export function formatRatio(x: number): string {
  return Number.isFinite(x) ? x.toFixed(2) : '—';
}

/** The result cell: the verdict in bold, then the note when there is one. */
export function formatResult(row: TargetRow): string {
  return row.note === '' ? `**${row.verdict}**` : `**${row.verdict}** — ${row.note}`;
}

/** The markdown table of `rows`, header first, no trailing newline. */
export function renderTargetsTable(rows: readonly TargetRow[]): string {
  const header = ['target', 'figure', 'baseline (same run)', 'ratio', 'target', 'result'];
  return [
    cells(header),
    cells(header.map(() => '---')),
    ...rows.map((t) =>
      cells([t.name, t.figure, t.baseline, formatRatio(t.ratio), t.target, formatResult(t)]),
    ),
  ].join('\n');
}
