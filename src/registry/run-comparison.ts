/** Side-by-side comparison of training runs (`tend runs compare`): pure, from records already read. */
import type { RunRecord } from './run-store.js';

/** One key across the compared runs: values in the order of `run_ids`, null where a run lacks the key. */
export interface ComparisonRow {
  key: string;
  values: unknown[];
  /** True when not every run has the same value (a missing key counts as a value). */
  differs: boolean;
}

export interface RunComparison {
  run_ids: string[];
  /** Facts of each run: model, kind, status, data set, code version, duration, produced version. */
  runs: ComparisonRow[];
  parameters: ComparisonRow[];
  /** Final metrics. */
  metrics: ComparisonRow[];
}

const RUN_FACTS = [
  'model_name',
  'kind',
  'status',
  'dataset_sha256',
  'dataset_rows',
  'dataset_source',
  'parent_version',
  'produced_version',
  'code_version',
  'duration_ms',
  'started_at',
] as const satisfies readonly (keyof RunRecord)[];

/** JSON with object keys sorted, so that {a,b} and {b,a} compare equal. */
function canonical(value: unknown): string {
  return (
    JSON.stringify(value, (_key, v: unknown) =>
      typeof v === 'object' && v !== null && !Array.isArray(v)
        ? Object.fromEntries(
            Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
          )
        : v,
    ) ?? 'undefined'
  );
}

function rowsOf(keys: Iterable<string>, valueOf: (key: string) => unknown[]): ComparisonRow[] {
  return [...keys].map((key) => {
    const values = valueOf(key);
    const first = canonical(values[0]);
    return { key, values, differs: values.some((v) => canonical(v) !== first) };
  });
}

function tableOf(maps: Record<string, unknown>[]): ComparisonRow[] {
  const keys = [...new Set(maps.flatMap((m) => Object.keys(m)))].sort();
  return rowsOf(keys, (key) => maps.map((m) => (Object.hasOwn(m, key) ? m[key] : null)));
}

/**
 * Parameters and final metrics of runs as tables of keys × runs (keys sorted, differing ones marked).
 * @example compareRunRecords(await Promise.all(ids.map((id) => registry.runs.get(id))))
 */
export function compareRunRecords(runs: readonly RunRecord[]): RunComparison {
  return {
    run_ids: runs.map((r) => r.run_id),
    runs: rowsOf(RUN_FACTS, (key) => runs.map((r) => r[key as (typeof RUN_FACTS)[number]])),
    parameters: tableOf(runs.map((r) => r.parameters)),
    metrics: tableOf(runs.map((r) => r.metrics)),
  };
}
