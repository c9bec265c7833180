/**
 * tend's own tensor type. Every layer works on this; only src/runtime converts to onnxruntime's.
 *
 * Element data lives in a typed array (or a string array for BYTES). FP16 is carried as raw
 * IEEE-754 half bits in a Uint16Array; BOOL as one byte per element (0 or 1) in a Uint8Array.
 */

/** KServe V2 / Open Inference Protocol datatypes that tend can carry. */
export const DATA_TYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
] as const;

export type DataType = (typeof DATA_TYPES)[number];

export type NumericArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | BigUint64Array
  | BigInt64Array
  | Float32Array
  | Float64Array;

export type TensorData = NumericArray | string[];

export interface Tensor {
  name: string;
  datatype: DataType;
  /** Concrete dimensions, batch dimension first when the model batches. */
  shape: number[];
  data: TensorData;
}

/** Bytes per element for fixed-size types; BYTES has none. */
export const BYTES_PER_ELEMENT: Readonly<Record<Exclude<DataType, 'BYTES'>, number>> = {
  BOOL: 1,
  UINT8: 1,
  UINT16: 2,
  UINT32: 4,
  UINT64: 8,
  INT8: 1,
  INT16: 2,
  INT32: 4,
  INT64: 8,
  FP16: 2,
  FP32: 4,
  FP64: 8,
};

type NumericCtor = {
  new (length: number): NumericArray;
  new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): NumericArray;
  readonly BYTES_PER_ELEMENT: number;
};

const CTORS: Readonly<Record<Exclude<DataType, 'BYTES'>, NumericCtor>> = {
  BOOL: Uint8Array,
  UINT8: Uint8Array,
  UINT16: Uint16Array,
  UINT32: Uint32Array,
  UINT64: BigUint64Array,
  INT8: Int8Array,
  INT16: Int16Array,
  INT32: Int32Array,
  INT64: BigInt64Array,
  FP16: Uint16Array,
  FP32: Float32Array,
  FP64: Float64Array,
};

export function isDataType(value: unknown): value is DataType {
  return typeof value === 'string' && (DATA_TYPES as readonly string[]).includes(value);
}

/** The typed-array constructor that holds elements of a fixed-size datatype. */
export function arrayConstructorFor(datatype: Exclude<DataType, 'BYTES'>): NumericCtor {
  return CTORS[datatype];
}

/** Allocate a zero-filled data array for `count` elements of `datatype`. */
export function allocateData(datatype: DataType, count: number): TensorData {
  if (datatype === 'BYTES') return new Array<string>(count).fill('');
  return new CTORS[datatype](count);
}

/** Product of the dimensions (1 for a scalar). */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** True when `data` has the array type that `datatype` requires. */
export function dataMatchesType(datatype: DataType, data: TensorData): boolean {
  if (datatype === 'BYTES') return Array.isArray(data);
  return data instanceof CTORS[datatype];
}

/** Value ranges of the integer types up to 32 bits (64-bit ones travel as bigint). */
export const INTEGER_RANGES: Readonly<Partial<Record<DataType, readonly [number, number]>>> = {
  INT8: [-128, 127],
  INT16: [-32768, 32767],
  INT32: [-2147483648, 2147483647],
  UINT8: [0, 255],
  UINT16: [0, 65535],
  UINT32: [0, 4294967295],
};
