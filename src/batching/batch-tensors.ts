/**
 * Tensor work of the batcher: which requests may share a batch, joining their inputs along dim 0
 * and cutting the outputs back per request. Typed-array `set`/`subarray` only; no per-element loops.
 */
import { errors } from '../core/errors.js';
import { arrayConstructorFor } from '../core/tensor.js';
import type { NumericArray, Tensor, TensorData } from '../core/tensor.js';

/** What every numeric typed array can do, without TypeScript's union-of-signatures trouble. */
interface Settable {
  set(source: ArrayLike<number | bigint>, offset?: number): void;
}

/**
 * One string that is equal for two requests exactly when their inputs can be concatenated:
 * same names in the same order, same datatypes, same dims after dim 0.
 */
export function batchKey(inputs: readonly Tensor[]): string {
  let key = '';
  for (const t of inputs) {
    // The name's length makes the key unambiguous whatever characters the name holds.
    key += `${t.name.length}:${t.name}|${t.datatype}`;
    const shape = t.shape;
    for (let d = 1; d < shape.length; d++) key += `,${shape[d]}`;
    key += ';';
  }
  return key;
}

/**
 * The batch size of one request (dim 0 of its inputs), checked against the largest batch:
 * a cheap guard so that a request the frontend let through cannot corrupt a shared batch.
 */
export function requestBatchSize(inputs: readonly Tensor[], maxBatchSize: number): number {
  const first = inputs[0];
  if (first === undefined) throw errors.invalidInput('a batched model needs at least one input');
  const size = first.shape[0];
  if (size === undefined || !Number.isInteger(size) || size < 1 || size > maxBatchSize) {
    throw errors.invalidInput(
      `input '${first.name}' has batch size ${size ?? '(none)'}; it must be from 1 to ${maxBatchSize}`,
    );
  }
  for (let i = 1; i < inputs.length; i++) {
    const t = inputs[i] as Tensor;
    if (t.shape[0] !== size) {
      throw errors.invalidInput(
        `inputs disagree on the batch size: '${first.name}' has ${size}, '${t.name}' has ${t.shape[0] ?? '(none)'}`,
      );
    }
  }
  return size;
}

/**
 * Join the inputs of several requests (all with the same batchKey) along dim 0: one fresh array
 * per input, filled with `set` at offsets; BYTES string arrays are concatenated.
 */
export function concatBatch(requests: readonly (readonly Tensor[])[], totalSize: number): Tensor[] {
  const first = requests[0];
  if (first === undefined) return [];
  const joined: Tensor[] = new Array<Tensor>(first.length);
  for (let i = 0; i < first.length; i++) {
    const head = first[i] as Tensor;
    const shape = head.shape.slice();
    shape[0] = totalSize;
    let data: TensorData;
    if (head.datatype === 'BYTES') {
      const parts: string[][] = new Array<string[]>(requests.length);
      for (let r = 0; r < requests.length; r++) parts[r] = stringData(requests[r]?.[i]);
      data = ([] as string[]).concat(...parts);
    } else {
      let length = 0;
      for (const req of requests) length += (req[i] as Tensor).data.length;
      const out = new (arrayConstructorFor(head.datatype))(length);
      let offset = 0;
      for (const req of requests) {
        const part = numericData(req[i]);
        (out as unknown as Settable).set(part, offset);
        offset += part.length;
      }
      data = out;
    }
    joined[i] = { name: head.name, datatype: head.datatype, shape, data };
  }
  return joined;
}

function stringData(t: Tensor | undefined): string[] {
  if (t === undefined || !Array.isArray(t.data)) {
    throw errors.internal(`BYTES input '${t?.name ?? '?'}' does not hold a string array`);
  }
  return t.data;
}

function numericData(t: Tensor | undefined): NumericArray {
  if (t === undefined || Array.isArray(t.data)) {
    throw errors.internal(`input '${t?.name ?? '?'}' does not hold a typed array`);
  }
  return t.data;
}

/**
 * Cut each output of a batch back into one slice per request, in request order. An output whose
 * dim 0 is the batch's total is split with `subarray` (views of the batch output, no copy); any
 * other output (a scalar, a per-batch statistic) is given whole to every request.
 */
export function splitBatch(
  outputs: readonly Tensor[],
  sizes: readonly number[],
  totalSize: number,
): Tensor[][] {
  const perRequest: Tensor[][] = new Array<Tensor[]>(sizes.length);
  for (let r = 0; r < sizes.length; r++) perRequest[r] = new Array<Tensor>(outputs.length);
  for (let o = 0; o < outputs.length; o++) {
    const out = outputs[o] as Tensor;
    if (out.shape.length === 0 || out.shape[0] !== totalSize) {
      for (let r = 0; r < sizes.length; r++) (perRequest[r] as Tensor[])[o] = out;
      continue;
    }
    const itemLength = out.data.length / totalSize;
    if (!Number.isInteger(itemLength)) {
      throw errors.internal(
        `output '${out.name}' has ${out.data.length} elements, which does not divide into ${totalSize} batch items`,
      );
    }
    let item = 0;
    for (let r = 0; r < sizes.length; r++) {
      const size = sizes[r] as number;
      const start = item * itemLength;
      const end = start + size * itemLength;
      const shape = out.shape.slice();
      shape[0] = size;
      // Arrays of strings have no views; slicing copies only the references.
      const data = Array.isArray(out.data) ? out.data.slice(start, end) : out.data.subarray(start, end);
      (perRequest[r] as Tensor[])[o] = { name: out.name, datatype: out.datatype, shape, data };
      item += size;
    }
  }
  return perRequest;
}
