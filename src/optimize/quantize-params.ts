/**
 * Scales, zero points and quantized values of constant weights, computed the way onnxruntime's
 * Python quantizer does (quant_utils.compute_scale_zp and quantize_nparray), so that a model
 * quantized here carries the same numbers as one quantized by `quantize_dynamic`.
 *
 * The arithmetic mirrors NumPy's: the range is float32, the scale is divided out in float64 and
 * stored as float32, values are divided by the float32 scale in float32 and rounded half to even.
 */

/** The quantization of one tensor (or one channel of it): real = scale × (q − zeroPoint). */
export interface QuantParams {
  /** float32 value. */
  scale: number;
  zeroPoint: number;
}

/** int8 weights: symmetric [-127, 127], or [-64, 64] with reduce range (7 bits, as onnxruntime's quantizer). */
export interface Int8Range {
  kind: 'int8';
  reduceRange: boolean;
}

/** uint8 asymmetric [0, 255], which onnxruntime's quantizer uses for Gather tables (they are activations to it). */
export interface Uint8Range {
  kind: 'uint8';
}

export type QuantRange = Int8Range | Uint8Range;

// numpy.finfo(float32).tiny: a smaller scale means the tensor is all zeros and gets scale 1.
const FLOAT32_TINY = 1.1754943508222875e-38;

/** Rounds to the nearest integer, ties to even (NumPy's `round`, C's `nearbyint`). */
export function roundHalfToEven(value: number): number {
  const floor = Math.floor(value);
  const diff = value - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

function minMax(values: ArrayLike<number>): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return values.length === 0 ? { min: 0, max: 0 } : { min, max };
}

/** Scale and zero point for values in [min, max] (float32 numbers), following compute_scale_zp. */
export function computeQuantParams(min: number, max: number, range: QuantRange): QuantParams {
  // The range always holds 0 so that 0 (padding, ReLU output) is exact.
  const rmin = Math.min(min, 0);
  const rmax = Math.max(max, 0);
  if (range.kind === 'int8') {
    const qmax = range.reduceRange ? 64 : 127;
    const absmax = Math.max(Math.abs(rmin), Math.abs(rmax));
    // absmax - (-absmax) is exact in float32, so doubling here matches NumPy.
    const scale = (2 * absmax) / (2 * qmax);
    if (scale < FLOAT32_TINY) return { scale: 1, zeroPoint: 0 };
    return { scale: Math.fround(scale), zeroPoint: 0 };
  }
  const scale = Math.fround(rmax - rmin) / 255;
  if (scale < FLOAT32_TINY) return { scale: 1, zeroPoint: 0 };
  // The zero point uses the float64 scale, before it is stored as float32 (as compute_scale_zp does).
  const zeroPoint = roundHalfToEven(0 - rmin / scale);
  return { scale: Math.fround(scale), zeroPoint };
}

/** The quantized value of one float32 number (quantize_nparray: round(x / scale) + zp, clipped). */
export function quantizeValue(value: number, params: QuantParams, range: QuantRange): number {
  const [lo, hi] = range.kind === 'int8' ? [-128, 127] : [0, 255];
  const q = roundHalfToEven(Math.fround(value / params.scale)) + params.zeroPoint;
  return q < lo ? lo : q > hi ? hi : q;
}

/** A quantized weight: values in the layout of the input, one QuantParams per channel (one when per tensor). */
export interface QuantizedWeight {
  values: Int8Array | Uint8Array;
  params: QuantParams[];
}

/**
 * Quantize a float32 tensor of shape `dims`, per tensor (`axis` null) or with one scale per index
 * of `axis` (per channel).
 */
export function quantizeWeight(
  data: Float32Array,
  dims: readonly number[],
  range: QuantRange,
  axis: number | null,
): QuantizedWeight {
  const values = range.kind === 'int8' ? new Int8Array(data.length) : new Uint8Array(data.length);
  if (axis === null) {
    const { min, max } = minMax(data);
    const params = computeQuantParams(min, max, range);
    for (let i = 0; i < data.length; i++) values[i] = quantizeValue(data[i] as number, params, range);
    return { values, params: [params] };
  }
  const channels = dims[axis] ?? 1;
  // In row-major order an element's channel is (index / inner) % channels.
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const groups: number[][] = Array.from({ length: channels }, () => []);
  for (let i = 0; i < data.length; i++) groups[Math.floor(i / inner) % channels]?.push(data[i] as number);
  const params = groups.map((g) => {
    const { min, max } = minMax(g);
    return computeQuantParams(min, max, range);
  });
  for (let i = 0; i < data.length; i++) {
    const p = params[Math.floor(i / inner) % channels] as QuantParams;
    values[i] = quantizeValue(data[i] as number, p, range);
  }
  return { values, params };
}
