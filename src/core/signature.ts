import type { DataType } from './tensor.js';

/**
 * One dimension of a declared tensor shape: a fixed size, or a symbolic name
 * (`"batch"`, `"seq"`) for a dynamic dimension; `""` is a dynamic dimension without a name.
 */
export type Dim = number | string;

/** An input or output as the model declares it. */
export interface TensorSpec {
  name: string;
  /** V2 datatype, or null when the ONNX type has no V2 equivalent (bfloat16, sequences, maps...). */
  datatype: DataType | null;
  /** ONNX's own type string, e.g. `tensor(float)`, kept for messages and types V2 cannot carry. */
  onnx_type: string;
  /** Declared dimensions; null when the model declares no shape at all. */
  shape: Dim[] | null;
}

/** What a model takes and returns. */
export interface ModelSignature {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

/** True for a dimension that is not fixed. */
export function isDynamicDim(dim: Dim): dim is string {
  return typeof dim === 'string' || dim < 0;
}

/** The shape as the V2 metadata endpoint reports it: dynamic dimensions as -1. */
export function v2Shape(shape: readonly Dim[] | null): number[] {
  if (shape === null) return [-1];
  return shape.map((d) => (isDynamicDim(d) ? -1 : d));
}
