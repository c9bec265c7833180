/**
 * KServe V2 / Open Inference Protocol JSON: request bodies to tend tensors, tensors to response text.
 * Every check names the input and the element at fault; nothing here knows about models.
 */
import { errors } from '../../core/errors.js';
import {
  MAX_DATATYPE_BYTES,
  MAX_TENSORS_PER_REQUEST,
  MAX_TENSOR_NAME_BYTES,
  checkParameters,
  checkRequestId,
  isOverBytes,
  tooLong,
  tooMany,
  type ParameterOwner,
} from '../../core/input-limits.js';
import { elementCount, isDataType, type DataType, type Tensor } from '../../core/tensor.js';
import type { InferRequest, InferResponse } from '../../engine/index.js';
// From its own module, not the engine's index: the body-parsing worker loads this file and must not load the engine.
import { checkClassificationK } from '../../engine/serving/classification.js';
import { decodeData, encodeData } from './v2-json-elements.js';
import { previewValue } from './value-preview.js';

/** Upper bound on dimensions and elements a JSON request may declare before any allocation. */
const MAX_ELEMENTS = 2 ** 31 - 1;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parse a body (any content type: `curl -d` sends form-encoded) as JSON. */
export function parseJsonBody(body: unknown): unknown {
  if (body === undefined || body === null || (Buffer.isBuffer(body) && body.length === 0)) {
    throw errors.invalidJson('request body is empty; send a JSON object');
  }
  const text = Buffer.isBuffer(body) ? body.toString('utf8') : String(body);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw errors.invalidJson(`request body is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * Parse a management request body that must be a JSON object. `optional`: an empty body is `{}`.
 */
export function parseJsonObject(
  body: unknown,
  options: { optional?: boolean } = {},
): Record<string, unknown> {
  if (
    options.optional &&
    (body === undefined || body === null || (Buffer.isBuffer(body) && body.length === 0))
  )
    return {};
  const parsed = parseJsonBody(body);
  if (!isObject(parsed)) throw errors.invalidInput('request body must be a JSON object');
  return parsed;
}

function flatten(data: unknown[], name: string): unknown[] {
  if (!data.some(Array.isArray)) return data;
  const out: unknown[] = [];
  const walk = (items: unknown[], depth: number): void => {
    if (depth > 32) throw errors.invalidInput(`input '${name}': 'data' is nested too deeply`);
    for (const item of items) {
      if (Array.isArray(item)) walk(item, depth + 1);
      else out.push(item);
    }
  };
  walk(data, 0);
  return out;
}

function decodeShape(name: string, shape: unknown): number[] {
  if (!Array.isArray(shape))
    throw errors.invalidInput(`input '${name}': 'shape' must be an array of non-negative integers`);
  let count = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw errors.invalidInput(
        `input '${name}': 'shape' must be an array of non-negative integers, got ${previewValue(shape, 100)}`,
      );
    }
    count *= d;
  }
  if (count > MAX_ELEMENTS)
    throw errors.invalidInput(
      `input '${name}': shape ${previewValue(shape, 100)} declares too many elements`,
    );
  return shape as number[];
}

/** Hands out the bytes of binary inputs in request order (the binary tensor extension). */
export type BinaryInputReader = (
  name: string,
  datatype: DataType,
  shape: number[],
  sizeBytes: unknown,
) => Tensor['data'];

/**
 * The limits on a `parameters` object (core/input-limits.ts), and the values the protocol allows:
 * string, number, boolean (null is taken as absent). A nested object or array could hide strings
 * of any size from the limits.
 */
function checkJsonParameters(params: Record<string, unknown>, owner: ParameterOwner, index: number): void {
  checkParameters(params, owner, index, (value) => (typeof value === 'string' ? value : undefined));
  for (const key in params) {
    const value = params[key];
    if (typeof value === 'object' && value !== null) {
      throw errors.invalidInput(
        `${owner === 'request' ? 'parameters' : `${owner}[${index}].parameters`}.${key} must be a string, a number or a boolean`,
      );
    }
  }
}

function decodeInput(raw: unknown, index: number, readBinary: BinaryInputReader | undefined): Tensor {
  if (!isObject(raw))
    throw errors.invalidInput(`inputs[${index}] must be an object with name, shape, datatype and data`);
  const name = raw['name'];
  if (typeof name !== 'string' || name === '')
    throw errors.invalidInput(`inputs[${index}] needs a non-empty string 'name'`);
  if (isOverBytes(name, MAX_TENSOR_NAME_BYTES))
    throw tooLong(`the name of inputs[${index}]`, name, MAX_TENSOR_NAME_BYTES);
  const datatype = raw['datatype'];
  if (!isDataType(datatype)) {
    if (typeof datatype === 'string' && isOverBytes(datatype, MAX_DATATYPE_BYTES))
      throw tooLong(`the datatype of input '${name}'`, datatype, MAX_DATATYPE_BYTES);
    throw errors.invalidInput(
      `input '${name}': unknown datatype ${previewValue(datatype)}; use one of BOOL, UINT8..UINT64, INT8..INT64, FP16, FP32, FP64, BYTES`,
    );
  }
  const shape = decodeShape(name, raw['shape']);
  const params = raw['parameters'];
  if (params !== undefined && params !== null) {
    if (!isObject(params)) throw errors.invalidInput(`input '${name}': 'parameters' must be an object`);
    checkJsonParameters(params, 'inputs', index);
  }
  if (isObject(params) && params['binary_data_size'] !== undefined) {
    if (readBinary === undefined) {
      throw errors.invalidInput(
        `input '${name}' has parameters.binary_data_size but the request has no Inference-Header-Content-Length header`,
      );
    }
    if (raw['data'] !== undefined)
      throw errors.invalidInput(`input '${name}' has both 'data' and binary_data_size; give one`);
    return { name, datatype, shape, data: readBinary(name, datatype, shape, params['binary_data_size']) };
  }
  const data = raw['data'];
  if (!Array.isArray(data)) throw errors.invalidInput(`input '${name}': 'data' must be an array`);
  const flat = flatten(data, name);
  const expected = elementCount(shape);
  if (flat.length !== expected) {
    throw errors.invalidInput(
      `input '${name}': 'data' has ${flat.length} elements but shape ${previewValue(shape, 100)} needs ${expected}`,
    );
  }
  return { name, datatype, shape, data: decodeData(name, datatype, flat) };
}

function positiveIntParam(params: Record<string, unknown>, key: string): number | undefined {
  const v = params[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw errors.invalidInput(`parameters.${key} must be a non-negative integer`);
  }
  return v;
}

/** Decode a parsed V2 infer request body (with a reader for the binary part, when it has one). */
export function decodeInferRequest(body: unknown, readBinary?: BinaryInputReader): InferRequest {
  if (!isObject(body)) throw errors.invalidInput('request body must be a JSON object with an "inputs" array');
  const inputs = body['inputs'];
  // May be empty: a model without inputs (a constant producer) is called with `"inputs": []`; the engine
  // checks the inputs against the model's signature.
  if (!Array.isArray(inputs)) throw errors.invalidInput('request needs an "inputs" array');
  if (inputs.length > MAX_TENSORS_PER_REQUEST)
    throw tooMany('inputs', inputs.length, MAX_TENSORS_PER_REQUEST);
  // The id first: it is the one string of a request that is echoed and stored.
  const id = body['id'];
  if (id !== undefined) {
    if (typeof id !== 'string') throw errors.invalidInput('"id" must be a string');
    checkRequestId(id);
  }
  const request: InferRequest = { inputs: inputs.map((raw, i) => decodeInput(raw, i, readBinary)) };
  if (id !== undefined) request.id = id as string;
  const params = body['parameters'];
  if (params !== undefined) {
    if (!isObject(params)) throw errors.invalidInput('"parameters" must be an object');
    checkJsonParameters(params, 'request', 0);
    const priority = positiveIntParam(params, 'priority');
    if (priority !== undefined) request.priority = priority;
    const timeout = positiveIntParam(params, 'timeout');
    if (timeout !== undefined) request.timeoutUs = timeout;
  }
  const outputs = body['outputs'];
  if (outputs !== undefined) {
    if (!Array.isArray(outputs)) throw errors.invalidInput('"outputs" must be an array of {"name"} objects');
    if (outputs.length > MAX_TENSORS_PER_REQUEST)
      throw tooMany('outputs', outputs.length, MAX_TENSORS_PER_REQUEST);
    request.outputs = outputs.map((o, i) => {
      if (!isObject(o) || typeof o['name'] !== 'string')
        throw errors.invalidInput(`outputs[${i}] needs a string 'name'`);
      if (isOverBytes(o['name'], MAX_TENSOR_NAME_BYTES))
        throw tooLong(`the name of outputs[${i}]`, o['name'], MAX_TENSOR_NAME_BYTES);
      const oparams = o['parameters'];
      if (oparams !== undefined && !isObject(oparams))
        throw errors.invalidInput(`outputs[${i}].parameters must be an object`);
      if (oparams?.['classification'] !== undefined) {
        const k = oparams['classification'];
        if (typeof k !== 'number') {
          throw errors.invalidInput(
            `output '${previewValue(o['name'])}': parameters.classification must be an integer, got ${previewValue(k)}`,
          );
        }
        request.classification ??= new Map();
        request.classification.set(o['name'], checkClassificationK(o['name'], k));
      }
      if (oparams !== undefined) checkJsonParameters(oparams, 'outputs', i);
      return o['name'];
    });
  }
  return request;
}

/** The V2 response body, written directly as text (no intermediate objects for the element arrays). */
export function encodeInferResponse(response: InferResponse): string {
  const outputs = response.outputs.map(
    (t) =>
      `{"name":${JSON.stringify(t.name)},"datatype":"${t.datatype}","shape":[${t.shape.join(',')}],"data":${encodeData(t)}}`,
  );
  return `{"model_name":${JSON.stringify(response.model_name)},"model_version":"${response.model_version}","id":${JSON.stringify(response.id)},"outputs":[${outputs.join(',')}]}`;
}
