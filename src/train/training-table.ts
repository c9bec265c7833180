/**
 * TrainingTable: what every trainer and update takes — raw feature values (the CSV's columns in
 * order, without the target) and the target, as class indices for classification or numbers for
 * regression. Helpers here pick rows and join tables without re-reading any CSV.
 */
import { errors } from '../core/errors.js';

export type Task = 'classification' | 'regression';

export const TASKS: readonly Task[] = ['classification', 'regression'];

export interface TrainingTable {
  featureColumns: string[];
  /** rows × featureColumns.length raw values, row-major. */
  features: Float64Array;
  rows: number;
  targetColumn: string;
  task: Task;
  /** Classification: class names by index (numeric order when all are numbers, else string order). */
  classes?: string[];
  /** Classification: each row's class index. */
  labels?: Int32Array;
  /** Regression: each row's target value. */
  target?: Float64Array;
}

/** The columns and classes a table must have to update a model. */
export interface TableSchema {
  featureColumns: string[];
  targetColumn: string;
  task: Task;
  classes?: string[];
}

/** The schema of `table`. */
export function schemaOf(table: TrainingTable): TableSchema {
  const schema: TableSchema = {
    featureColumns: [...table.featureColumns],
    targetColumn: table.targetColumn,
    task: table.task,
  };
  if (table.classes !== undefined) schema.classes = [...table.classes];
  return schema;
}

/** The class indices of a classification table (throws for a regression table). */
export function labelsOf(table: TrainingTable): Int32Array {
  if (table.task !== 'classification' || table.labels === undefined || table.classes === undefined) {
    throw errors.invalidArgument(`table of '${table.targetColumn}' has no class labels (task ${table.task})`);
  }
  return table.labels;
}

/** The target values of a regression table (throws for a classification table). */
export function targetsOf(table: TrainingTable): Float64Array {
  if (table.task !== 'regression' || table.target === undefined) {
    throw errors.invalidArgument(
      `table of '${table.targetColumn}' has no numeric target (task ${table.task})`,
    );
  }
  return table.target;
}

/** A table of the rows at `indices` (in that order). */
export function selectRows(table: TrainingTable, indices: ArrayLike<number>): TrainingTable {
  const width = table.featureColumns.length;
  const features = new Float64Array(indices.length * width);
  for (let k = 0; k < indices.length; k++) {
    const r = indices[k] as number;
    if (!(r >= 0 && r < table.rows))
      throw errors.invalidArgument(`row index ${r} is outside 0..${table.rows - 1}`);
    features.set(table.features.subarray(r * width, (r + 1) * width), k * width);
  }
  const out: TrainingTable = { ...schemaOf(table), features, rows: indices.length };
  if (table.labels !== undefined)
    out.labels = Int32Array.from(
      { length: indices.length },
      (_, k) => table.labels?.[indices[k] as number] as number,
    );
  if (table.target !== undefined)
    out.target = Float64Array.from(
      { length: indices.length },
      (_, k) => table.target?.[indices[k] as number] as number,
    );
  return out;
}

function sameSchema(a: TableSchema, b: TableSchema): boolean {
  const same = (x: readonly string[] | undefined, y: readonly string[] | undefined) =>
    x === undefined || y === undefined ? x === y : x.length === y.length && x.every((v, i) => v === y[i]);
  return (
    a.task === b.task &&
    a.targetColumn === b.targetColumn &&
    same(a.featureColumns, b.featureColumns) &&
    same(a.classes, b.classes)
  );
}

/** The rows of `first` followed by those of `second`; both must have the same columns and classes. */
export function concatTables(first: TrainingTable, second: TrainingTable): TrainingTable {
  if (!sameSchema(schemaOf(first), schemaOf(second))) {
    throw errors.invalidArgument(
      `cannot join tables with different columns or classes (${describeSchema(first)} vs ${describeSchema(second)})`,
    );
  }
  const features = new Float64Array(first.features.length + second.features.length);
  features.set(first.features);
  features.set(second.features, first.features.length);
  const out: TrainingTable = { ...schemaOf(first), features, rows: first.rows + second.rows };
  if (first.labels !== undefined && second.labels !== undefined) {
    out.labels = new Int32Array(out.rows);
    out.labels.set(first.labels);
    out.labels.set(second.labels, first.rows);
  }
  if (first.target !== undefined && second.target !== undefined) {
    out.target = new Float64Array(out.rows);
    out.target.set(first.target);
    out.target.set(second.target, first.rows);
  }
  return out;
}

/** "a, b, c → y" (and the classes), for messages. */
export function describeSchema(schema: TableSchema): string {
  const classes = schema.classes === undefined ? '' : ` [${schema.classes.join(', ')}]`;
  return `${schema.featureColumns.join(', ')} → ${schema.targetColumn}${classes}`;
}
