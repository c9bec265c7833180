/** The optimize layer: model rewrites that make serving cheaper (int8 dynamic quantization first). */
export { quantizeDynamic } from './quantize-dynamic.js';
export { quantizedWeightRatio, weightBytes } from './weight-bytes.js';
export { fusedKernels } from './fused-kernels.js';
export { convertFloat16 } from './float16.js';
export {
  CALIBRATION_METHODS,
  DEFAULT_PERCENTILE,
  RangeCollector,
  withCalibrationOutputs,
} from './calibrate.js';
export type { ActivationRange, CalibrationMethod } from './calibrate.js';
export { quantizeStatic, staticTargets, STATIC_QUANTIZED_OPS } from './quantize-static.js';
export { magnitudePrune, structuredPrune } from './prune.js';
