/**
 * Reads training and update CSVs into TrainingTables: a header of column names, numeric feature
 * cells, and a target column that may hold class names (classification) or numbers (regression).
 * Every problem is reported with the file, the line and the column, before any training starts.
 */
import { TendError } from '../core/errors.js';
import { describeSchema, type TableSchema, type Task, type TrainingTable } from './training-table.js';

// Stricter than Number(): no hex, no "Infinity", no empty string turning into 0.
const DECIMAL_NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const MISSING_MARKERS = new Set(['nan', 'na', 'n/a', 'null', 'none', '?']);

interface RawCsv {
  header: string[];
  /** Cells of each data row, already unquoted. */
  cells: string[][];
  /** 1-based line number of each data row. */
  lines: number[];
}

function invalid(source: string, message: string): TendError {
  return new TendError('TEND_INVALID_ARGUMENT', `${source}: ${message}`);
}

/** Split one CSV line on commas outside double quotes; quotes are removed and "" becomes ". */
function splitCells(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"' && cell.trim() === '') {
      cell = '';
      quoted = true;
    } else if (ch === ',') {
      cells.push(cell.trim());
      cell = '';
    } else cell += ch;
  }
  cells.push(cell.trim());
  return cells;
}

function parseRaw(text: string, source: string): RawCsv {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lines = body.split(/\r?\n/);
  let end = lines.length;
  // Trailing blank lines are what editors leave behind; blank lines inside the data are an error.
  while (end > 0 && (lines[end - 1] ?? '').trim() === '') end--;
  if (end === 0) throw invalid(source, 'the CSV file is empty (expected a header line of column names, then data rows)');
  const header = splitCells(lines[0] ?? '');
  const seen = new Set<string>();
  header.forEach((name, c) => {
    if (name === '') throw invalid(source, `line 1, column ${c + 1}: the header has an empty column name`);
    if (seen.has(name)) throw invalid(source, `line 1, column ${c + 1}: column name '${name}' appears twice`);
    seen.add(name);
  });
  const cells: string[][] = [];
  const numbers: number[] = [];
  for (let i = 1; i < end; i++) {
    const line = lines[i] ?? '';
    if (line.trim() === '') throw invalid(source, `line ${i + 1} is blank (remove blank lines between data rows)`);
    const row = splitCells(line);
    if (row.length !== header.length) {
      throw invalid(source, `line ${i + 1}: expected ${header.length} cells like the header, found ${row.length}`);
    }
    cells.push(row);
    numbers.push(i + 1);
  }
  return { header, cells, lines: numbers };
}

function shown(cell: string): string {
  return `'${cell.length > 40 ? `${cell.slice(0, 40)}…` : cell}'`;
}

/** The number in a feature or regression-target cell, or a message-bearing error. */
function numberCell(cell: string, where: () => string): number {
  if (DECIMAL_NUMBER.test(cell)) return Number(cell);
  if (cell === '') throw new TendError('TEND_INVALID_ARGUMENT', `${where()}: the cell is empty (fill in or drop rows with missing values)`);
  if (MISSING_MARKERS.has(cell.toLowerCase())) {
    throw new TendError('TEND_INVALID_ARGUMENT', `${where()}: the cell is ${shown(cell)}, a missing value (fill in or drop those rows)`);
  }
  throw new TendError('TEND_INVALID_ARGUMENT', `${where()}: ${shown(cell)} is not a number`);
}

/** "1.0" and "1" name the same class when the labels are numbers. */
function canonicalClass(cell: string): string {
  return DECIMAL_NUMBER.test(cell) ? String(Number(cell)) : cell;
}

