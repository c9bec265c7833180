/**
 * What every report section shares: a measured outcome (data, skipped or error) and one row of the
 * targets table with its verdict. Apart from report.ts so that the sections (report-*.ts) use them
 * without importing the report that assembles them.
 */
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

export function dataOf<T>(outcome: Outcome<T> | undefined): T | undefined {
  return outcome !== undefined && 'data' in outcome ? outcome.data : undefined;
}
