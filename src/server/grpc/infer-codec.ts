/**
 * ModelInferRequest messages to engine requests and engine responses to ModelInferResponse
 * messages. Inputs come as typed contents or as `raw_input_contents`; outputs always go back as
 * `raw_output_contents` (views on the output arrays, as Triton answers).
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
} from '../../core/input-limits.js';
import { INTEGER_RANGES, elementCount, isDataType, type DataType, type Tensor } from '../../core/tensor.js';
import { checkClassificationK, type InferRequest, type InferResponse } from '../../engine/index.js';
import { rawTensorBytes, tensorDataFromRaw } from '../protocol/raw-tensors.js';
import type {
  InferInputTensor,
  InferParameter,
  InferTensorContents,
  Int64,
  ModelInferRequestMessage,
  ModelInferResponseMessage,
} from './definition.js';

const MAX_ELEMENTS = 2 ** 31 - 1;

function decodeShape(name: string, shape: readonly Int64[]): number[] {
  const out = new Array<number>(shape.length);
  let count = 1;
  for (let i = 0; i < shape.length; i++) {
    const d = Number(shape[i]);
    if (!Number.isSafeInteger(d) || d < 0)
      throw errors.invalidInput(
        `input '${name}': shape must hold non-negative integers, got [${shape.join(', ')}]`,
      );
    out[i] = d;
    count *= d;
  }
  if (count > MAX_ELEMENTS)
    throw errors.invalidInput(`input '${name}': shape [${shape.join(', ')}] declares too many elements`);
  return out;
}

function contentsLength(c: InferTensorContents): number {
  return (
    c.bool_contents.length +
    c.int_contents.length +
    c.int64_contents.length +
    c.uint_contents.length +
    c.uint64_contents.length +
    c.fp32_contents.length +
    c.fp64_contents.length +
    c.bytes_contents.length
  );
}

function typedField(datatype: DataType): keyof InferTensorContents | undefined {
  switch (datatype) {
    case 'BOOL':
      return 'bool_contents';
    case 'INT8':
    case 'INT16':
    case 'INT32':
      return 'int_contents';
    case 'INT64':
      return 'int64_contents';
    case 'UINT8':
    case 'UINT16':
    case 'UINT32':
      return 'uint_contents';
    case 'UINT64':
      return 'uint64_contents';
    case 'FP32':
      return 'fp32_contents';
    case 'FP64':
      return 'fp64_contents';
    case 'BYTES':
      return 'bytes_contents';
    case 'FP16':
      return undefined;
  }
}

function parseBigInt(name: string, i: number, v: Int64, unsigned: boolean): bigint {
  let b: bigint;
  try {
    b = BigInt(v);
  } catch {
    throw errors.invalidInput(`input '${name}': element ${i} is not an integer`);
  }
  if (unsigned && b < 0n) throw errors.invalidInput(`input '${name}': element ${i} is negative for UINT64`);
  return b;
}

/** The elements of a typed-contents input, checked against its datatype and shape. */
function decodeContents(
  name: string,
  datatype: DataType,
  shape: number[],
  c: InferTensorContents,
): Tensor['data'] {
  const field = typedField(datatype);
  if (field === undefined)
    throw errors.invalidInput(
      `input '${name}': FP16 has no typed contents field; send it in raw_input_contents`,
    );
  const values = c[field] as unknown[];
  const expected = elementCount(shape);
  if (contentsLength(c) !== values.length) {
    throw errors.invalidInput(
      `input '${name}': contents are in a field other than ${field}, which ${datatype} uses`,
    );
  }
  if (values.length !== expected) {
    throw errors.invalidInput(
      `input '${name}': ${field} has ${values.length} elements but shape [${shape.join(', ')}] needs ${expected}`,
    );
  }
  switch (datatype) {
    case 'BOOL':
      return Uint8Array.from(c.bool_contents, (b) => (b ? 1 : 0));
    case 'FP32':
      return Float32Array.from(c.fp32_contents);
    case 'FP64':
      return Float64Array.from(c.fp64_contents);
    case 'INT64':
      return BigInt64Array.from(c.int64_contents, (v, i) => parseBigInt(name, i, v, false));
    case 'UINT64':
      return BigUint64Array.from(c.uint64_contents, (v, i) => parseBigInt(name, i, v, true));
    case 'BYTES':
      return c.bytes_contents.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8'));
    default: {
      const [lo, hi] = INTEGER_RANGES[datatype] as readonly [number, number];
      const src = values as number[];
      for (let i = 0; i < src.length; i++) {
        const v = src[i] as number;
        if (v < lo || v > hi)
          throw errors.invalidInput(
            `input '${name}': element ${i} is ${v}, outside [${lo}, ${hi}] for ${datatype}`,
          );
      }
      const Ctor =
        datatype === 'INT8'
          ? Int8Array
          : datatype === 'INT16'
            ? Int16Array
            : datatype === 'INT32'
              ? Int32Array
              : datatype === 'UINT8'
                ? Uint8Array
                : datatype === 'UINT16'
                  ? Uint16Array
                  : Uint32Array;
      return Ctor.from(src);
    }
  }
}

/** The string form of a gRPC parameter, for the size limit (undefined for numbers and booleans). */
const grpcString = (value: InferParameter | undefined): string | undefined => value?.string_param;

