/**
 * The activation ranges static int8 quantization uses, adjusted from the calibrated ones so that
 * onnxruntime can run the QDQ model as one int8 chain (see shareRanges).
 */
import type { NodeProto } from '../onnx/index.js';
import type { ActivationRange } from './calibrate.js';

const isDefault = (n: NodeProto) => n.domain === '' || n.domain === 'ai.onnx';

/**
 * Ops that only move or select values: their output is quantized with their input's scale and zero
 * point, so that onnxruntime can drop the DequantizeLinear/QuantizeLinear pair around them and run
 * them on int8 (with a range of their own, a MaxPool between two QLinearConv stays float and the
 * int8 chain breaks into transposes and conversions).
 */
const SHARED_RANGE_OPS = new Set(['MaxPool', 'Flatten', 'Reshape', 'Transpose']);

/** Ops a following Relu fuses into (QLinearConv, QGemm, QLinearAdd clamp at the zero point). */
const RELU_FUSING_OPS = new Set(['Conv', 'MatMul', 'Gemm', 'Add']);

/**
 * The calibrated ranges adjusted so that onnxruntime can keep the int8 chain unbroken: an op's output
 * read only by a Relu takes the Relu's range (onnxruntime folds the Relu into the op, and with one
 * range no requantizing DequantizeLinear/QuantizeLinear pair is left between them); then each
 * SHARED_RANGE_OPS output takes its input's range (in graph order).
 */
export function shareRanges(
  nodes: readonly NodeProto[],
  ranges: ReadonlyMap<string, ActivationRange>,
): Map<string, ActivationRange> {
  const shared = new Map(ranges);
  const readers = new Map<string, number>();
  for (const n of nodes) for (const x of n.input) if (x !== '') readers.set(x, (readers.get(x) ?? 0) + 1);
  const producer = new Map<string, NodeProto>();
  for (const n of nodes) for (const y of n.output) if (y !== '') producer.set(y, n);
  for (const n of nodes) {
    if (!isDefault(n) || n.opType !== 'Relu') continue;
    const input = n.input[0] ?? '';
    const from = producer.get(input);
    const range = shared.get(n.output[0] ?? '');
    if (from === undefined || !isDefault(from) || !RELU_FUSING_OPS.has(from.opType)) continue;
    if (range !== undefined && readers.get(input) === 1 && shared.has(input)) shared.set(input, range);
  }
  for (const n of nodes) {
    if (!isDefault(n) || !SHARED_RANGE_OPS.has(n.opType)) continue;
    const source = shared.get(n.input[0] ?? '');
    const output = n.output[0];
    if (source !== undefined && output !== undefined && output !== '' && shared.has(output))
      shared.set(output, source);
  }
  return shared;
}
