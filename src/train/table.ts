/**
 * Turns a NumericTable into what trainers take: a row-major feature matrix, a target column, and
 * for classifiers the class names with each row's class index.
 */
import { errors } from '../core/errors.js';
import type { NumericTable } from './csv.js';

export interface FeaturesAndTarget {
  featureColumns: string[];
  /** rows × featureColumns.length, row-major. */
  features: Float64Array;
  target: Float64Array;
  rows: number;
}

/** Separate the column named `targetColumn` from the others, keeping the others' order. */
export function featuresAndTarget(table: NumericTable, targetColumn: string): FeaturesAndTarget {
  const targetIndex = table.columns.indexOf(targetColumn);
  if (targetIndex < 0) {
    throw errors.invalidArgument(
      `target column '${targetColumn}' is not in the table (columns: ${table.columns.join(', ')})`,
    );
  }
  const width = table.columns.length;
  const featureCount = width - 1;
  if (featureCount === 0) throw errors.invalidArgument('the table has no feature columns besides the target');
  const features = new Float64Array(table.rows * featureCount);
  const target = new Float64Array(table.rows);
  for (let r = 0; r < table.rows; r++) {
    let k = r * featureCount;
    for (let c = 0; c < width; c++) {
      const v = table.values[r * width + c] as number;
      if (c === targetIndex) target[r] = v;
      else features[k++] = v;
    }
  }
  return {
    featureColumns: table.columns.filter((_, c) => c !== targetIndex),
    features,
    target,
    rows: table.rows,
  };
}

export interface EncodedClasses {
  /** Class names, in the order of the class indices (the model's output columns). */
  classes: string[];
  /** Each row's class index. */
  labels: Int32Array;
}

/** Map integer class values to indices 0..k-1 in ascending order of value; names are the values as text. */
export function encodeClasses(target: Float64Array, targetColumn: string): EncodedClasses {
  const distinct = new Set<number>();
  for (let r = 0; r < target.length; r++) {
    const v = target[r] as number;
    if (!Number.isInteger(v)) {
      throw errors.invalidArgument(
        `class column '${targetColumn}' must hold integers; row ${r + 1} has ${v}`,
      );
    }
    distinct.add(v);
  }
  const values = [...distinct].sort((a, b) => a - b);
  if (values.length < 2) {
    throw errors.invalidArgument(
      `class column '${targetColumn}' needs at least two classes, found ${values.length}`,
    );
  }
  const indexOf = new Map(values.map((v, i) => [v, i]));
  const labels = new Int32Array(target.length);
  for (let r = 0; r < target.length; r++) labels[r] = indexOf.get(target[r] as number) as number;
  return { classes: values.map(String), labels };
}

/** Copy the rows at `indices` out of a row-major matrix with `width` columns. */
export function gatherRows<T extends Float64Array | Float32Array | Int32Array>(
  source: T,
  width: number,
  indices: ArrayLike<number>,
  into: T,
): T {
  for (let k = 0; k < indices.length; k++) {
    const from = (indices[k] as number) * width;
    into.set(source.subarray(from, from + width), k * width);
  }
  return into;
}
