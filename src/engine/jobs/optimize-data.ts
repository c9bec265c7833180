/**
 * Evaluation data of an optimization: requests (input tensors) with optional labels, read from CSV
 * (one column per feature of a single [batch, F] input, optionally a target column), given as
 * decoded V2 requests (JSONL, decoded by the caller), or generated from the signature when there
 * is none (agreement only, and the report says so).
 */
import { errors } from '../../core/errors.js';
import type { ModelSignature } from '../../core/signature.js';
import { isDynamicDim } from '../../core/signature.js';
import {
  allocateData,
  elementCount,
  type DataType,
  type NumericArray,
  type Tensor,
} from '../../core/tensor.js';
import { parseReferenceCsv } from '../../monitor/reference-table.js';
import { validateInputs } from '../serving/validate.js';

export interface EvaluationData {
  /** Where the data came from ('synthetic' when generated). */
  source: string;
  synthetic: boolean;
  requests: Tensor[][];
  /** Per request, a label per row (class index) or null; null when the data has no labels. */
  labels: (number | null)[][] | null;
}

const ROWS_PER_REQUEST = 32;
const SYNTHETIC_ROWS = 64;
const SYNTHETIC_DIM = 16;

function setNumber(data: NumericArray, i: number, v: number): void {
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) data[i] = BigInt(Math.round(v));
  else data[i] = v;
}

/** A deterministic generator (tests and reports must not change from run to run). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Inputs of `rows` rows shaped by the signature: floats in [0, 1), integer masks all 1, other integers in [0, 50). */
export function syntheticInputs(signature: ModelSignature, rows: number, seed = 1): Tensor[] {
  const random = lcg(seed);
  return signature.inputs.map((spec) => {
    if (spec.datatype === null || spec.datatype === 'BYTES') {
      throw errors.invalidArgument(
        `input '${spec.name}' is ${spec.onnx_type}: give evaluation data (--eval), tend cannot make up values of that type`,
      );
    }
    const dims = spec.shape ?? [rows];
    const shape = dims.map((d, i) =>
      i === 0 && isDynamicDim(d) ? rows : isDynamicDim(d) ? SYNTHETIC_DIM : d,
    );
    const data = allocateData(spec.datatype, elementCount(shape)) as NumericArray;
    const mask = /mask/i.test(spec.name);
    const float = spec.datatype === 'FP32' || spec.datatype === 'FP64';
    for (let i = 0; i < data.length; i++)
      setNumber(data, i, mask ? 1 : float ? random() : Math.floor(random() * 50));
    return { name: spec.name, datatype: spec.datatype, shape, data };
  });
}

/** Generated evaluation data: one request of SYNTHETIC_ROWS rows (batched models) or single rows. */
export function syntheticEvaluation(signature: ModelSignature, maxBatchSize: number): EvaluationData {
  const requests =
    maxBatchSize > 0
      ? [syntheticInputs(signature, Math.min(SYNTHETIC_ROWS, maxBatchSize))]
      : Array.from({ length: 8 }, (_, i) => syntheticInputs(signature, 1, i + 1));
  return { source: 'synthetic', synthetic: true, requests, labels: null };
}

function numericCell(value: unknown, line: number, column: string, source: string): number {
  if (typeof value !== 'number') {
    throw errors.invalidArgument(
      `${source}: line ${line}, column '${column}': ${value === null ? 'missing value' : `'${String(value)}' is not a number`}`,
    );
  }
  return value;
}

/** Evaluation requests from CSV text for a model with one [batch, F] input. */
export function csvEvaluation(
  text: string,
  source: string,
  signature: ModelSignature,
  maxBatchSize: number,
  target?: string,
): EvaluationData {
  const input = signature.inputs.length === 1 ? signature.inputs[0] : undefined;
  const width = input?.shape?.length === 2 ? input.shape[1] : undefined;
  if (!input || input.datatype === null || input.datatype === 'BYTES' || typeof width !== 'number') {
    throw errors.invalidArgument(
      `${source}: CSV evaluation data fits models with one [batch, features] numeric input; give JSONL requests instead`,
    );
  }
  const table = parseReferenceCsv(text, source);
  if (target !== undefined && !table.columns.includes(target)) {
    throw errors.invalidArgument(
      `${source}: no target column '${target}' (columns: ${table.columns.slice(0, 10).join(', ')}${table.columns.length > 10 ? ', …' : ''})`,
    );
  }
  const features = table.columns.filter((c) => c !== target);
  if (features.length !== width) {
    throw errors.invalidArgument(
      `${source}: ${features.length} feature columns, but input '${input.name}' takes ${width}${target === undefined ? ' (name the label column with --target)' : ''}`,
    );
  }
  const first = input.shape?.[0] ?? 1;
  if (maxBatchSize === 0 && first !== 1 && !isDynamicDim(first)) {
    throw errors.invalidArgument(
      `${source}: input '${input.name}' takes exactly ${String(first)} rows per request; give JSONL requests instead`,
    );
  }
  const datatype = input.datatype as Exclude<DataType, 'BYTES'>;
  const per = maxBatchSize > 0 ? Math.min(ROWS_PER_REQUEST, maxBatchSize) : 1;
  const requests: Tensor[][] = [];
  const labels: (number | null)[][] = [];
  for (let start = 0; start < table.rows; start += per) {
    const rows = Math.min(per, table.rows - start);
    const shape = [rows, width];
    const data = allocateData(datatype, rows * width) as NumericArray;
    const rowLabels: (number | null)[] = [];
    for (let r = 0; r < rows; r++) {
      features.forEach((name, c) =>
        setNumber(
          data,
          r * width + c,
          numericCell(table.values[name]?.[start + r], table.lines[start + r] ?? 0, name, source),
        ),
      );
      if (target !== undefined)
        rowLabels.push(
          numericCell(table.values[target]?.[start + r], table.lines[start + r] ?? 0, target, source),
        );
    }
    requests.push([{ name: input.name, datatype, shape, data }]);
    labels.push(rowLabels);
  }
  return { source, synthetic: false, requests, labels: target === undefined ? null : labels };
}

/** Check every request against the model's signature before anything runs. */
export function checkEvaluation(
  data: EvaluationData,
  model: string,
  signature: ModelSignature,
  maxBatchSize: number,
): void {
  if (data.requests.length === 0) throw errors.invalidArgument(`${data.source}: no evaluation requests`);
  data.requests.forEach((inputs, i) => {
    try {
      validateInputs(model, signature, maxBatchSize, inputs);
    } catch (err) {
      throw errors.invalidArgument(
        `${data.source}: request ${i + 1} does not fit model '${model}': ${(err as Error).message}`,
      );
    }
  });
}

/** Rows in one request. */
export function rowsOf(inputs: readonly Tensor[], maxBatchSize: number): number {
  return maxBatchSize > 0 ? (inputs[0]?.shape[0] ?? 1) : 1;
}

/** A request of `batch` rows made by repeating the rows of `inputs` (for timing at any batch size). */
export function tileRows(inputs: readonly Tensor[], batch: number): Tensor[] {
  return inputs.map((t) => {
    const rows = t.shape[0] ?? 1;
    const per = t.data.length / rows;
    const data = allocateData(t.datatype, batch * per) as NumericArray | string[];
    for (let r = 0; r < batch; r++) {
      const from = (r % rows) * per;
      for (let i = 0; i < per; i++)
        (data as unknown[])[r * per + i] = (t.data as unknown as unknown[])[from + i];
    }
    return { name: t.name, datatype: t.datatype, shape: [batch, ...t.shape.slice(1)], data };
  });
}
