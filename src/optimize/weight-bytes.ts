/** How many bytes a model's constant weights take, by element type (what quantization saves). */
import { TensorProto_DataType as Elem } from '../onnx/index.js';
import type { GraphProto, ModelProto, TensorProto } from '../onnx/index.js';
import { subgraphsOf } from './graph-scope.js';

/** Initializer bytes of a model (snake_case: reports print it as JSON). */
export interface WeightBytes {
  float32_bytes: number;
  /** int8 and uint8. */
  int8_bytes: number;
  other_bytes: number;
  total_bytes: number;
}

// Bits per element; 4-bit and 2-bit types pack several elements per byte.
const BITS: Readonly<Record<number, number>> = {
  [Elem.FLOAT]: 32,
  [Elem.UINT8]: 8,
  [Elem.INT8]: 8,
  [Elem.UINT16]: 16,
  [Elem.INT16]: 16,
  [Elem.INT32]: 32,
  [Elem.INT64]: 64,
  [Elem.BOOL]: 8,
  [Elem.FLOAT16]: 16,
  [Elem.DOUBLE]: 64,
  [Elem.UINT32]: 32,
  [Elem.UINT64]: 64,
  [Elem.COMPLEX64]: 64,
  [Elem.COMPLEX128]: 128,
  [Elem.BFLOAT16]: 16,
  [Elem.FLOAT8E4M3FN]: 8,
  [Elem.FLOAT8E4M3FNUZ]: 8,
  [Elem.FLOAT8E5M2]: 8,
  [Elem.FLOAT8E5M2FNUZ]: 8,
  [Elem.FLOAT8E8M0]: 8,
  [Elem.UINT4]: 4,
  [Elem.INT4]: 4,
  [Elem.FLOAT4E2M1]: 4,
  [Elem.UINT2]: 2,
  [Elem.INT2]: 2,
};

/** Bytes of one tensor's data, whether stored as raw_data, typed fields or in an external file. */
export function tensorBytes(tensor: TensorProto): number {
  if (tensor.dataType === Elem.STRING) return tensor.stringData.reduce((sum, s) => sum + s.byteLength, 0);
  const count = tensor.dims.reduce((n, d) => n * Number(d), 1);
  return Math.ceil((count * (BITS[tensor.dataType] ?? 0)) / 8);
}

function addGraph(graph: GraphProto, into: WeightBytes): void {
  for (const t of graph.initializer) {
    const bytes = tensorBytes(t);
    if (t.dataType === Elem.FLOAT) into.float32_bytes += bytes;
    else if (t.dataType === Elem.INT8 || t.dataType === Elem.UINT8) into.int8_bytes += bytes;
    else into.other_bytes += bytes;
    into.total_bytes += bytes;
  }
  for (const node of graph.node) for (const sub of subgraphsOf(node)) addGraph(sub, into);
}

/** Initializer bytes of a model and its subgraphs, split into float32, int8/uint8 and the rest. */
export function weightBytes(model: ModelProto): WeightBytes {
  const bytes: WeightBytes = { float32_bytes: 0, int8_bytes: 0, other_bytes: 0, total_bytes: 0 };
  if (model.graph !== undefined) addGraph(model.graph, bytes);
  return bytes;
}

/**
 * Bytes of the quantized weights after quantization (int8 values, their scales and zero points)
 * over their float32 bytes before. Constants left in float (biases, normalization statistics) are
 * not weights of a quantized op and count in neither: they are the fixed overhead a small model keeps.
 */
export function quantizedWeightRatio(
  original: ModelProto,
  quantized: ModelProto,
  weights: readonly string[],
): number {
  const names = new Set(weights);
  let fp32 = 0;
  for (const t of original.graph?.initializer ?? [])
    if (names.has(t.name) && t.dataType === Elem.FLOAT) fp32 += tensorBytes(t);
  if (fp32 === 0) return Number.NaN;
  const before = weightBytes(original);
  const after = weightBytes(quantized);
  // Float bytes the rewrite added (the scales) = float after − (float before − the weights it replaced).
  const addedFloat = Math.max(0, after.float32_bytes - (before.float32_bytes - fp32));
  return (after.int8_bytes - before.int8_bytes + addedFloat) / fp32;
}
