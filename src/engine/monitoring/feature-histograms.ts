/**
 * Small reference-vs-current histograms of each feature, for the dashboard's drift table and the
 * HTML report: numeric columns over 10 equal bins spanning both samples, other columns by category
 * (the 10 most frequent in the reference, the rest as "other"). Shares, not counts, so samples of
 * different sizes compare.
 */
import type { CellValue, Columns } from '../../monitor/drift-columns.js';

export interface FeatureHistogram {
  kind: 'numeric' | 'categorical';
  /** Numeric: bins + 1 edges. */
  edges?: number[];
  /** Categorical: the categories shown. */
  categories?: string[];
  /** Share of the sample in each bin or category. */
  reference: number[];
  current: number[];
}

const BINS = 10;
const TOP = 10;

function numbers(values: readonly CellValue[]): number[] {
  const out: number[] = [];
  for (const v of values) if (typeof v === 'number' && Number.isFinite(v)) out.push(v);
  return out;
}

function shares(counts: number[], total: number): number[] {
  return counts.map((c) => (total === 0 ? 0 : Math.round((c / total) * 1e4) / 1e4));
}

function numericHistogram(reference: number[], current: number[]): FeatureHistogram {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of [...reference, ...current]) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!Number.isFinite(lo)) return { kind: 'numeric', edges: [], reference: [], current: [] };
  if (hi === lo) hi = lo + 1;
  const width = (hi - lo) / BINS;
  const edges = Array.from({ length: BINS + 1 }, (_, i) => lo + i * width);
  const bin = (v: number) => Math.min(BINS - 1, Math.floor((v - lo) / width));
  const r = new Array<number>(BINS).fill(0);
  const c = new Array<number>(BINS).fill(0);
  for (const v of reference) r[bin(v)] = (r[bin(v)] as number) + 1;
  for (const v of current) c[bin(v)] = (c[bin(v)] as number) + 1;
  return {
    kind: 'numeric',
    edges,
    reference: shares(r, reference.length),
    current: shares(c, current.length),
  };
}

function categoricalHistogram(
  reference: readonly CellValue[],
  current: readonly CellValue[],
): FeatureHistogram {
  const count = (values: readonly CellValue[]) => {
    const m = new Map<string, number>();
    for (const v of values) if (v !== null) m.set(String(v), (m.get(String(v)) ?? 0) + 1);
    return m;
  };
  const ref = count(reference);
  const cur = count(current);
  const categories = [...ref.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, TOP)
    .map(([k]) => k);
  const shown = new Set(categories);
  const other = (m: Map<string, number>) =>
    [...m.entries()].filter(([k]) => !shown.has(k)).reduce((n, [, v]) => n + v, 0);
  const r = [...categories.map((k) => ref.get(k) ?? 0), other(ref)];
  const c = [...categories.map((k) => cur.get(k) ?? 0), other(cur)];
  const totalR = r.reduce((a, b) => a + b, 0);
  const totalC = c.reduce((a, b) => a + b, 0);
  return {
    kind: 'categorical',
    categories: [...categories, 'other'],
    reference: shares(r, totalR),
    current: shares(c, totalC),
  };
}

/** One histogram per reference column (numeric when both samples hold numbers only). */
export function featureHistograms(reference: Columns, current: Columns): Record<string, FeatureHistogram> {
  const out: Record<string, FeatureHistogram> = {};
  for (const [name, refValues] of Object.entries(reference)) {
    const curValues = current[name] ?? [];
    const numeric =
      refValues.every((v) => v === null || typeof v === 'number') &&
      curValues.every((v) => v === null || typeof v === 'number');
    const distinct = new Set(refValues.filter((v) => v !== null)).size;
    out[name] =
      numeric && distinct > 5
        ? numericHistogram(numbers(refValues), numbers(curValues))
        : categoricalHistogram(refValues, curValues);
  }
  return out;
}
