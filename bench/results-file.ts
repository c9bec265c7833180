/**
 * BENCHMARKS.json: the machine-readable side of BENCHMARKS.md, written by the same bench run and
 * committed beside it. It holds the rows of the targets table (figure, baseline, ratio, target,
 * verdict, with the commit and date they were measured at) and section 1's served figures; README's
 * benchmark table is generated from it (bench/readme.ts) and the soak compares its capacity with it,
 * so that no figure is copied by hand.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { BenchResults } from './report.js';
import { dataOf, type TargetRow } from './report-rows.js';

const VerdictSchema = z.enum(['PASS', 'FAIL', 'NOT RUN', 'INCONCLUSIVE']);

const ResultRowSchema = z.object({
  name: z.string(),
  figure: z.string(),
  baseline: z.string(),
  /** null where the report shows '—'. */
  ratio: z.number().nullable(),
  target: z.string(),
  verdict: VerdictSchema,
  note: z.string(),
  /** The commit checked out when the row was measured (short hash). */
  commit: z.string(),
  /** When the run that measured the row began (ISO 8601, UTC). */
  date: z.string(),
});

export const ResultsFileSchema = z.object({
  /** Bumped when the shape changes. */
  version: z.literal(1),
  run: z.object({
    date: z.string(),
    commit: z.string(),
    /** Files differed from the commit when the run began. */
    dirty: z.boolean(),
    command: z.string(),
    minutes: z.number(),
    machine: z.string(),
    quick: z.boolean(),
  }),
  rows: z.array(ResultRowSchema),
  /** Section 1: the digits model served by `tend serve`, req/s at each connection count. */
  digitsOverJson: z.array(z.object({ connections: z.number().int(), requestsPerSecond: z.number() })),
});

export type ResultRow = z.infer<typeof ResultRowSchema>;
export type ResultsFile = z.infer<typeof ResultsFileSchema>;

/** The JSON path beside a markdown report: BENCHMARKS.md → BENCHMARKS.json. */
export function resultsPathFor(markdownPath: string): string {
  return markdownPath.replace(/(\.md)?$/i, '.json');
}

/** A results row from a targets-table row (NaN ratios become null: JSON has no NaN). */
export function resultRow(row: TargetRow, commit: string, date: string): ResultRow {
  return {
    name: row.name,
    figure: row.figure,
    baseline: row.baseline,
    ratio: Number.isFinite(row.ratio) ? row.ratio : null,
    target: row.target,
    verdict: row.verdict,
    note: row.note,
    commit,
    date,
  };
}

/** Back to the report's row shape (null ratios become NaN, shown as '—'). */
export function targetRowOf(row: ResultRow): TargetRow {
  return {
    name: row.name,
    figure: row.figure,
    baseline: row.baseline,
    ratio: row.ratio ?? Number.NaN,
    target: row.target,
    verdict: row.verdict,
    note: row.note,
  };
}

/** The results file of a bench run: its targets `rows` (from evaluateTargets) and section 1. */
export function resultsFileOf(
  results: BenchResults,
  rows: readonly TargetRow[],
  git: { commit: string; dirty: boolean },
): ResultsFile {
  const date = results.date.toISOString().replace(/\.\d+Z$/, 'Z');
  const m = results.machine;
  return {
    version: 1,
    run: {
      date,
      commit: git.commit,
      dirty: git.dirty,
      command: results.settings.command,
      minutes: Math.round(results.elapsedSeconds / 6) / 10,
      machine: `${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB.toFixed(1)} GiB memory`,
      quick: results.settings.quick,
    },
    rows: rows.map((row) => resultRow(row, git.commit, date)),
    digitsOverJson: (dataOf(results.digits)?.figures ?? []).map((f) => ({
      connections: f.connections,
      requestsPerSecond: Math.round(f.requestsPerSecond),
    })),
  };
}

/** The file's text: two-space JSON with a final newline, so that diffs stay line by line. */
export function resultsFileText(file: ResultsFile): string {
  return `${JSON.stringify(ResultsFileSchema.parse(file), null, 2)}\n`;
}

/** Read and check a results file; the error names the file and the first field that is wrong. */
export function readResultsFile(path: string): ResultsFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read ${path}: ${(err as Error).message}`);
  }
  const parsed = ResultsFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `${path} is not a bench results file: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`,
    );
  }
  return parsed.data;
}

/** Section 1's served req/s at `connections`, or null when the file has none. */
export function section1Figure(file: ResultsFile, connections: number): number | null {
  return file.digitsOverJson.find((f) => f.connections === connections)?.requestsPerSecond ?? null;
}

/** The checked-out commit (short hash) and whether files differ from it; 'unknown' outside git. */
export function gitState(cwd: string): { commit: string; dirty: boolean } {
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, encoding: 'utf8' });
  if (head.status !== 0) return { commit: 'unknown', dirty: false };
  const status = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], {
    cwd,
    encoding: 'utf8',
  });
  return { commit: head.stdout.trim(), dirty: status.status === 0 && status.stdout.trim() !== '' };
}
