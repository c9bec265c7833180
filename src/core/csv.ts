/**
 * The one CSV reader of tend: every command and data set (training, update, reference, current,
 * evaluation, feedback, inference rows) reads its CSV here. csv-parse does the splitting (RFC 4180:
 * quoted cells with commas, doubled quotes and line breaks; BOM; CRLF); this module adds tend's
 * checks on top — a header of distinct non-empty names, rows as wide as the header, no blank line
 * inside the data, strict numbers — and reports every problem with the source, the line and the column.
 * What a cell means (a number, a string, a missing value) is the caller's choice through the cell
 * functions below, because the uses differ: a trainer refuses a missing value, a drift reference counts it.
 */
import { CsvError, parse } from 'csv-parse/sync';
import { type TendError, errors } from './errors.js';

/** One data row: its cells (quotes removed, unquoted cells trimmed) and where it starts in the file. */
export interface CsvRow {
  /** 1-based line of the file on which the row starts (a quoted line break makes a row span lines). */
  line: number;
  cells: string[];
  /** Per cell, whether it was written in quotes (a quoted "NA" or "1" is text to some readers). */
  quoted: boolean[];
}

/** A parsed CSV: the header's column names and the data rows, each as wide as the header. */
export interface CsvTable {
  /** Names the file in error messages. */
  source: string;
  columns: string[];
  rows: CsvRow[];
}

/** The words (any case) that mean "no value" in an unquoted cell, besides the empty cell. */
export const MISSING_WORDS: readonly string[] = ['na', 'nan', 'n/a', 'null', 'none'];

// Stricter than Number(): no hex, no "Infinity", no empty string turning into 0.
const DECIMAL_NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

interface ParsedCell {
  text: string;
  quoted: boolean;
}

function invalid(source: string, message: string): TendError {
  return errors.invalidArgument(`${source}: ${message}`);
}

function isBlank(record: readonly ParsedCell[]): boolean {
  return record.length === 1 && record[0]?.text === '' && record[0].quoted === false;
}

/** Counts the lines of a buffer up to a byte offset, moving forward only (csv-parse reports offsets in bytes). */
function lineCounter(bytes: Uint8Array): (offset: number) => number {
  let countedTo = 0;
  let line = 1;
  return (offset) => {
    for (; countedTo < offset && countedTo < bytes.length; countedTo++) if (bytes[countedTo] === 0x0a) line++;
    return line;
  };
}

/** csv-parse's records with the line each starts on; its errors become TendErrors naming the line. */
function parseRecords(text: string, source: string): { cells: ParsedCell[]; line: number }[] {
  const bytes = Buffer.from(text, 'utf8');
  const lineAt = lineCounter(bytes);
  const starts: number[] = [];
  let recordStart = 0;
  let records: ParsedCell[][];
  try {
    records = parse(bytes, {
      bom: true,
      trim: true,
      relax_quotes: true,
      relax_column_count: true,
      skip_empty_lines: false,
      // Lines end with LF or CRLF, as in every reader before this one; a lone CR is not a line break.
      record_delimiter: ['\r\n', '\n'],
      cast: (value, context): ParsedCell => ({ text: value, quoted: context.quoting }),
      on_record: (record, context) => {
        starts.push(lineAt(recordStart));
        recordStart = context.bytes;
        return record;
      },
    }) as unknown as ParsedCell[][]; // cast makes every cell a ParsedCell; csv-parse's types assume strings
  } catch (err) {
    if (!(err instanceof CsvError)) throw err;
    const line = lineAt(recordStart);
    if (err.code === 'CSV_QUOTE_NOT_CLOSED') throw invalid(source, `line ${line}: a quote is not closed`);
    if (
      err.code === 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE' ||
      err.code === 'CSV_INVALID_CLOSING_QUOTE'
    ) {
      throw invalid(
        source,
        `line ${line}: text follows a closing quote (quote the whole cell, and write a quote inside it as "")`,
      );
    }
    throw invalid(source, `line ${line}: ${err.message}`);
  }
  return records.map((cells, i) => ({ cells, line: starts[i] ?? 0 }));
}

/**
 * Parse CSV text whose first line names the columns.
 * @throws TendError TEND_INVALID_ARGUMENT for an empty file, an empty or repeated column name, a blank
 * line between rows, a row wider or narrower than the header, or an unclosed quote — naming the line.
 * @example readCsv('a,b\n1,"x, y"\n', 'data.csv').rows[0].cells // ['1', 'x, y']
 */
