/**
 * What an explainer needs of a model: a function from many rows of features to their outputs, fed
 * in large batches. The explainers write perturbed rows chunk by chunk (never the whole sample set at
 * once: KernelSHAP on 1024 features would need gigabytes) and keep `concurrency` chunks in flight, so
 * that the model's workers always have the next batch waiting.
 */

import { Buffer } from 'node:buffer';

/** A model seen by the explainers: rows of `features` floats in, rows of `outputs` scores out. */
export interface BatchModel {
  /** Features per row (M). */
  readonly features: number;
  /** Output columns per row (K: classes of every explained output, side by side). */
  readonly outputs: number;
  /** Rows per call. */
  readonly batchRows: number;
  /** Calls in flight at once. */
  readonly concurrency: number;
  /**
   * Run `count` rows (row-major, `count × features`); answers `count × outputs` values. The rows
   * buffer is given away (a worker may take it).
   */
  run(rows: Float32Array, count: number): Promise<ArrayLike<number>>;
}

/** Counts what went through a model, for the response's timing and the benchmark. */
export interface EvaluationCounter {
  rows: number;
  calls: number;
}

/**
 * Evaluate `total` rows that `fill` writes (rows start..start+count−1 into `out`, every element of
 * it: `out` is not zeroed), chunk by chunk;
 * `consume` receives each chunk's outputs, in any order.
 */
export async function evaluateRows(
  model: BatchModel,
  total: number,
  fill: (start: number, count: number, out: Float32Array) => void,
  consume: (start: number, count: number, outputs: ArrayLike<number>) => void,
  counter?: EvaluationCounter,
): Promise<void> {
  const chunk = Math.max(1, model.batchRows);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < total) {
      const start = next;
      const count = Math.min(chunk, total - start);
      next += count;
      const rows = uninitializedRows(count * model.features);
      fill(start, count, rows);
      const outputs = await model.run(rows, count);
      if (counter) {
        counter.rows += count;
        counter.calls += 1;
      }
      consume(start, count, outputs);
    }
  };
  const lanes = Math.max(1, Math.min(model.concurrency, Math.ceil(total / chunk)));
  await Promise.all(Array.from({ length: lanes }, lane));
}

/**
 * A Float32Array that owns its whole buffer (so that a worker can take it) and is not zero-filled:
 * `fill` writes every element, and zeroing the megabytes of an explanation's chunks costs as much
 * as writing them.
 */
function uninitializedRows(length: number): Float32Array {
  const bytes = Buffer.allocUnsafeSlow(length * Float32Array.BYTES_PER_ELEMENT);
  return new Float32Array(bytes.buffer, bytes.byteOffset, length);
}

/** Evaluate whole rows given at once (`count × features`), returning `count × outputs`. */
export async function evaluateAll(
  model: BatchModel,
  rows: Float32Array,
  count: number,
  counter?: EvaluationCounter,
): Promise<Float64Array> {
  const m = model.features;
  const out = new Float64Array(count * model.outputs);
  await evaluateRows(
    model,
    count,
    (start, n, target) => target.set(rows.subarray(start * m, (start + n) * m)),
    (start, _n, outputs) => out.set(outputs as ArrayLike<number>, start * model.outputs),
    counter,
  );
  return out;
}
