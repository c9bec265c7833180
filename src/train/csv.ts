/**
 * Reads numeric CSV tables (a header line of column names, then rows of numbers), the input format
 * of every trainer. Anything that is not a plain decimal number is rejected with the line and the
 * column named, so a bad data file fails before training starts rather than producing NaN weights.
 */
import { readFileSync } from 'node:fs';
import { TendError } from '../core/errors.js';

export interface NumericTable {
  columns: string[];
  rows: number;
  /** row-major */
  values: Float64Array;
}

// Stricter than Number(): no hex, no "Infinity", no empty string turning into 0.
const DECIMAL_NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function unquote(cell: string): string {
  const trimmed = cell.trim();
  if (trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"')) {
    return trimmed.slice(1, -1).replaceAll('""', '"').trim();
  }
  return trimmed;
}

function invalid(source: string, message: string): TendError {
  return new TendError('TEND_INVALID_ARGUMENT', `${source}: ${message}`);
}

/** Parse CSV text whose first line names the columns and whose other lines hold numbers only. */
export function parseNumericCsv(text: string, source: string): NumericTable {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lines = body.split(/\r?\n/);
  // Trailing blank lines are what editors leave behind; blank lines inside the data are an error.
  let end = lines.length;
  while (end > 0 && (lines[end - 1] ?? '').trim() === '') end--;
  if (end === 0) throw invalid(source, 'the CSV file is empty (expected a header line of column names)');

  const columns = (lines[0] ?? '').split(',').map(unquote);
  const seen = new Set<string>();
  columns.forEach((name, c) => {
    if (name === '') throw invalid(source, `line 1, column ${c + 1}: the header has an empty column name`);
    if (seen.has(name)) throw invalid(source, `line 1, column ${c + 1}: column name '${name}' appears twice`);
    seen.add(name);
  });
  const rows = end - 1;
  if (rows === 0) throw invalid(source, 'the CSV file has a header but no data rows');

  const width = columns.length;
  const values = new Float64Array(rows * width);
  for (let r = 0; r < rows; r++) {
    const lineNumber = r + 2;
    const cells = (lines[r + 1] ?? '').split(',');
    if (cells.length !== width) {
      throw invalid(source, `line ${lineNumber}: expected ${width} cells like the header, found ${cells.length}`);
    }
    for (let c = 0; c < width; c++) {
      const cell = unquote(cells[c] ?? '');
      if (!DECIMAL_NUMBER.test(cell)) {
        const what = cell === '' ? 'is empty' : `'${cell.length > 40 ? `${cell.slice(0, 40)}…` : cell}' is not a number`;
        throw invalid(source, `line ${lineNumber}, column ${c + 1} ('${columns[c] ?? ''}'): the cell ${what}`);
      }
      values[r * width + c] = Number(cell);
    }
  }
  return { columns, rows, values };
}

/** Read and parse a numeric CSV file; a missing file is TEND_NOT_FOUND. */
export function readNumericCsv(path: string): NumericTable {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new TendError('TEND_NOT_FOUND', `CSV file '${path}' does not exist`, { cause: err });
    throw new TendError('TEND_INVALID_ARGUMENT', `cannot read CSV file '${path}': ${(err as Error).message}`, {
      cause: err,
    });
  }
  return parseNumericCsv(text, path);
}
