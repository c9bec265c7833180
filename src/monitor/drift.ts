/**
 * Data drift of a current window against the reference data set of a model version, per feature
 * and for the prediction, with Evidently's default choices:
 * - missing values (null, NaN, +-Infinity) and values of the wrong type are left out per column;
 * - reference of at most 1000 values: Kolmogorov-Smirnov for numeric columns, chi-squared of the
 *   current counts against the reference shares for categorical ones, the two-proportion z-test
 *   for binary ones; drift when p < 0.05;
 * - larger reference: Wasserstein distance / max(reference std, 0.001) for numeric columns,
 *   Jensen-Shannon distance of the category shares otherwise; drift when >= 0.1;
 * - dataset drift when at least half of the tested features drift.
 * Every feature also gets its PSI (reference-decile bins) and PSI band.
 */
import { errors } from '../core/errors.js';
import { classifyColumn, requireReference, rowCount, usableValues, valueTypeOf } from './drift-columns.js';
import type { CellValue, ColumnType, Columns } from './drift-columns.js';
import {
  chiSquareTest,
  histogramCounts,
  jensenShannonDistance,
  ks2samp,
  populationStabilityIndex,
  proportionZTest,
  psiBand,
  psiOfShares,
  standardDeviation,
  sturgesEdges,
  wassersteinDistance,
} from './drift-stats.js';

export type { CellValue, ColumnType, Columns } from './drift-columns.js';

/** The drift tests, by the names Evidently gives them. */
export type StatTestName = 'ks' | 'chisquare' | 'z' | 'wasserstein' | 'jensenshannon' | 'psi';

const STAT_TESTS: readonly StatTestName[] = ['ks', 'chisquare', 'z', 'wasserstein', 'jensenshannon', 'psi'];
const P_VALUE_TESTS = new Set<StatTestName>(['ks', 'chisquare', 'z']);
const NUMERIC_ONLY_TESTS = new Set<StatTestName>(['ks', 'wasserstein']);

/** Evidently's switch between p-value tests and distances: the reference's number of values. */
export const SMALL_REFERENCE_MAX_ROWS = 1000;
/** Numeric columns with more distinct reference values than this are binned for Jensen-Shannon. */
const JS_HISTOGRAM_MIN_UNIQUE = 20;
const WASSERSTEIN_MIN_STD = 0.001;

/** Options of a drift report. */
export interface DriftOptions {
  /** The column holding the model's prediction: tested like a feature, reported apart, left out of the share. */
  predictionColumn?: string;
  /** A test per column instead of the default choice. */
  stattests?: Readonly<Record<string, StatTestName>>;
  /** A threshold per column (p-value tests: drift when p < threshold; distances: when >= threshold). */
  thresholds?: Readonly<Record<string, number>>;
  /** Share of drifted features from which the data set drifts (default 0.5). */
  driftShare?: number;
  /** PSI bins (reference quantiles; default 10). */
  psiBins?: number;
}

/** The drift of one column. */
export interface FeatureDrift {
  name: string;
  column_type: ColumnType;
  stattest: StatTestName;
  /**
   * KS D, chi-squared, z, or the distance; null when not tested or unbounded (chi-squared with a category the
   * reference never had).
   */
  statistic: number | null;
  /** Null for the distance tests and when not tested. */
  p_value: number | null;
  threshold: number;
  drifted: boolean;
  psi: number | null;
  psi_band: 'stable' | 'moderate' | 'significant' | null;
  /** Values used (present and of the reference's type). */
  reference_rows: number;
  current_rows: number;
  /** Why the column was not tested (no usable values on one side), or null. */
  skipped_reason: string | null;
}

/** A drift report of one window. */
export interface DriftReport {
  dataset_drift: boolean;
  /** Drifted features / tested features (0 when none could be tested). */
  drifted_share: number;
  drift_share_threshold: number;
  number_of_features: number;
  number_of_tested: number;
  number_of_drifted: number;
  features: FeatureDrift[];
  prediction: FeatureDrift | null;
  /** Current columns the reference does not have (ignored). */
  extra_columns: string[];
}

