/**
 * The one request a benchmark sends, in each encoding: V2 JSON, V2 JSON with the binary tensor
 * extension, and gRPC ModelInfer. The inputs come from a V2 JSON body (the user's --data file, or
 * one generated from the model's metadata with random values) and are decoded once into tensors.
 */
import { errors, isTendError } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import { decodeInferRequest } from '../../server/http/v2-json.js';
import { rawTensorBytes } from '../../server/protocol/raw-tensors.js';

export interface MetadataInput {
  name: string;
  datatype: string;
  shape: number[];
}

/** An encoded HTTP request: body and the headers it needs. */
export interface HttpRequestBody {
  body: Buffer;
  headers: Record<string, string>;
}

function randomValues(datatype: string, count: number): unknown[] {
  const out = new Array<unknown>(count);
  for (let i = 0; i < count; i++) {
    if (datatype === 'FP32' || datatype === 'FP64' || datatype === 'FP16') out[i] = Math.random();
    else if (datatype === 'BOOL') out[i] = Math.random() < 0.5;
    else if (datatype === 'BYTES') out[i] = 'tend';
    else out[i] = Math.floor(Math.random() * 10);
  }
  return out;
}

/** A V2 request body of `batch` items with random values, shaped from the model's metadata. */
export function syntheticBody(
  inputs: readonly MetadataInput[],
  batch: number,
  shapes: Map<string, number[]>,
): string {
  return JSON.stringify({
    inputs: inputs.map((input) => {
      const given = shapes.get(input.name);
      const shape = given ?? input.shape.map((d, i) => (d >= 0 ? d : i === 0 ? batch : 1));
      const count = shape.reduce((a, b) => a * b, 1);
      return { name: input.name, shape, datatype: input.datatype, data: randomValues(input.datatype, count) };
    }),
  });
}

/** The input tensors of a V2 JSON body; `source` names it in the error ("--data req.json"). */
export function tensorsOfJsonBody(json: string, source: string): Tensor[] {
  try {
    return decodeInferRequest(JSON.parse(json) as unknown).inputs;
  } catch (err) {
    const why = isTendError(err) ? err.message : (err as Error).message;
    throw errors.invalidArgument(`${source} is not a V2 infer request body: ${why}`);
  }
}

/** The JSON body as it is. */
export function jsonRequest(json: string): HttpRequestBody {
  return { body: Buffer.from(json), headers: { 'content-type': 'application/json' } };
}

/**
 * The binary tensor extension: a JSON header naming each input with `parameters.binary_data_size`,
 * then the raw little-endian bytes of the inputs in order; outputs asked in binary too.
 */
export function binaryRequest(inputs: readonly Tensor[]): HttpRequestBody {
  const raw = inputs.map((t) => rawTensorBytes(t));
  const header = Buffer.from(
    JSON.stringify({
      inputs: inputs.map((t, i) => ({
        name: t.name,
        shape: t.shape,
        datatype: t.datatype,
        parameters: { binary_data_size: raw[i]?.byteLength ?? 0 },
      })),
      parameters: { binary_data_output: true },
    }),
  );
  return {
    body: Buffer.concat([header, ...raw]),
    headers: {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': String(header.byteLength),
    },
  };
}
