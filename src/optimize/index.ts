/** The optimize layer: model rewrites that make serving cheaper (int8 dynamic quantization first). */
export {
  MAX_QUANTIZE_OPSET,
  MIN_QUANTIZE_OPSET,
  QUANTIZABLE_OPS,
  quantizableOpset,
  quantizeDynamic,
} from './quantize-dynamic.js';
export type { QuantizeDynamicOptions, QuantizeDynamicResult, QuantizedNode, SkippedNode } from './quantize-dynamic.js';
export { computeQuantParams, quantizeValue, quantizeWeight, roundHalfToEven } from './quantize-params.js';
export type { QuantParams, QuantRange, QuantizedWeight } from './quantize-params.js';
export { quantizedWeightRatio, tensorBytes, weightBytes } from './weight-bytes.js';
export type { WeightBytes } from './weight-bytes.js';
export { fusedKernels, opTypeCounts } from './fused-kernels.js';
export type { KernelReport } from './fused-kernels.js';
