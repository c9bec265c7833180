/**
 * A monitoring reference data set read from CSV: a header of column names, then rows whose cells
 * are numbers, strings or missing (empty, NA, NaN, null). Unlike the trainers' numeric CSV it keeps
 * categorical columns and missing values — drift and data quality count them rather than refuse.
 * Quoted cells may hold commas and doubled quotes; rows must have as many cells as the header.
 */
import { TendError } from '../core/errors.js';
import type { CellValue, Columns } from './drift-columns.js';

const DECIMAL_NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const MISSING = new Set(['', 'na', 'nan', 'null', 'none', 'n/a']);

export interface ReferenceTable {
  columns: string[];
  rows: number;
  values: Columns;
}

function invalid(source: string, message: string): TendError {
  return new TendError('TEND_INVALID_ARGUMENT', `${source}: ${message}`);
}

/** Split one CSV line into cells, honouring double quotes. */
export function splitCsvLine(line: string): { cells: string[]; quoted: boolean[] } | null {
  const cells: string[] = [];
  const quoted: boolean[] = [];
  let cell = '';
  let inQuotes = false;
  let wasQuoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (inQuotes) {
      if (ch === '"') {
        if (line[i + 1] === '"') {
          cell += '"';
          i++;
        } else inQuotes = false;
      } else cell += ch;
    } else if (ch === '"' && cell.trim() === '') {
      inQuotes = true;
      wasQuoted = true;
      cell = '';
    } else if (ch === ',') {
      cells.push(wasQuoted ? cell : cell.trim());
      quoted.push(wasQuoted);
      cell = '';
      wasQuoted = false;
    } else cell += ch;
  }
  if (inQuotes) return null;
  cells.push(wasQuoted ? cell : cell.trim());
  quoted.push(wasQuoted);
  return { cells, quoted };
}

function cellValue(text: string, quoted: boolean): CellValue {
  if (!quoted && MISSING.has(text.toLowerCase())) return null;
  if (!quoted && DECIMAL_NUMBER.test(text)) return Number(text);
  return text;
}

/** Parse reference CSV text. @throws TendError TEND_INVALID_ARGUMENT naming the line and the problem */
export function parseReferenceCsv(text: string, source: string): ReferenceTable {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lines = body.split(/\r?\n/);
  let end = lines.length;
  while (end > 0 && (lines[end - 1] ?? '').trim() === '') end--;
  if (end === 0) throw invalid(source, 'the CSV file is empty (expected a header line of column names)');
  const header = splitCsvLine(lines[0] ?? '');
  if (header === null) throw invalid(source, 'line 1: a quote is not closed');
  const columns = header.cells;
  const seen = new Set<string>();
  columns.forEach((name, c) => {
    if (name === '') throw invalid(source, `line 1, column ${c + 1}: the header has an empty column name`);
    if (seen.has(name)) throw invalid(source, `line 1, column ${c + 1}: column name '${name}' appears twice`);
    seen.add(name);
  });
  const values: CellValue[][] = columns.map(() => []);
  let rows = 0;
  for (let l = 1; l < end; l++) {
    const line = lines[l] ?? '';
    if (line.trim() === '') throw invalid(source, `line ${l + 1}: blank line inside the data`);
    const split = splitCsvLine(line);
    if (split === null) throw invalid(source, `line ${l + 1}: a quote is not closed`);
    if (split.cells.length !== columns.length) {
      throw invalid(source, `line ${l + 1}: expected ${columns.length} cells like the header, found ${split.cells.length}`);
    }
    split.cells.forEach((cell, c) => values[c]?.push(cellValue(cell, split.quoted[c] ?? false)));
    rows++;
  }
  if (rows === 0) throw invalid(source, 'the CSV file has a header but no data rows');
  return { columns, rows, values: Object.fromEntries(columns.map((name, c) => [name, values[c] ?? []])) };
}
