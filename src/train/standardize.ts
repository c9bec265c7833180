/**
 * Per-feature standardization, z = (x − mean) / std. The statistics come from the training rows
 * only and are exported into the graph, so clients send raw feature values.
 */
import { errors } from '../core/errors.js';

export interface Standardization {
  mean: Float64Array;
  /** Population standard deviation; a constant feature gets 1 so that it maps to 0 instead of NaN. */
  std: Float64Array;
}

/** Mean and population standard deviation of each column of a row-major matrix. */
export function fitStandardization(
  values: Float64Array | Float32Array,
  rows: number,
  width: number,
): Standardization {
  if (rows < 1 || values.length !== rows * width) {
    throw errors.invalidArgument(`expected ${rows} × ${width} values, got ${values.length}`);
  }
  const mean = new Float64Array(width);
  const std = new Float64Array(width);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < width; c++) mean[c] = (mean[c] as number) + (values[r * width + c] as number);
  }
  for (let c = 0; c < width; c++) mean[c] = (mean[c] as number) / rows;
  // Two passes: summing squared deviations is stable where E[x²] − E[x]² is not.
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < width; c++) {
      const d = (values[r * width + c] as number) - (mean[c] as number);
      std[c] = (std[c] as number) + d * d;
    }
  }
  for (let c = 0; c < width; c++) {
    const s = Math.sqrt((std[c] as number) / rows);
    std[c] = s > 0 ? s : 1;
  }
  return { mean, std };
}

/** Standardize a row-major matrix into a new Float64Array, the same arithmetic as the graph's Sub then Div. */
export function standardize(
  values: Float64Array | Float32Array,
  rows: number,
  stats: Standardization,
): Float64Array {
  const width = stats.mean.length;
  if (values.length !== rows * width) {
    throw errors.invalidArgument(`expected ${rows} × ${width} values, got ${values.length}`);
  }
  const out = new Float64Array(values.length);
  for (let r = 0; r < rows; r++) {
    const base = r * width;
    for (let c = 0; c < width; c++) {
      out[base + c] = ((values[base + c] as number) - (stats.mean[c] as number)) / (stats.std[c] as number);
    }
  }
  return out;
}

/** The statistics rounded to float32, the precision the exported graph stores them in. */
export function standardizationAsFloat32(stats: Standardization): Standardization {
  const std = Float64Array.from(Float32Array.from(stats.std));
  // A std below float32's range would round to 0 and divide by zero in the graph.
  for (let c = 0; c < std.length; c++) if (!((std[c] as number) > 0)) std[c] = 1;
  return { mean: Float64Array.from(Float32Array.from(stats.mean)), std };
}
