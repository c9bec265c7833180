/**
 * Column-oriented tables as drift detection and data quality read them: what counts as missing,
 * what type a column has, and how a column is classified for choosing its drift test.
 */
import { errors } from '../core/errors.js';

/** One cell: a number, a string, or missing (null; NaN and +-Infinity count as missing too). */
export type CellValue = number | string | null;

/** A table as columns of equal length, keyed by column (feature) name. */
export type Columns = Readonly<Record<string, readonly CellValue[]>>;

/** The type of a column's values, read from the reference: all numbers, all strings, or both. */
export type ValueType = 'number' | 'string' | 'mixed';

/**
 * How drift sees a column, as Evidently decides it from the distinct values of reference and
 * current together: at most 2 → binary; numbers with more than 5 → numeric; otherwise categorical.
 */
export type ColumnType = 'numeric' | 'categorical' | 'binary';

/** True for null, undefined, NaN and +-Infinity (Evidently drops all of them before testing). */
export function isMissing(value: unknown): boolean {
  return value === null || value === undefined || (typeof value === 'number' && !Number.isFinite(value));
}

/** The type of the present values, or null when there are none (or some are neither number nor string). */
export function valueTypeOf(values: readonly unknown[]): ValueType | null {
  let numbers = false;
  let strings = false;
  for (const v of values) {
    if (isMissing(v)) continue;
    if (typeof v === 'number') numbers = true;
    else if (typeof v === 'string') strings = true;
  }
  if (numbers && strings) return 'mixed';
  if (numbers) return 'number';
  return strings ? 'string' : null;
}

/** True when a present value does not fit the reference's value type (or is no number or string at all). */
export function isTypeError(value: unknown, type: ValueType | null): boolean {
  if (typeof value !== 'number' && typeof value !== 'string') return true;
  if (type === null || type === 'mixed') return false;
  return type === 'number' ? typeof value !== 'number' : typeof value !== 'string';
}

/** The values that drift tests use: present and of the reference's type. */
export function usableValues(values: readonly unknown[], type: ValueType | null): (number | string)[] {
  const out: (number | string)[] = [];
  for (const v of values) {
    if (!isMissing(v) && !isTypeError(v, type)) out.push(v as number | string);
  }
  return out;
}

/** Evidently's classification from the values both samples use. */
export function classifyColumn(
  reference: readonly (number | string)[],
  current: readonly (number | string)[],
  type: ValueType | null,
): ColumnType {
  const distinct = new Set<number | string>(reference);
  for (const v of current) distinct.add(v);
  if (distinct.size <= 2) return 'binary';
  return type === 'number' && distinct.size > 5 ? 'numeric' : 'categorical';
}

/** The row count of a table; throws when its columns are not arrays of one length. */
export function rowCount(table: Columns, what: string): number {
  if (table === null || typeof table !== 'object' || Array.isArray(table)) {
    throw errors.invalidInput(`${what} must be an object of columns (name → array of values)`);
  }
  let rows: number | null = null;
  for (const [name, values] of Object.entries(table)) {
    if (!Array.isArray(values)) throw errors.invalidInput(`${what}: column '${name}' is not an array`);
    if (rows === null) rows = values.length;
    else if (values.length !== rows) {
      throw errors.invalidInput(`${what}: column '${name}' has ${values.length} values, the others ${rows}`);
    }
  }
  return rows ?? 0;
}

/** Checks the reference table: at least one column and one row. */
export function requireReference(reference: Columns): number {
  const rows = rowCount(reference, 'reference');
  if (Object.keys(reference).length === 0 || rows === 0) {
    throw errors.invalidArgument(
      'the reference data set is empty — attach one with at least one column and one row',
    );
  }
  return rows;
}
