/** The mapping between ONNX element types and V2 datatypes, and ONNX's own type names. */
import type { DataType } from '../core/tensor.js';
import { TensorProto_DataType as Elem } from 'onnx-buf';
import type { TypeProto } from 'onnx-buf';

// ONNX spells these in its type strings (`tensor(float)`), which users see in onnx tools too.
const ONNX_NAMES: Readonly<Record<number, string>> = {
  [Elem.FLOAT]: 'float',
  [Elem.UINT8]: 'uint8',
  [Elem.INT8]: 'int8',
  [Elem.UINT16]: 'uint16',
  [Elem.INT16]: 'int16',
  [Elem.INT32]: 'int32',
  [Elem.INT64]: 'int64',
  [Elem.STRING]: 'string',
  [Elem.BOOL]: 'bool',
  [Elem.FLOAT16]: 'float16',
  [Elem.DOUBLE]: 'double',
  [Elem.UINT32]: 'uint32',
  [Elem.UINT64]: 'uint64',
  [Elem.COMPLEX64]: 'complex64',
  [Elem.COMPLEX128]: 'complex128',
  [Elem.BFLOAT16]: 'bfloat16',
  [Elem.FLOAT8E4M3FN]: 'float8e4m3fn',
  [Elem.FLOAT8E4M3FNUZ]: 'float8e4m3fnuz',
  [Elem.FLOAT8E5M2]: 'float8e5m2',
  [Elem.FLOAT8E5M2FNUZ]: 'float8e5m2fnuz',
  [Elem.UINT4]: 'uint4',
  [Elem.INT4]: 'int4',
  [Elem.FLOAT4E2M1]: 'float4e2m1',
  [Elem.FLOAT8E8M0]: 'float8e8m0',
  [Elem.UINT2]: 'uint2',
  [Elem.INT2]: 'int2',
};

const TO_V2: Readonly<Record<number, DataType>> = {
  [Elem.FLOAT]: 'FP32',
  [Elem.UINT8]: 'UINT8',
  [Elem.INT8]: 'INT8',
  [Elem.UINT16]: 'UINT16',
  [Elem.INT16]: 'INT16',
  [Elem.INT32]: 'INT32',
  [Elem.INT64]: 'INT64',
  [Elem.STRING]: 'BYTES',
  [Elem.BOOL]: 'BOOL',
  [Elem.FLOAT16]: 'FP16',
  [Elem.DOUBLE]: 'FP64',
  [Elem.UINT32]: 'UINT32',
  [Elem.UINT64]: 'UINT64',
};

const FROM_V2: Readonly<Record<DataType, Elem>> = {
  FP32: Elem.FLOAT,
  UINT8: Elem.UINT8,
  INT8: Elem.INT8,
  UINT16: Elem.UINT16,
  INT16: Elem.INT16,
  INT32: Elem.INT32,
  INT64: Elem.INT64,
  BYTES: Elem.STRING,
  BOOL: Elem.BOOL,
  FP16: Elem.FLOAT16,
  FP64: Elem.DOUBLE,
  UINT32: Elem.UINT32,
  UINT64: Elem.UINT64,
};

/** ONNX's name of an element type (`float`, `int64`, `bfloat16`); `elem_type(N)` for unknown numbers. */
export function onnxTypeName(elemType: number): string {
  return ONNX_NAMES[elemType] ?? `elem_type(${elemType})`;
}

/** The V2 datatype of an ONNX element type, or null when V2 has none (bfloat16, complex, float8, int4...). */
export function dataTypeFromOnnx(elemType: number): DataType | null {
  return TO_V2[elemType] ?? null;
}

/** The ONNX element type (TensorProto.DataType number) of a V2 datatype. */
export function onnxElemType(datatype: DataType): number {
  return FROM_V2[datatype];
}

/**
 * ONNX's type string of a value: `tensor(float)`, `seq(tensor(int64))`, `map(string,tensor(float))`,
 * `optional(...)`, `sparse_tensor(float)`; `unknown` when the model leaves the type out.
 */
export function onnxTypeString(type: TypeProto | undefined): string {
  const value = type?.value;
  switch (value?.case) {
    case 'tensorType':
      return `tensor(${onnxTypeName(value.value.elemType)})`;
    case 'sparseTensorType':
      return `sparse_tensor(${onnxTypeName(value.value.elemType)})`;
    case 'sequenceType':
      return `seq(${onnxTypeString(value.value.elemType)})`;
    case 'optionalType':
      return `optional(${onnxTypeString(value.value.elemType)})`;
    case 'mapType':
      return `map(${onnxTypeName(value.value.keyType)},${onnxTypeString(value.value.valueType)})`;
    default:
      return 'unknown';
  }
}
