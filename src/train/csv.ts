/**
 * Reads numeric CSV tables (a header line of column names, then rows of numbers), the input format
 * of every trainer, through the one CSV reader (core/csv). Anything that is not a plain decimal
 * number is rejected with the line and the column named, so a bad data file fails before training
 * starts rather than producing NaN weights.
 */
import { readFileSync } from 'node:fs';
import { numberCell, readCsv } from '../core/csv.js';
import { errors } from '../core/errors.js';
import { TRAINING_MISSING_WORDS } from './training-csv.js';

export interface NumericTable {
  columns: string[];
  rows: number;
  /** row-major */
  values: Float64Array;
}

/** Parse CSV text whose first line names the columns and whose other lines hold numbers only. */
export function parseNumericCsv(text: string, source: string): NumericTable {
  const table = readCsv(text, source);
  const rows = table.rows.length;
  if (rows === 0) throw errors.invalidArgument(`${source}: the CSV file has a header but no data rows`);
  const width = table.columns.length;
  const values = new Float64Array(rows * width);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < width; c++)
      values[r * width + c] = numberCell(table, r, c, { missing: TRAINING_MISSING_WORDS });
  }
  return { columns: table.columns, rows, values };
}

/** Read and parse a numeric CSV file; a missing file is TEND_NOT_FOUND. */
export function readNumericCsv(path: string): NumericTable {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw errors.notFound(`CSV file '${path}' does not exist`, { cause: err });
    throw errors.invalidArgument(`cannot read CSV file '${path}': ${(err as Error).message}`, {
      cause: err,
    });
  }
  return parseNumericCsv(text, path);
}