function defaultStattest(type: ColumnType, referenceRows: number): StatTestName {
  if (referenceRows <= SMALL_REFERENCE_MAX_ROWS) {
    return type === 'numeric' ? 'ks' : type === 'categorical' ? 'chisquare' : 'z';
  }
  return type === 'numeric' ? 'wasserstein' : 'jensenshannon';
}

/** Distinct values in first-seen order, reference first (the order Evidently's keys take). */
function categories(
  reference: readonly (number | string)[],
  current: readonly (number | string)[],
): (number | string)[] {
  return [...new Set<number | string>([...reference, ...current])];
}

function countsOf(values: readonly (number | string)[], keys: readonly (number | string)[]): number[] {
  const counts = new Map<number | string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return keys.map((k) => counts.get(k) ?? 0);
}

function categoryShares(
  ref: readonly (number | string)[],
  cur: readonly (number | string)[],
): [number[], number[]] {
  const keys = categories(ref, cur);
  return [countsOf(ref, keys).map((c) => c / ref.length), countsOf(cur, keys).map((c) => c / cur.length)];
}

interface Measured {
  statistic: number | null;
  p_value: number | null;
}

function runTest(
  test: StatTestName,
  type: ColumnType,
  ref: (number | string)[],
  cur: (number | string)[],
  psiBins: number,
): Measured {
  const numeric = type === 'numeric';
  switch (test) {
    case 'ks': {
      const r = ks2samp(ref as number[], cur as number[]);
      return { statistic: r.statistic, p_value: r.p_value };
    }
    case 'chisquare': {
      const keys = categories(ref, cur);
      const scale = cur.length / ref.length;
      const r = chiSquareTest(
        countsOf(cur, keys),
        countsOf(ref, keys).map((c) => c * scale),
      );
      return { statistic: Number.isFinite(r.statistic) ? r.statistic : null, p_value: r.p_value };
    }
    case 'z': {
      const keys = categories(ref, cur);
      if (keys.length <= 1) return { statistic: 0, p_value: 1 };
      const key = keys[0];
      const hits = (values: (number | string)[]): number => values.filter((v) => v === key).length;
      const r = proportionZTest(hits(ref), ref.length, hits(cur), cur.length);
      return { statistic: r.statistic, p_value: r.p_value };
    }
    case 'wasserstein': {
      const norm = Math.max(standardDeviation(ref as number[]), WASSERSTEIN_MIN_STD);
      return { statistic: wassersteinDistance(ref as number[], cur as number[]) / norm, p_value: null };
    }
    case 'jensenshannon': {
      if (numeric && new Set(ref).size > JS_HISTOGRAM_MIN_UNIQUE) {
        const edges = sturgesEdges([...(ref as number[]), ...(cur as number[])]);
        const p = histogramCounts(ref as number[], edges).map((c) => c / ref.length);
        const q = histogramCounts(cur as number[], edges).map((c) => c / cur.length);
        return { statistic: jensenShannonDistance(p, q), p_value: null };
      }
      const [p, q] = categoryShares(ref, cur);
      return { statistic: jensenShannonDistance(p, q), p_value: null };
    }
    case 'psi':
      return { statistic: psiOf(type, ref, cur, psiBins), p_value: null };
  }
}

function psiOf(type: ColumnType, ref: (number | string)[], cur: (number | string)[], bins: number): number {
  if (type === 'numeric') return populationStabilityIndex(ref as number[], cur as number[], bins);
  const [p, q] = categoryShares(ref, cur);
  return psiOfShares(p, q);
}

function columnDrift(
  name: string,
  reference: readonly CellValue[],
  current: readonly CellValue[],
  options: DriftOptions,
): FeatureDrift {
  const valueType = valueTypeOf(reference);
  const ref = usableValues(reference, valueType);
  const cur = usableValues(current, valueType);
  const type = classifyColumn(ref, cur, valueType);
  const forced = options.stattests?.[name];
  const stattest = forced ?? defaultStattest(type, ref.length);
  const threshold = options.thresholds?.[name] ?? (P_VALUE_TESTS.has(stattest) ? 0.05 : 0.1);
  const base = {
    name,
    column_type: type,
    stattest,
    threshold,
    reference_rows: ref.length,
    current_rows: cur.length,
  };
  const skippedReason =
    ref.length === 0
      ? 'reference has no usable values'
      : cur.length === 0
        ? 'current has no usable values'
        : null;
  if (skippedReason !== null) {
    return {
      ...base,
      statistic: null,
      p_value: null,
      drifted: false,
      psi: null,
      psi_band: null,
      skipped_reason: skippedReason,
    };
  }
  if (NUMERIC_ONLY_TESTS.has(stattest) && valueType !== 'number') {
    throw errors.invalidArgument(
      `column '${name}' holds ${valueType} values; the ${stattest} test needs numbers`,
    );
  }
  const { statistic, p_value } = runTest(stattest, type, ref, cur, options.psiBins ?? 10);
  const drifted = p_value !== null ? p_value < threshold : statistic === null || statistic >= threshold;
  const psi = psiOf(type, ref, cur, options.psiBins ?? 10);
  return { ...base, statistic, p_value, drifted, psi, psi_band: psiBand(psi), skipped_reason: null };
}

