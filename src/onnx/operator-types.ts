/**
 * Element-type rules of the common ai.onnx operators (including the quantization ones): which
 * inputs of a node must share one element type, which types an input allows, and the output types.
 * Used by the structural model check (check.ts).
 */
import type { NodeProto } from 'onnx-buf';
import { TensorProto_DataType as Elem } from 'onnx-buf';

/** The default ONNX domain, spelled either way. */
export const isDefaultDomain = (domain: string) => domain === '' || domain === 'ai.onnx';

// Element-type rules of common ai.onnx operators: which inputs share a type, and the output type.
const SAME_TYPE_INPUTS = new Set([
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Min',
  'Max',
  'Sum',
  'Mean',
  'MatMul',
  'Gemm',
  'Conv',
  'Concat',
  'PRelu',
  'Range',
]);
const COMPARISONS = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual']);
const OUTPUT_LIKE_FIRST = new Set([
  'Relu',
  'LeakyRelu',
  'Elu',
  'Selu',
  'Sigmoid',
  'HardSigmoid',
  'Tanh',
  'Softplus',
  'Abs',
  'Neg',
  'Floor',
  'Ceil',
  'Round',
  'Sqrt',
  'Exp',
  'Log',
  'Erf',
  'Sin',
  'Cos',
  'Pow',
  'Softmax',
  'LogSoftmax',
  'Identity',
  'Transpose',
  'Reshape',
  'Flatten',
  'Squeeze',
  'Unsqueeze',
  'MaxPool',
  'AveragePool',
  'GlobalAveragePool',
  'GlobalMaxPool',
  'Dropout',
  'LayerNormalization',
  'BatchNormalization',
  'InstanceNormalization',
  'Gelu',
  'Clip',
  'ReduceMean',
  'ReduceSum',
  'ReduceMin',
  'ReduceMax',
  'ReduceProd',
  'ReduceL2',
  'Expand',
  'Tile',
  'Slice',
  'Pad',
  'Gather',
  'GatherElements',
  'Resize',
  'CumSum',
]);
const INT64_OUTPUT = new Set(['Shape', 'Size', 'ArgMax', 'ArgMin', 'NonZero']);
const EIGHT_BIT = [Elem.INT8, Elem.UINT8];

export interface NodeTypes {
  /** Groups of input indices that must share one element type. */
  same: number[][];
  /** Allowed element types per input index. */
  allowed: [number, number[]][];
  /** Inferred output types (undefined: unknown). */
  outputs: (number | undefined)[];
}

function attrInt(node: NodeProto, name: string): number | undefined {
  const attr = node.attribute.find((a) => a.name === name);
  return attr === undefined ? undefined : Number(attr.i);
}

function constantType(node: NodeProto): number | undefined {
  for (const attr of node.attribute) {
    if (attr.name === 'value' && attr.t !== undefined) return attr.t.dataType;
    if (attr.name === 'value_float' || attr.name === 'value_floats') return Elem.FLOAT;
    if (attr.name === 'value_int' || attr.name === 'value_ints') return Elem.INT64;
    if (attr.name === 'value_string' || attr.name === 'value_strings') return Elem.STRING;
  }
  return node.opType === 'ConstantOfShape' ? Elem.FLOAT : undefined;
}

/** The element-type rule of a node, or null for operators this check does not know. */
export function nodeTypes(node: NodeProto, typeOf: (i: number) => number | undefined): NodeTypes | null {
  if (!isDefaultDomain(node.domain)) return null;
  const op = node.opType;
  const all = node.input.map((_, i) => i);
  const first = typeOf(0);
  if (SAME_TYPE_INPUTS.has(op)) return { same: [all], allowed: [], outputs: [first ?? typeOf(1)] };
  if (COMPARISONS.has(op)) return { same: [all], allowed: [], outputs: [Elem.BOOL] };
  // Only the first output: the others differ (MaxPool indices are int64, Dropout's mask bool...).
  if (OUTPUT_LIKE_FIRST.has(op)) return { same: [], allowed: [], outputs: [first] };
  if (INT64_OUTPUT.has(op)) return { same: [], allowed: [], outputs: [Elem.INT64] };
  switch (op) {
    case 'Split':
      return { same: [], allowed: [], outputs: node.output.map(() => first) };
    case 'Where':
      return { same: [[1, 2]], allowed: [[0, [Elem.BOOL]]], outputs: [typeOf(1) ?? typeOf(2)] };
    case 'Cast':
      return { same: [], allowed: [], outputs: [attrInt(node, 'to')] };
    case 'CastLike':
      return { same: [], allowed: [], outputs: [typeOf(1)] };
    case 'Constant':
    case 'ConstantOfShape':
      return { same: [], allowed: [], outputs: [constantType(node)] };
    case 'DynamicQuantizeLinear':
      return { same: [], allowed: [[0, [Elem.FLOAT]]], outputs: [Elem.UINT8, Elem.FLOAT, Elem.UINT8] };
    case 'QuantizeLinear':
      // Opset 21 may name the output type instead of passing a zero point.
      return { same: [], allowed: [], outputs: [typeOf(2) ?? attrInt(node, 'output_dtype') ?? Elem.UINT8] };
    case 'DequantizeLinear':
      return { same: [[0, 2]], allowed: [], outputs: [typeOf(1)] };
    case 'MatMulInteger':
    case 'ConvInteger':
      return {
        same: [
          [0, 2],
          [1, 3],
        ],
        allowed: [
          [0, EIGHT_BIT],
          [1, EIGHT_BIT],
        ],
        outputs: [Elem.INT32],
      };
    default:
      return null;
  }
}
