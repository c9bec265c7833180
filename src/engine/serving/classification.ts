/**
 * The classification extension: a requested output with `classification: k` is answered as the
 * top-k classes, each a BYTES element "score:index[:label]", highest score first.
 */
import { errors } from '../../core/errors.js';
import { halfBitsToFloat } from '../../core/fp16.js';
import type { Tensor } from '../../core/tensor.js';

/** Largest k accepted; more classes than this are never useful and would only cost memory. */
export const MAX_CLASSIFICATION_K = 1_000_000;

/** Check a requested k (from JSON or gRPC parameters). */
export function checkClassificationK(output: string, k: unknown): number {
  if (typeof k !== 'number' || !Number.isSafeInteger(k) || k < 1 || k > MAX_CLASSIFICATION_K) {
    throw errors.invalidInput(
      `output '${output}': parameters.classification must be an integer from 1 to ${MAX_CLASSIFICATION_K}, got ${JSON.stringify(k)}`,
    );
  }
  return k;
}

function scoreAt(t: Tensor, i: number): number {
  const data = t.data;
  if (Array.isArray(data))
    throw errors.invalidInput(`output '${t.name}' is BYTES; classification needs numeric scores`);
  const v = data[i] as number | bigint;
  if (typeof v === 'bigint') return Number(v);
  return t.datatype === 'FP16' ? halfBitsToFloat(v) : v;
}

/**
 * Top-k of `t` per batch row (`batched`: the first dimension is the batch, the rest are the classes)
 * or over the whole tensor. Ties keep the lower index first; NaN scores rank last.
 */
export function classify(
  t: Tensor,
  k: number,
  batched: boolean,
  labels: readonly string[] | undefined,
): Tensor {
  if (t.datatype === 'BYTES')
    throw errors.invalidInput(`output '${t.name}' is BYTES; classification needs numeric scores`);
  const rows = batched ? (t.shape[0] ?? 1) : 1;
  const total = t.data.length;
  const perRow = rows === 0 ? 0 : total / rows;
  const keep = Math.min(k, perRow);
  const out = new Array<string>(rows * keep);
  const order = new Array<number>(perRow);
  const scores = new Float64Array(perRow);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < perRow; c++) {
      order[c] = c;
      const s = scoreAt(t, r * perRow + c);
      scores[c] = Number.isNaN(s) ? -Infinity : s;
    }
    order.sort((a, b) => (scores[b] as number) - (scores[a] as number) || a - b);
    for (let j = 0; j < keep; j++) {
      const c = order[j] as number;
      const label = labels?.[c];
      out[r * keep + j] =
        `${String(scoreAt(t, r * perRow + c))}:${c}${label !== undefined ? `:${label}` : ''}`;
    }
  }
  return { name: t.name, datatype: 'BYTES', shape: batched ? [rows, keep] : [keep], data: out };
}