export function readCsv(text: string, source: string): CsvTable {
  const records = parseRecords(text, source);
  // Trailing blank lines are what editors leave behind; blank lines inside the data are an error.
  let end = records.length;
  while (end > 0 && isBlank(records[end - 1]?.cells ?? [])) end--;
  if (end === 0)
    throw invalid(source, 'the CSV file is empty (expected a header line of column names, then data rows)');

  const columns = (records[0]?.cells ?? []).map((cell) => cell.text);
  const seen = new Set<string>();
  columns.forEach((name, c) => {
    if (name === '') throw invalid(source, `line 1, column ${c + 1}: the header has an empty column name`);
    if (seen.has(name)) throw invalid(source, `line 1, column ${c + 1}: column name '${name}' appears twice`);
    seen.add(name);
  });

  const rows: CsvRow[] = [];
  for (let r = 1; r < end; r++) {
    const { cells, line } = records[r] ?? { cells: [], line: 0 };
    if (isBlank(cells))
      throw invalid(
        source,
        `line ${line}: blank line inside the data (remove blank lines between data rows)`,
      );
    if (cells.length !== columns.length) {
      throw invalid(
        source,
        `line ${line}: expected ${columns.length} cells like the header, found ${cells.length}`,
      );
    }
    rows.push({ line, cells: cells.map((cell) => cell.text), quoted: cells.map((cell) => cell.quoted) });
  }
  return { source, columns, rows };
}

/**
 * The number a plain decimal (`-4.5`, `1e3`, `.25`) stands for, or null for anything else ('', 'NaN', '0x10',
 * 'Infinity').
 */
export function decimalNumber(text: string): number | null {
  return DECIMAL_NUMBER.test(text) ? Number(text) : null;
}

/** Whether the text is a missing-value marker: empty, or one of `words` in any case. */
export function isMissing(text: string, words: readonly string[] = MISSING_WORDS): boolean {
  return text === '' || words.includes(text.toLowerCase());
}

/** `source: line 3, column 2 ('b')` — where a cell is, for messages. */
export function cellPlace(table: CsvTable, row: number, column: number): string {
  return `${table.source}: line ${table.rows[row]?.line ?? '?'}, column ${column + 1} ('${table.columns[column] ?? ''}')`;
}

/** A cell's text for a message: quoted, at most 40 characters. */
export function shownCell(text: string): string {
  return `'${text.length > 40 ? `${text.slice(0, 40)}…` : text}'`;
}

export interface NumberCellOptions {
  /** Words that mean a missing value here; a missing cell is refused, with a message saying it is missing. */
  missing?: readonly string[];
}

/**
 * The number in a cell that must hold one (quoted or not).
 * @throws TendError TEND_INVALID_ARGUMENT naming the line and column: the cell is empty, a missing value or
 * not a number.
 */
export function numberCell(
  table: CsvTable,
  row: number,
  column: number,
  options: NumberCellOptions = {},
): number {
  const text = table.rows[row]?.cells[column] ?? '';
  const value = decimalNumber(text.trim());
  if (value !== null) return value;
  const place = cellPlace(table, row, column);
  if (text === '')
    throw errors.invalidArgument(`${place}: the cell is empty (fill in or drop rows with missing values)`);
  if (isMissing(text, options.missing)) {
    throw errors.invalidArgument(
      `${place}: the cell is ${shownCell(text)}, a missing value (fill in or drop those rows)`,
    );
  }
  throw errors.invalidArgument(`${place}: the cell ${shownCell(text)} is not a number`);
}

/** A cell of a mixed column: a number, a string, or null for a missing value. */
export type CsvValue = number | string | null;

export interface ValueCellOptions {
  /** Words that mean a missing value (default MISSING_WORDS); the empty cell always does. */
  missing?: readonly string[];
  /** A quoted cell is always text — "NA" and "1" in quotes are strings (default true). */
  quotedIsText?: boolean;
}

/** A cell read as a number when it is a plain decimal, null when missing, else its text. */
export function valueCell(
  table: CsvTable,
  row: number,
  column: number,
  options: ValueCellOptions = {},
): CsvValue {
  const r = table.rows[row];
  const text = r?.cells[column] ?? '';
  if ((options.quotedIsText ?? true) && r?.quoted[column] === true) return text;
  if (isMissing(text, options.missing)) return null;
  return decimalNumber(text) ?? text;
}

/**
 * A cell for writing CSV that readCsv reads back as the same text: quoted (RFC 4180) when it holds a
 * comma, a quote or a line break, or starts or ends with white space (which an unquoted cell loses).
 * @example csvField('say "hi"') // '"say ""hi"""'
 */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replaceAll('"', '""')}"` : text;
}
