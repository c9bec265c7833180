/**
 * What happens to raw feature values before the network, fitted on the training rows only and
 * stored in the exported graph so clients send raw values: numeric columns are standardized,
 * integer-coded categorical columns become one-hot blocks (an unknown code gives all zeros), and a
 * regression target is standardized for training and scaled back at the output.
 *
 * Network input layout: the standardized numeric columns in CSV order, then one block per
 * categorical column in the order the columns were named.
 */
import { errors } from '../core/errors.js';
import { fitStandardization, standardizationAsFloat32 } from './standardize.js';
import type { FeatureMatrix } from './network.js';

/** Categories of one integer-coded column. */
export interface CategoricalEncoding {
  column: string;
  /** Position of the column among the feature columns. */
  index: number;
  /** Distinct codes seen in training, ascending. */
  categories: number[];
}

export interface Preprocessing {
  /** Positions (among the feature columns) of the standardized numeric columns, ascending. */
  numericColumns: number[];
  /** Float32-rounded mean and standard deviation of each numeric column (a constant column gets std 1). */
  mean: Float64Array;
  std: Float64Array;
  categorical: CategoricalEncoding[];
  /** Regression: the float32-rounded mean and std of the training targets. */
  target?: { mean: number; std: number };
}

/** More distinct codes than this means the column is not categorical (or it needs another encoding). */
export const MAX_CATEGORIES = 1000;

/** Width of the network input: numeric columns plus every one-hot block. */
export function encodedWidth(p: Preprocessing): number {
  return p.categorical.reduce((width, c) => width + c.categories.length, p.numericColumns.length);
}

/**
 * Fit the preprocessing on `rows` training rows of raw `features` (row-major, `featureColumns.length` wide).
 * @throws TendError TEND_INVALID_ARGUMENT for an unknown, repeated or non-integer categorical column.
 */
export function fitPreprocessing(
  features: Float64Array,
  rows: number,
  featureColumns: readonly string[],
  categoricalColumns: readonly string[],
  target?: Float64Array,
): Preprocessing {
  const width = featureColumns.length;
  const categorical: CategoricalEncoding[] = [];
  const seen = new Set<string>();
  for (const column of categoricalColumns) {
    const index = featureColumns.indexOf(column);
    if (index < 0) {
      throw errors.invalidArgument(
        `categorical column '${column}' is not a feature column (features: ${featureColumns.join(', ')})`,
      );
    }
    if (seen.has(column)) throw errors.invalidArgument(`categorical column '${column}' is named twice`);
    seen.add(column);
    const codes = new Set<number>();
    for (let r = 0; r < rows; r++) {
      const v = features[r * width + index] as number;
      // The graph compares float32 values, so a code must be an integer float32 holds exactly.
      if (!Number.isInteger(v) || Math.abs(v) > 16777216) {
        throw errors.invalidArgument(
          `categorical column '${column}' must hold integer codes; training row ${r + 1} has ${v}`,
        );
      }
      codes.add(v);
    }
    if (codes.size > MAX_CATEGORIES) {
      throw errors.invalidArgument(
        `categorical column '${column}' has ${codes.size} distinct codes, more than ${MAX_CATEGORIES}`,
      );
    }
    categorical.push({ column, index, categories: [...codes].sort((a, b) => a - b) });
  }
  const numericColumns: number[] = [];
  for (let c = 0; c < width; c++) if (!seen.has(featureColumns[c] as string)) numericColumns.push(c);
  const numeric = new Float64Array(rows * numericColumns.length);
  for (let r = 0; r < rows; r++) {
    numericColumns.forEach((c, k) => {
      numeric[r * numericColumns.length + k] = features[r * width + c] as number;
    });
  }
  const stats =
    numericColumns.length === 0
      ? { mean: new Float64Array(0), std: new Float64Array(0) }
      : standardizationAsFloat32(fitStandardization(numeric, rows, numericColumns.length));
  const p: Preprocessing = { numericColumns, mean: stats.mean, std: stats.std, categorical };
  if (target !== undefined) {
    const t = standardizationAsFloat32(fitStandardization(target, rows, 1));
    p.target = { mean: t.mean[0] as number, std: t.std[0] as number };
  }
  return p;
}

/** Network inputs for `rows` rows of raw features: the same arithmetic as the graph's Sub, Div, Equal and Cast. */
export function encodeFeatures(
  p: Preprocessing,
  raw: FeatureMatrix,
  rows: number,
  featureCount: number,
  into?: Float64Array,
): Float64Array {
  if (raw.length !== rows * featureCount) {
    throw errors.invalidArgument(
      `expected ${rows} rows of ${featureCount} features (${rows * featureCount} values), got ${raw.length}`,
    );
  }
  const width = encodedWidth(p);
  const out = into ?? new Float64Array(rows * width);
  const { numericColumns, mean, std, categorical } = p;
  const numericCount = numericColumns.length;
  for (let r = 0; r < rows; r++) {
    const inBase = r * featureCount;
    const outBase = r * width;
    for (let k = 0; k < numericCount; k++) {
      out[outBase + k] =
        ((raw[inBase + (numericColumns[k] as number)] as number) - (mean[k] as number)) / (std[k] as number);
    }
    let offset = outBase + numericCount;
    for (const { index, categories } of categorical) {
      const v = Math.fround(raw[inBase + index] as number);
      for (let j = 0; j < categories.length; j++) out[offset + j] = v === categories[j] ? 1 : 0;
      offset += categories.length;
    }
  }
  return out;
}

/** A deep copy, so models never share mutable arrays. */
export function copyPreprocessing(p: Preprocessing): Preprocessing {
  const copy: Preprocessing = {
    numericColumns: [...p.numericColumns],
    mean: Float64Array.from(p.mean),
    std: Float64Array.from(p.std),
    categorical: p.categorical.map((c) => ({
      column: c.column,
      index: c.index,
      categories: [...c.categories],
    })),
  };
  if (p.target !== undefined) copy.target = { ...p.target };
  return copy;
}
