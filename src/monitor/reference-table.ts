/**
 * A monitoring reference data set read from CSV (through the one CSV reader, core/csv): a header of
 * column names, then rows whose cells are numbers, strings or missing (empty, NA, NaN, null, none,
 * n/a, in any case). Unlike the trainers' numeric CSV it keeps categorical columns and missing values
 * — drift and data quality count them rather than refuse. A quoted cell is always a string.
 */
import { readCsv, valueCell } from '../core/csv.js';
import { errors } from '../core/errors.js';
import type { CellValue, Columns } from './drift-columns.js';

export interface ReferenceTable {
  columns: string[];
  rows: number;
  values: Columns;
  /** Per row, the 1-based line of the file it starts on (for messages about a cell). */
  lines: number[];
}

/** Parse reference CSV text. @throws TendError TEND_INVALID_ARGUMENT naming the line and the problem */
export function parseReferenceCsv(text: string, source: string): ReferenceTable {
  const table = readCsv(text, source);
  const rows = table.rows.length;
  if (rows === 0) throw errors.invalidArgument(`${source}: the CSV file has a header but no data rows`);
  const values = table.columns.map((name, c): [string, CellValue[]] => [
    name,
    table.rows.map((_, r) => valueCell(table, r, c)),
  ]);
  return {
    columns: table.columns,
    rows,
    values: Object.fromEntries(values),
    lines: table.rows.map((row) => row.line),
  };
}
