/**
 * Data quality of a current window against the reference data set, per feature: missing values,
 * values of the wrong type, numbers outside the reference's range and categories the reference
 * never had. Meant to be shown beside the drift report of the same window; it never throws on
 * what a window contains, only on a malformed table or an empty reference.
 */
import { isMissing, isTypeError, requireReference, rowCount, valueTypeOf } from './drift-columns.js';
import type { CellValue, ColumnType, Columns, ValueType } from './drift-columns.js';

/** At most this many distinct unseen categories are listed per feature (all are counted). */
export const UNSEEN_LISTED_MAX = 20;
/** Reference columns of numbers with more distinct values than this are numeric, the rest categorical. */
const NUMERIC_MIN_DISTINCT = 6;

/** The quality of one column of the current window. */
export interface FeatureQuality {
  name: string;
  /** The reference's value type; null when the reference column has no values. */
  value_type: ValueType | null;
  /** From the reference alone: at most 2 distinct values binary; numbers with more than 5 numeric; else categorical. */
  column_type: ColumnType;
  rows: number;
  missing: number;
  missing_share: number;
  /**
   * Present values of another type than the reference's (a string in a numeric column), or neither number nor
   * string.
   */
  type_errors: number;
  type_error_share: number;
  /** Numbers below the reference's minimum or above its maximum. */
  out_of_range: number;
  out_of_range_share: number;
  reference_min: number | null;
  reference_max: number | null;
  /** Rows of a categorical column whose category the reference never had. */
  unseen: number;
  unseen_share: number;
  /** The first distinct unseen categories (at most UNSEEN_LISTED_MAX). */
  unseen_categories: (number | string)[];
  /** True when the current window has no such column (every row counted missing). */
  column_missing: boolean;
}

/** The data quality of one window. */
export interface DataQualityReport {
  rows: number;
  reference_rows: number;
  features: FeatureQuality[];
  /** Reference columns the current window lacks. */
  missing_columns: string[];
  /** Current columns the reference does not have. */
  extra_columns: string[];
}

/** What quality checks need to know about a reference column. */
interface ReferenceProfile {
  valueType: ValueType | null;
  columnType: ColumnType;
  min: number | null;
  max: number | null;
  categories: Set<number | string>;
}

function profile(values: readonly CellValue[]): ReferenceProfile {
  const valueType = valueTypeOf(values);
  let min = Infinity;
  let max = -Infinity;
  const categories = new Set<number | string>();
  for (const v of values) {
    if (isMissing(v) || isTypeError(v, valueType)) continue;
    const value = v as number | string;
    categories.add(value);
    if (typeof value === 'number') {
      if (value < min) min = value;
      if (value > max) max = value;
    }
  }
  const columnType: ColumnType =
    categories.size === 0
      ? 'categorical'
      : categories.size <= 2
        ? 'binary'
        : valueType === 'number' && categories.size >= NUMERIC_MIN_DISTINCT
          ? 'numeric'
          : 'categorical';
  return { valueType, columnType, min: min <= max ? min : null, max: min <= max ? max : null, categories };
}

const share = (count: number, rows: number): number => (rows === 0 ? 0 : count / rows);

function columnQuality(
  name: string,
  ref: ReferenceProfile,
  values: readonly CellValue[] | undefined,
  rows: number,
): FeatureQuality {
  let missing = 0;
  let typeErrors = 0;
  let outOfRange = 0;
  let unseen = 0;
  const unseenCategories = new Set<number | string>();
  const categorical = ref.columnType !== 'numeric' && ref.valueType !== null;
  for (const v of values ?? []) {
    if (isMissing(v)) {
      missing++;
      continue;
    }
    if (isTypeError(v, ref.valueType)) {
      typeErrors++;
      continue;
    }
    if (typeof v === 'number' && ref.min !== null && ref.max !== null && (v < ref.min || v > ref.max))
      outOfRange++;
    if (categorical && !ref.categories.has(v as number | string)) {
      unseen++;
      if (unseenCategories.size < UNSEEN_LISTED_MAX) unseenCategories.add(v as number | string);
    }
  }
  if (values === undefined) missing = rows;
  return {
    name,
    value_type: ref.valueType,
    column_type: ref.columnType,
    rows,
    missing,
    missing_share: share(missing, rows),
    type_errors: typeErrors,
    type_error_share: share(typeErrors, rows),
    out_of_range: outOfRange,
    out_of_range_share: share(outOfRange, rows),
    reference_min: ref.min,
    reference_max: ref.max,
    unseen,
    unseen_share: share(unseen, rows),
    unseen_categories: [...unseenCategories],
    column_missing: values === undefined,
  };
}

/**
 * Per-feature data quality of `current` against `reference`. A reference column the window lacks
 * is reported with every row missing (and listed in `missing_columns`), not thrown.
 *
 * @example
 * const q = dataQuality(version.reference, window);
 * q.features.filter((f) => f.missing_share > 0.1 || f.type_errors > 0);
 */
export function dataQuality(reference: Columns, current: Columns): DataQualityReport {
  const referenceRows = requireReference(reference);
  const rows = rowCount(current, 'current');
  const features: FeatureQuality[] = [];
  const missingColumns: string[] = [];
  for (const [name, values] of Object.entries(reference)) {
    const currentValues = Object.hasOwn(current, name) ? current[name] : undefined;
    if (currentValues === undefined) missingColumns.push(name);
    features.push(columnQuality(name, profile(values), currentValues, rows));
  }
  return {
    rows,
    reference_rows: referenceRows,
    features,
    missing_columns: missingColumns,
    extra_columns: Object.keys(current).filter((name) => !Object.hasOwn(reference, name)),
  };
}
