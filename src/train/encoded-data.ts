/**
 * A TrainingTable turned into what the optimizers see: network inputs after preprocessing, and
 * labels or standardized targets.
 */
import { encodeFeatures, type Preprocessing } from './preprocessing.js';
import { labelsOf, targetsOf, type TrainingTable } from './training-table.js';

export interface EncodedData {
  /** rows × network input width. */
  x: Float64Array;
  rows: number;
  width: number;
  labels: Int32Array | null;
  /** Regression targets, standardized with the preprocessing's target scaling. */
  targets: Float64Array | null;
}

/** Encode `table` with `p` (the model's preprocessing). */
export function encodeTable(table: TrainingTable, p: Preprocessing, width: number): EncodedData {
  const x = encodeFeatures(p, table.features, table.rows, table.featureColumns.length);
  if (table.task === 'classification')
    return { x, rows: table.rows, width, labels: labelsOf(table), targets: null };
  const raw = targetsOf(table);
  const { mean, std } = p.target ?? { mean: 0, std: 1 };
  return {
    x,
    rows: table.rows,
    width,
    labels: null,
    targets: Float64Array.from(raw, (v) => (v - mean) / std),
  };
}

/** Copy rows `indices` of `data` into the batch buffers given (sized for at least indices.length rows). */
export function gatherBatch(
  data: EncodedData,
  indices: ArrayLike<number>,
  x: Float64Array,
  labels: Int32Array,
  targets: Float64Array,
): void {
  const w = data.width;
  for (let k = 0; k < indices.length; k++) {
    const r = indices[k] as number;
    x.set(data.x.subarray(r * w, (r + 1) * w), k * w);
    if (data.labels !== null) labels[k] = data.labels[r] as number;
    if (data.targets !== null) targets[k] = data.targets[r] as number;
  }
}