function checkOptions(reference: Columns, options: DriftOptions): void {
  const { predictionColumn, driftShare, psiBins } = options;
  if (predictionColumn !== undefined && !Object.hasOwn(reference, predictionColumn)) {
    throw errors.invalidArgument(
      `the prediction column '${predictionColumn}' is not in the reference data set`,
    );
  }
  if (driftShare !== undefined && !(driftShare > 0 && driftShare <= 1)) {
    throw errors.invalidArgument(`driftShare must be in (0, 1], got ${driftShare}`);
  }
  if (psiBins !== undefined && !(Number.isInteger(psiBins) && psiBins >= 2)) {
    throw errors.invalidArgument(`psiBins must be an integer >= 2, got ${psiBins}`);
  }
  for (const [column, test] of Object.entries(options.stattests ?? {})) {
    if (!Object.hasOwn(reference, column))
      throw errors.invalidArgument(`stattests: no column '${column}' in the reference`);
    if (!STAT_TESTS.includes(test)) {
      throw errors.invalidArgument(
        `stattests: unknown test '${String(test)}' for '${column}' (known: ${STAT_TESTS.join(', ')})`,
      );
    }
  }
  for (const [column, threshold] of Object.entries(options.thresholds ?? {})) {
    if (!Object.hasOwn(reference, column))
      throw errors.invalidArgument(`thresholds: no column '${column}' in the reference`);
    if (!(Number.isFinite(threshold) && threshold > 0)) {
      throw errors.invalidArgument(`thresholds: '${column}' needs a positive number, got ${threshold}`);
    }
  }
}

/**
 * Drift of `current` against `reference`, column by column (every reference column must be in
 * `current`; extra current columns are listed and ignored).
 *
 * @example
 * const report = detectDrift({ age: [31, 45, 27, ...], city: ['Oslo', 'Rome', ...] },
 *                            { age: [...], city: [...] }, { predictionColumn: 'score' });
 * report.dataset_drift; report.features.filter((f) => f.drifted).map((f) => f.name);
 */
export function detectDrift(reference: Columns, current: Columns, options: DriftOptions = {}): DriftReport {
  requireReference(reference);
  rowCount(current, 'current');
  checkOptions(reference, options);
  const names = Object.keys(reference);
  const missing = names.filter((name) => !Object.hasOwn(current, name));
  if (missing.length > 0) {
    throw errors.invalidInput(
      `current data lacks column(s) ${missing.map((n) => `'${n}'`).join(', ')} of the reference`,
    );
  }
  const features: FeatureDrift[] = [];
  let prediction: FeatureDrift | null = null;
  for (const name of names) {
    const drift = columnDrift(name, reference[name] ?? [], current[name] ?? [], options);
    if (name === options.predictionColumn) prediction = drift;
    else features.push(drift);
  }
  const tested = features.filter((f) => f.skipped_reason === null).length;
  const drifted = features.filter((f) => f.drifted).length;
  const share = tested === 0 ? 0 : drifted / tested;
  const threshold = options.driftShare ?? 0.5;
  return {
    dataset_drift: tested > 0 && share >= threshold,
    drifted_share: share,
    drift_share_threshold: threshold,
    number_of_features: features.length,
    number_of_tested: tested,
    number_of_drifted: drifted,
    features,
    prediction,
    extra_columns: Object.keys(current).filter((name) => !Object.hasOwn(reference, name)),
  };
}
