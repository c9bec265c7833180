/**
 * Reads training and update CSVs into TrainingTables: a header of column names, numeric feature
 * cells, and a target column that may hold class names (classification) or numbers (regression).
 * Every problem is reported with the file, the line and the column, before any training starts.
 */
import {
  cellPlace,
  csvField,
  decimalNumber,
  MISSING_WORDS,
  numberCell,
  readCsv,
  shownCell,
  type CsvTable,
} from '../core/csv.js';
import { type TendError, errors } from '../core/errors.js';
import { describeSchema, type TableSchema, type Task, type TrainingTable } from './training-table.js';

/** Missing-value markers a trainer names as such when it refuses them ('?' is the UCI data sets' marker). */
export const TRAINING_MISSING_WORDS: readonly string[] = [...MISSING_WORDS, '?'];

function invalid(source: string, message: string): TendError {
  return errors.invalidArgument(`${source}: ${message}`);
}

/** "1.0" and "1" name the same class when the labels are numbers. */
function canonicalClass(cell: string): string {
  const value = decimalNumber(cell);
  return value === null ? cell : String(value);
}

/** Class names in tend's order: numeric when every name is a number, else by string. */
export function sortClasses(names: Iterable<string>): string[] {
  const distinct = [...new Set(names)];
  if (distinct.every((c) => decimalNumber(c) !== null)) return distinct.sort((a, b) => Number(a) - Number(b));
  return distinct.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function build(raw: CsvTable, targetColumn: string, task: Task, classesGiven?: string[]): TrainingTable {
  const targetIndex = raw.columns.indexOf(targetColumn);
  const featureColumns = raw.columns.filter((_, c) => c !== targetIndex);
  const width = featureColumns.length;
  const rows = raw.rows.length;
  const features = new Float64Array(rows * width);
  const missing = { missing: TRAINING_MISSING_WORDS };
  const targetCells: string[] = [];
  for (let r = 0; r < rows; r++) {
    const row = raw.rows[r]?.cells ?? [];
    let k = r * width;
    for (let c = 0; c < row.length; c++) {
      if (c === targetIndex) {
        const cell = row[c] ?? '';
        if (cell === '') throw errors.invalidArgument(`${cellPlace(raw, r, c)}: the target cell is empty`);
        targetCells.push(cell);
      } else features[k++] = numberCell(raw, r, c, missing);
    }
  }
  const table: TrainingTable = { featureColumns, features, rows, targetColumn, task };
  if (task === 'regression') {
    table.target = Float64Array.from(targetCells, (_, r) => numberCell(raw, r, targetIndex, missing));
    return table;
  }
  const canonical = targetCells.map(canonicalClass);
  const classes = classesGiven ?? sortClasses(canonical);
  const indexOf = new Map(classes.map((name, i) => [name, i]));
  if (classesGiven !== undefined)
    for (let i = 0; i < classes.length; i++) indexOf.set(canonicalClass(classes[i] as string), i);
  table.classes = [...classes];
  table.labels = Int32Array.from(targetCells, (cell, r) => {
    const index = indexOf.get(cell) ?? indexOf.get(canonical[r] as string);
    if (index === undefined) {
      throw errors.invalidArgument(
        `${cellPlace(raw, r, targetIndex)}: class ${shownCell(cell)} is not one of the model's classes (${classes.join(', ')})`,
      );
    }
    return index;
  });
  return table;
}

function checkTask(task: Task): void {
  if (task !== 'classification' && task !== 'regression') {
    throw errors.invalidArgument(`task must be 'classification' or 'regression', got '${String(task)}'`);
  }
}

/**
 * Parse a training CSV: a header, numeric feature columns and the target column `targetColumn`
 * (class names or numbers for classification, numbers for regression). `source` names the file in errors.
 * @throws TendError TEND_INVALID_ARGUMENT for an empty file, a missing target column, non-numeric,
 * NaN or empty cells (with line and column), ragged rows, fewer than 2 rows or a single class.
 */
export function readTrainingCsv(
  text: string,
  source: string,
  targetColumn: string,
  task: Task,
): TrainingTable {
  checkTask(task);
  const raw = readCsv(text, source);
  if (!raw.columns.includes(targetColumn)) {
    throw invalid(
      source,
      `the target column '${targetColumn}' is not in the header (columns: ${raw.columns.join(', ')})`,
    );
  }
  if (raw.columns.length < 2)
    throw invalid(source, `the CSV has no feature columns besides the target '${targetColumn}'`);
  if (raw.rows.length < 2)
    throw invalid(source, `training needs at least 2 data rows, found ${raw.rows.length}`);
  const table = build(raw, targetColumn, task);
  if (task === 'classification' && (table.classes?.length ?? 0) < 2) {
    throw invalid(
      source,
      `the target column '${targetColumn}' holds a single class (${table.classes?.[0] ?? ''}); a classifier needs at least two`,
    );
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
  const raw = readCsv(text, source);
  const features = raw.columns.filter((name) => name !== expected.targetColumn);
  const matches =
    raw.columns.includes(expected.targetColumn) &&
    features.length === expected.featureColumns.length &&
    features.every((name, i) => name === expected.featureColumns[i]);
  if (!matches) {
    const missing = [...expected.featureColumns, expected.targetColumn].filter(
      (c) => !raw.columns.includes(c),
    );
    const extra = raw.columns.filter(
      (c) => c !== expected.targetColumn && !expected.featureColumns.includes(c),
    );
    const detail = [
      missing.length > 0 ? `missing: ${missing.join(', ')}` : '',
      extra.length > 0 ? `unexpected: ${extra.join(', ')}` : '',
    ]
      .filter((s) => s !== '')
      .join('; ');
    throw invalid(
      source,
      `the columns do not match the model's: expected ${[...expected.featureColumns, expected.targetColumn].join(', ')}; ` +
        `got ${raw.columns.join(', ')}${detail === '' ? ' (same columns, different order)' : ` (${detail})`}`,
    );
  }
  if (raw.rows.length < 1) throw invalid(source, 'the CSV file has a header but no data rows');
  if (expected.task === 'classification' && (expected.classes === undefined || expected.classes.length < 2)) {
    throw errors.invalidArgument(
      `a classification update needs the model's classes (${describeSchema(expected)})`,
    );
  }
  const table = build(raw, expected.targetColumn, expected.task, expected.classes);
  // Keep the model's feature order even when the update file puts the target elsewhere.
  table.featureColumns = [...expected.featureColumns];
  return table;
}

/** The table as CSV text (features in order, target last) that readTrainingCsv / readUpdateCsv read back exactly. */
export function formatTrainingCsv(table: TrainingTable): string {
  const width = table.featureColumns.length;
  const lines = [[...table.featureColumns, table.targetColumn].map(csvField).join(',')];
  for (let r = 0; r < table.rows; r++) {
    const cells: string[] = [];
    for (let c = 0; c < width; c++) cells.push(String(table.features[r * width + c]));
    if (table.task === 'classification') cells.push(csvField(table.classes?.[table.labels?.[r] ?? -1] ?? ''));
    else cells.push(String(table.target?.[r]));
    lines.push(cells.join(','));
  }
  return `${lines.join('\n')}\n`;
}