function decodeInput(raw: InferInputTensor, index: number, rawContents: Uint8Array | undefined): Tensor {
  const name = raw.name;
  if (name === '') throw errors.invalidInput(`inputs[${index}] needs a name`);
  if (isOverBytes(name, MAX_TENSOR_NAME_BYTES))
    throw tooLong(`the name of inputs[${index}]`, name, MAX_TENSOR_NAME_BYTES);
  checkParameters(raw.parameters, 'inputs', index, grpcString);
  const datatype = raw.datatype;
  if (!isDataType(datatype)) {
    if (isOverBytes(datatype, MAX_DATATYPE_BYTES))
      throw tooLong(`the datatype of input '${name}'`, datatype, MAX_DATATYPE_BYTES);
    throw errors.invalidInput(
      `input '${name}': unknown datatype '${datatype}'; use one of BOOL, UINT8..UINT64, INT8..INT64, FP16, FP32, FP64, BYTES`,
    );
  }
  const shape = decodeShape(name, raw.shape);
  if (rawContents !== undefined) {
    if (raw.contents && contentsLength(raw.contents) > 0) {
      throw errors.invalidInput(`input '${name}' has both contents and raw_input_contents; give one`);
    }
    return {
      name,
      datatype,
      shape,
      data: tensorDataFromRaw(name, datatype, shape, rawContents, 'raw_input_contents'),
    };
  }
  if (!raw.contents)
    throw errors.invalidInput(`input '${name}' has no contents and the request has no raw_input_contents`);
  return { name, datatype, shape, data: decodeContents(name, datatype, shape, raw.contents) };
}

/** An integer parameter (int64, uint64, or a whole double), else undefined when absent. */
export function integerParameter(where: string, p: InferParameter | undefined): number | undefined {
  if (p === undefined) return undefined;
  const v =
    p.parameter_choice === 'int64_param'
      ? Number(p.int64_param)
      : p.parameter_choice === 'uint64_param'
        ? Number(p.uint64_param)
        : p.parameter_choice === 'double_param'
          ? p.double_param
          : undefined;
  if (v === undefined || !Number.isSafeInteger(v))
    throw errors.invalidInput(`${where} must be an integer parameter`);
  return v;
}

/** The model, version and engine request of a ModelInferRequest. */
export function decodeModelInferRequest(msg: ModelInferRequestMessage): {
  model: string;
  version: string | undefined;
  request: InferRequest;
} {
  if (msg.model_name === '') throw errors.invalidInput('model_name is required');
  checkRequestId(msg.id);
  if (msg.inputs.length > MAX_TENSORS_PER_REQUEST)
    throw tooMany('inputs', msg.inputs.length, MAX_TENSORS_PER_REQUEST);
  if (msg.outputs.length > MAX_TENSORS_PER_REQUEST)
    throw tooMany('outputs', msg.outputs.length, MAX_TENSORS_PER_REQUEST);
  checkParameters(msg.parameters, 'request', 0, grpcString);
  // No inputs is valid for a model without inputs; the engine checks the inputs against the signature.
  const raw = msg.raw_input_contents;
  if (raw.length > 0 && raw.length !== msg.inputs.length) {
    throw errors.invalidInput(
      `raw_input_contents has ${raw.length} entries but the request has ${msg.inputs.length} inputs; give one per input, in order`,
    );
  }
  const request: InferRequest = {
    inputs: msg.inputs.map((input, i) => decodeInput(input, i, raw.length > 0 ? raw[i] : undefined)),
  };
  if (msg.id !== '') request.id = msg.id;
  const priority = integerParameter('parameters.priority', msg.parameters['priority']);
  if (priority !== undefined) {
    if (priority < 0) throw errors.invalidInput('parameters.priority must be a non-negative integer');
    request.priority = priority;
  }
  const timeout = integerParameter('parameters.timeout', msg.parameters['timeout']);
  if (timeout !== undefined) {
    if (timeout < 0) throw errors.invalidInput('parameters.timeout must be a non-negative integer');
    request.timeoutUs = timeout;
  }
  if (msg.outputs.length > 0) {
    request.outputs = msg.outputs.map((o, i) => {
      if (o.name === '') throw errors.invalidInput(`outputs[${i}] needs a name`);
      if (isOverBytes(o.name, MAX_TENSOR_NAME_BYTES))
        throw tooLong(`the name of outputs[${i}]`, o.name, MAX_TENSOR_NAME_BYTES);
      checkParameters(o.parameters, 'outputs', i, grpcString);
      const k = o.parameters['classification'];
      if (k !== undefined) {
        request.classification ??= new Map();
        request.classification.set(
          o.name,
          checkClassificationK(o.name, integerParameter(`output '${o.name}': parameters.classification`, k)),
        );
      }
      return o.name;
    });
  }
  return {
    model: msg.model_name,
    version: msg.model_version === '' ? undefined : msg.model_version,
    request,
  };
}

/** The response message: output metadata plus raw contents in the same order. */
export function encodeModelInferResponse(response: InferResponse): ModelInferResponseMessage {
  return {
    model_name: response.model_name,
    model_version: response.model_version,
    id: response.id,
    outputs: response.outputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape })),
    raw_output_contents: response.outputs.map((t) => rawTensorBytes(t)),
  };
}