/** Class names in tend's order: numeric when every name is a number, else by string. */
export function sortClasses(names: Iterable<string>): string[] {
  const distinct = [...new Set(names)];
  if (distinct.every((c) => DECIMAL_NUMBER.test(c))) return distinct.sort((a, b) => Number(a) - Number(b));
  return distinct.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function build(raw: RawCsv, source: string, targetColumn: string, task: Task, classesGiven?: string[]): TrainingTable {
  const targetIndex = raw.header.indexOf(targetColumn);
  const featureColumns = raw.header.filter((_, c) => c !== targetIndex);
  const width = featureColumns.length;
  const rows = raw.cells.length;
  const features = new Float64Array(rows * width);
  const where = (r: number, c: number) => () => `${source}: line ${raw.lines[r]}, column ${c + 1} ('${raw.header[c]}')`;
  const targetCells: string[] = [];
  for (let r = 0; r < rows; r++) {
    const row = raw.cells[r] as string[];
    let k = r * width;
    for (let c = 0; c < row.length; c++) {
      const cell = row[c] as string;
      if (c === targetIndex) {
        if (cell === '') throw new TendError('TEND_INVALID_ARGUMENT', `${where(r, c)()}: the target cell is empty`);
        targetCells.push(cell);
      } else features[k++] = numberCell(cell, where(r, c));
    }
  }
  const table: TrainingTable = { featureColumns, features, rows, targetColumn, task };
  if (task === 'regression') {
    table.target = Float64Array.from(targetCells, (cell, r) => numberCell(cell, where(r, targetIndex)));
    return table;
  }
  const canonical = targetCells.map(canonicalClass);
  const classes = classesGiven ?? sortClasses(canonical);
  const indexOf = new Map(classes.map((name, i) => [name, i]));
  if (classesGiven !== undefined) for (let i = 0; i < classes.length; i++) indexOf.set(canonicalClass(classes[i] as string), i);
  table.classes = [...classes];
  table.labels = Int32Array.from(targetCells, (cell, r) => {
    const index = indexOf.get(cell) ?? indexOf.get(canonical[r] as string);
    if (index === undefined) {
      throw new TendError(
        'TEND_INVALID_ARGUMENT',
        `${where(r, targetIndex)()}: class ${shown(cell)} is not one of the model's classes (${classes.join(', ')})`,
      );
    }
    return index;
  });
  return table;
}

function checkTask(task: Task): void {
  if (task !== 'classification' && task !== 'regression') {
    throw new TendError('TEND_INVALID_ARGUMENT', `task must be 'classification' or 'regression', got '${String(task)}'`);
  }
}

/**
 * Parse a training CSV: a header, numeric feature columns and the target column `targetColumn`
 * (class names or numbers for classification, numbers for regression). `source` names the file in errors.
 * @throws TendError TEND_INVALID_ARGUMENT for an empty file, a missing target column, non-numeric,
 * NaN or empty cells (with line and column), ragged rows, fewer than 2 rows or a single class.
 */
export function readTrainingCsv(text: string, source: string, targetColumn: string, task: Task): TrainingTable {
  checkTask(task);
  const raw = parseRaw(text, source);
  if (!raw.header.includes(targetColumn)) {
    throw invalid(source, `the target column '${targetColumn}' is not in the header (columns: ${raw.header.join(', ')})`);
  }
  if (raw.header.length < 2) throw invalid(source, `the CSV has no feature columns besides the target '${targetColumn}'`);
  if (raw.cells.length < 2) throw invalid(source, `training needs at least 2 data rows, found ${raw.cells.length}`);
  const table = build(raw, source, targetColumn, task);
  if (task === 'classification' && (table.classes?.length ?? 0) < 2) {
    throw invalid(source, `the target column '${targetColumn}' holds a single class (${table.classes?.[0] ?? ''}); a classifier needs at least two`);
  }
  return table;
}

/**
 * Parse an update CSV for an existing model: its columns must be exactly the model's feature columns
 * in order plus the target, and every class must be one of the model's.
 * @throws TendError TEND_INVALID_ARGUMENT naming expected and found columns, or the bad line and cell.
 */
export function readUpdateCsv(text: string, source: string, expected: TableSchema): TrainingTable {
  checkTask(expected.task);
  const raw = parseRaw(text, source);
  const features = raw.header.filter((name) => name !== expected.targetColumn);
  const matches =
    raw.header.includes(expected.targetColumn) &&
    features.length === expected.featureColumns.length &&
    features.every((name, i) => name === expected.featureColumns[i]);
  if (!matches) {
    const missing = [...expected.featureColumns, expected.targetColumn].filter((c) => !raw.header.includes(c));
    const extra = raw.header.filter((c) => c !== expected.targetColumn && !expected.featureColumns.includes(c));
    const detail = [missing.length > 0 ? `missing: ${missing.join(', ')}` : '', extra.length > 0 ? `unexpected: ${extra.join(', ')}` : '']
      .filter((s) => s !== '')
      .join('; ');
    throw invalid(
      source,
      `the columns do not match the model's: expected ${[...expected.featureColumns, expected.targetColumn].join(', ')}; ` +
        `got ${raw.header.join(', ')}${detail === '' ? ' (same columns, different order)' : ` (${detail})`}`,
    );
  }
  if (raw.cells.length < 1) throw invalid(source, 'the CSV file has a header but no data rows');
  if (expected.task === 'classification' && (expected.classes === undefined || expected.classes.length < 2)) {
    throw new TendError('TEND_INVALID_ARGUMENT', `a classification update needs the model's classes (${describeSchema(expected)})`);
  }
  const table = build(raw, source, expected.targetColumn, expected.task, expected.classes);
  // Keep the model's feature order even when the update file puts the target elsewhere.
  table.featureColumns = [...expected.featureColumns];
  return table;
}

function csvCell(value: string): string {
  return /[",\n\r]/.test(value) || value !== value.trim() ? `"${value.replaceAll('"', '""')}"` : value;
}

/** The table as CSV text (features in order, target last) that readTrainingCsv / readUpdateCsv read back exactly. */
export function formatTrainingCsv(table: TrainingTable): string {
  const width = table.featureColumns.length;
  const lines = [[...table.featureColumns, table.targetColumn].map(csvCell).join(',')];
  for (let r = 0; r < table.rows; r++) {
    const cells: string[] = [];
    for (let c = 0; c < width; c++) cells.push(String(table.features[r * width + c]));
    if (table.task === 'classification') cells.push(csvCell(table.classes?.[table.labels?.[r] ?? -1] ?? ''));
    else cells.push(String(table.target?.[r]));
    lines.push(cells.join(','));
  }
  return `${lines.join('\n')}\n`;
}
