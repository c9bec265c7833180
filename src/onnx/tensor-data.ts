/** Converting between tend's typed arrays and ONNX TensorProto (initializers, Constant values). */
import { create } from '@bufbuild/protobuf';
import { TensorProtoSchema, TensorProto_DataLocation } from 'onnx-buf';
import type { TensorProto } from 'onnx-buf';
import { errors } from '../core/errors.js';
import type { DataType, NumericArray, TensorData } from '../core/tensor.js';
import { allocateData, arrayConstructorFor, dataMatchesType, elementCount } from '../core/tensor.js';
import { dataTypeFromOnnx, onnxElemType, onnxTypeName } from './datatype.js';

/** The decoded contents of a TensorProto. */
export interface TensorValue {
  datatype: DataType;
  dims: number[];
  data: TensorData;
}

// ONNX stores raw_data little-endian whatever the host; swap only on a big-endian host.
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function swapBytes(bytes: Uint8Array, width: number): void {
  if (HOST_IS_LITTLE_ENDIAN || width === 1) return;
  for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
}

/** The datatype a typed array holds when none is given (Uint8Array → UINT8, string[] → BYTES). */
export function defaultDataType(data: TensorData): DataType {
  if (Array.isArray(data)) return 'BYTES';
  if (data instanceof Float32Array) return 'FP32';
  if (data instanceof Float64Array) return 'FP64';
  if (data instanceof BigInt64Array) return 'INT64';
  if (data instanceof BigUint64Array) return 'UINT64';
  if (data instanceof Int32Array) return 'INT32';
  if (data instanceof Uint32Array) return 'UINT32';
  if (data instanceof Int16Array) return 'INT16';
  if (data instanceof Uint16Array) return 'UINT16';
  if (data instanceof Int8Array) return 'INT8';
  return 'UINT8';
}

function checkDims(what: string, dims: readonly number[]): void {
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw errors.invalidArgument(`${what} has an invalid dimension ${d} in [${dims.join(', ')}]`);
    }
  }
}

/**
 * A TensorProto holding `data` (numbers as little-endian raw_data, strings as string_data).
 * @throws TendError TEND_INVALID_ARGUMENT when the data does not match the dims or the datatype.
 */
export function tensorProto(
  name: string,
  data: TensorData,
  dims: readonly number[],
  datatype?: DataType,
): TensorProto {
  const type = datatype ?? defaultDataType(data);
  checkDims(`tensor '${name}'`, dims);
  if (!dataMatchesType(type, data)) {
    throw errors.invalidArgument(`tensor '${name}': ${data.constructor.name} cannot hold ${type} data`);
  }
  if (elementCount(dims) !== data.length) {
    throw errors.invalidArgument(
      `tensor '${name}' has ${data.length} elements but dims [${dims.join(', ')}] need ${elementCount(dims)}`,
    );
  }
  const tensor = create(TensorProtoSchema, {
    name,
    dims: dims.map((d) => BigInt(d)),
    dataType: onnxElemType(type),
  });
  if (Array.isArray(data)) {
    const utf8 = new TextEncoder();
    tensor.stringData = data.map((s) => utf8.encode(s));
  } else {
    const numeric = data as NumericArray;
    const bytes = new Uint8Array(numeric.byteLength);
    bytes.set(new Uint8Array(numeric.buffer, numeric.byteOffset, numeric.byteLength));
    swapBytes(bytes, numeric.BYTES_PER_ELEMENT);
    tensor.rawData = bytes;
  }
  return tensor;
}

function fromTypedField(
  datatype: Exclude<DataType, 'BYTES'>,
  values: ArrayLike<number | bigint>,
  count: number,
): NumericArray {
  const out = allocateData(datatype, count) as NumericArray;
  const big = out instanceof BigInt64Array || out instanceof BigUint64Array;
  // FP16 sits in int32_data as its 16 bits, so a plain copy into Uint16Array is the right decode.
  for (let i = 0; i < count; i++) {
    const v = values[i] ?? 0;
    out[i] = big ? BigInt(v) : Number(v);
  }
  return out;
}

/**
 * Decode a TensorProto that stores its data inside the model.
 * @throws TendError TEND_INVALID_MODEL for external data, types without a V2 datatype, or data that
 * does not fit the dims.
 */
export function readTensorData(tensor: TensorProto): TensorValue {
  const datatype = dataTypeFromOnnx(tensor.dataType);
  const what = `tensor '${tensor.name}'`;
  if (datatype === null) {
    throw errors.invalidModel(`${what} has type ${onnxTypeName(tensor.dataType)}, which tend cannot decode`);
  }
  if (tensor.dataLocation === TensorProto_DataLocation.EXTERNAL) {
    throw errors.invalidModel(`${what} keeps its data in an external file`);
  }
  const dims = tensor.dims.map(Number);
  const count = elementCount(dims);
  if (datatype === 'BYTES') {
    if (tensor.stringData.length !== count) {
      throw errors.invalidModel(`${what} has ${tensor.stringData.length} strings, dims need ${count}`);
    }
    const utf8 = new TextDecoder();
    return { datatype, dims, data: tensor.stringData.map((b) => utf8.decode(b)) };
  }
  const Ctor = arrayConstructorFor(datatype);
  if (tensor.rawData.byteLength > 0 || count === 0) {
    const byteLength = count * Ctor.BYTES_PER_ELEMENT;
    if (tensor.rawData.byteLength !== byteLength) {
      const got = tensor.rawData.byteLength;
      throw errors.invalidModel(`${what} has ${got} bytes of raw data, dims need ${byteLength}`);
    }
    // Copy to a fresh buffer: raw_data is a view into the model bytes, usually unaligned. (Not
    // `.slice()`: on a Node Buffer, which parsing a file gives, that is a view, not a copy.)
    const bytes = new Uint8Array(tensor.rawData);
    swapBytes(bytes, Ctor.BYTES_PER_ELEMENT);
    return { datatype, dims, data: new Ctor(bytes.buffer, 0, count) };
  }
  const field = typedField(tensor, datatype);
  if (field.length !== count) {
    throw errors.invalidModel(`${what} has ${field.length} values, dims need ${count}`);
  }
  return { datatype, dims, data: fromTypedField(datatype, field, count) };
}

// Which repeated field of TensorProto carries each type when raw_data is not used (see onnx.proto).
function typedField(tensor: TensorProto, datatype: Exclude<DataType, 'BYTES'>): ArrayLike<number | bigint> {
  switch (datatype) {
    case 'FP32':
      return tensor.floatData;
    case 'FP64':
      return tensor.doubleData;
    case 'INT64':
      return tensor.int64Data;
    case 'UINT32':
    case 'UINT64':
      return tensor.uint64Data;
    default:
      return tensor.int32Data;
  }
}
