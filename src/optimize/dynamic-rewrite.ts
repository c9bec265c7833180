/**
 * The node patterns of dynamic int8 quantization, shaped as onnxruntime's quantizer writes them so
 * that onnxruntime's graph optimizer fuses them (DynamicQuantizeLinear + MatMulInteger + Cast + Mul
 * (+ Add) → com.microsoft.DynamicQuantizeMatMul):
 *
 *   MatMul / Gemm: x → DynamicQuantizeLinear → (xq, xs, xz); MatMulInteger(xq, Wq, xz, Wz) → Cast →
 *                  Mul(·, Mul(xs, Ws)) (→ Add(·, C) for a Gemm bias)
 *   Conv:          the same with ConvInteger and the Conv attributes, bias added after a Reshape
 *   Gather:        Gather(Tq, ids) → DequantizeLinear(·, Ts, Tz)
 */
import {
  AttributeProtoSchema,
  AttributeProto_AttributeType as AttrType,
  create,
  NodeProtoSchema,
  readTensorData,
  TensorProto_DataType as Elem,
  tensorProto,
} from '../onnx/index.js';
import type { AttributeProto, NodeProto, TensorProto } from '../onnx/index.js';
import type { GraphScope } from './graph-scope.js';
import { quantizeWeight } from './quantize-params.js';
import type { QuantRange } from './quantize-params.js';

/** How a weight is laid out for the node that reads it; each layout is quantized once per weight. */
export type WeightLayout = 'matmul' | 'matmul-transposed' | 'conv' | 'gather';

export interface PreparedWeight {
  quantized: string;
  scale: string;
  zeroPoint: string;
}

export interface RewriteOptions {
  perChannel: boolean;
  reduceRange: boolean;
  /** ai.onnx opset of the model; DynamicQuantizeLinear exists from 11. */
  opset: number;
}

const FLOAT32_MIN_NORMAL = 1.1754943508222875e-38;

function intAttribute(name: string, value: number): AttributeProto {
  return create(AttributeProtoSchema, { name, type: AttrType.INT, i: BigInt(value) });
}

function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c] as number;
  return out;
}

/** Emits the quantized nodes and initializers of one model; remembers which weights it quantized. */
export class DynamicRewriter {
  /** Initializers to append to the graph. */
  readonly initializers: TensorProto[] = [];
  /** Float weights that some rewritten node no longer reads. */
  readonly replacedWeights = new Set<string>();
  private readonly prepared = new Map<string, PreparedWeight>();
  private readonly constants = new Map<string, string>();

  constructor(
    private readonly scope: GraphScope,
    private readonly options: RewriteOptions,
  ) {}

  private node(
    opType: string,
    inputs: string[],
    outputs: string[],
    name: string,
    attribute: AttributeProto[] = [],
  ) {
    return create(NodeProtoSchema, {
      name: this.scope.freshNode(name),
      opType,
      input: inputs,
      output: outputs,
      attribute,
    });
  }

  /** A scalar float constant shared by every node that needs it (the opset-10 activation pattern). */
  private floatConstant(label: string, value: number): string {
    let name = this.constants.get(label);
    if (name === undefined) {
      name = this.scope.fresh(`tend_quant_${label}`);
      this.initializers.push(tensorProto(name, new Float32Array([value]), []));
      this.constants.set(label, name);
    }
    return name;
  }

  /** Quantize a float32 initializer for a layout (cached, so a shared weight is stored once). */
  prepareWeight(weight: TensorProto, layout: WeightLayout): PreparedWeight {
    const key = `${layout}\u0000${weight.name}`;
    const cached = this.prepared.get(key);
    if (cached !== undefined) return cached;
    const { data, dims } = readTensorData(weight);
    let values = data as Float32Array;
    let shape = dims;
    if (layout === 'matmul-transposed') {
      const [rows = 0, cols = 0] = dims;
      values = transpose2d(values, rows, cols);
      shape = [cols, rows];
    }
    const range: QuantRange =
      layout === 'gather' ? { kind: 'uint8' } : { kind: 'int8', reduceRange: this.options.reduceRange };
    const perChannel = this.options.perChannel && layout !== 'gather';
    // MatMul weights [K, N] get one scale per output column; Conv weights [M, C/g, k...] one per output channel.
    const axis = perChannel ? (layout === 'conv' ? 0 : shape.length - 1) : null;
    const q = quantizeWeight(values, shape, range, axis);
    const base = layout === 'matmul-transposed' ? `${weight.name}_transposed` : weight.name;
    const names: PreparedWeight = {
      quantized: this.scope.fresh(`${base}_quantized`),
      scale: this.scope.fresh(`${base}_scale`),
      zeroPoint: this.scope.fresh(`${base}_zero_point`),
    };
    const scales = new Float32Array(q.params.map((p) => p.scale));
    let scaleDims: number[] = [];
    const firstZeroPoint = q.params[0]?.zeroPoint ?? 0;
    let zeroPoints: Int8Array | Uint8Array =
      range.kind === 'int8' ? new Int8Array(1) : new Uint8Array([firstZeroPoint]);
    let zeroDims: number[] = [];
    if (axis !== null && layout === 'conv') {
      // ConvInteger takes one weight zero point only; with symmetric weights it is 0 for every channel,
      // so the per-channel scales are applied after the integer convolution, broadcast over [N, M, ...].
      scaleDims = [scales.length, ...shape.slice(2).map(() => 1)];
    } else if (axis !== null) {
      scaleDims = [scales.length];
      zeroPoints = new Int8Array(scales.length);
      zeroDims = [scales.length];
    }
    this.initializers.push(
      tensorProto(names.quantized, q.values, shape, range.kind === 'int8' ? 'INT8' : 'UINT8'),
      tensorProto(names.scale, scales, scaleDims),
      tensorProto(names.zeroPoint, zeroPoints, zeroDims, range.kind === 'int8' ? 'INT8' : 'UINT8'),
    );
    this.prepared.set(key, names);
    this.replacedWeights.add(weight.name);
    return names;
  }

  /** Nodes that quantize a float activation to uint8 at run time: (quantized, scale, zero point). */
  private quantizeActivation(input: string, base: string, nodes: NodeProto[]): [string, string, string] {
    const q = this.scope.fresh(`${base}_input_quantized`);
    const scale = this.scope.fresh(`${base}_input_scale`);
    const zp = this.scope.fresh(`${base}_input_zero_point`);
    if (this.options.opset >= 11) {
      nodes.push(this.node('DynamicQuantizeLinear', [input], [q, scale, zp], `${base}_QuantizeInput`));
      return [q, scale, zp];
    }
    // Opset 10 has no DynamicQuantizeLinear: compute its formula with plain ops (the range always
    // holds 0; a zero range gets the smallest normal scale instead of dividing by zero; Round is
    // opset 11, so the zero point is floor(v + 0.5)).
    const zero = this.floatConstant('zero', 0);
    const value = (label: string) => this.scope.fresh(`${base}_input_${label}`);
    const step = (opType: string, inputs: string[], label: string, attributes: AttributeProto[] = []) => {
      const output = value(label);
      nodes.push(this.node(opType, inputs, [output], `${base}_input_${label}`, attributes));
      return output;
    };
    const min = step(
      'Min',
      [step('ReduceMin', [input], 'min_raw', [intAttribute('keepdims', 0)]), zero],
      'min',
    );
    const max = step(
      'Max',
      [step('ReduceMax', [input], 'max_raw', [intAttribute('keepdims', 0)]), zero],
      'max',
    );
    const rawScale = step(
      'Div',
      [step('Sub', [max, min], 'range'), this.floatConstant('qrange_uint8', 255)],
      'scale_raw',
    );
    nodes.push(
      this.node(
        'Max',
        [rawScale, this.floatConstant('min_scale', FLOAT32_MIN_NORMAL)],
        [scale],
        `${base}_input_scale`,
      ),
    );
    const zpFloat = step('Div', [step('Sub', [zero, min], 'neg_min'), scale], 'zp_float');
    const zpRounded = step(
      'Floor',
      [step('Add', [zpFloat, this.floatConstant('half', 0.5)], 'zp_half')],
      'zp_rounded',
    );
    nodes.push(
      this.node('Cast', [zpRounded], [zp], `${base}_input_zero_point`, [intAttribute('to', Elem.UINT8)]),
      this.node('QuantizeLinear', [input, scale, zp], [q], `${base}_QuantizeInput`),
    );
    return [q, scale, zp];
  }

  /** The integer op, its Cast to float and the multiplication by both scales; returns the scaled output. */
  private integerOp(
    opType: 'MatMulInteger' | 'ConvInteger',
    input: string,
    weight: PreparedWeight,
    output: string,
    base: string,
    attributes: AttributeProto[],
    nodes: NodeProto[],
  ): void {
    const [q, scale, zp] = this.quantizeActivation(input, base, nodes);
    const acc = this.scope.fresh(`${base}_output_quantized`);
    const accFloat = this.scope.fresh(`${base}_output_quantized_cast`);
    const scales = this.scope.fresh(`${base}_scales_mul`);
    nodes.push(
      this.node(opType, [q, weight.quantized, zp, weight.zeroPoint], [acc], `${base}_quant`, attributes),
      this.node('Cast', [acc], [accFloat], `${base}_output_cast`, [intAttribute('to', Elem.FLOAT)]),
      this.node('Mul', [scale, weight.scale], [scales], `${base}_scales_mul`),
      this.node('Mul', [accFloat, scales], [output], `${base}_output_scale_mul`),
    );
  }

  /** MatMul(x, W) or Gemm(x, W, C) without alpha/beta/transA, as x·W (+ C). */
  matMul(
    x: string,
    weight: TensorProto,
    transposed: boolean,
    bias: string,
    output: string,
    base: string,
  ): NodeProto[] {
    const nodes: NodeProto[] = [];
    const prepared = this.prepareWeight(weight, transposed ? 'matmul-transposed' : 'matmul');
    const scaled = bias === '' ? output : this.scope.fresh(`${base}_MatMul_output`);
    this.integerOp('MatMulInteger', x, prepared, scaled, base, [], nodes);
    // The bias goes second: onnxruntime folds a constant second Add input into the fused kernel.
    if (bias !== '') nodes.push(this.node('Add', [scaled, bias], [output], `${base}_bias_add`));
    return nodes;
  }

  /** Conv(x, W, B?) with its attributes kept on ConvInteger. */
  conv(node: NodeProto, weight: TensorProto, base: string): NodeProto[] {
    const nodes: NodeProto[] = [];
    const [x = '', , bias = ''] = node.input;
    const output = node.output[0] ?? '';
    const prepared = this.prepareWeight(weight, 'conv');
    const scaled = bias === '' ? output : this.scope.fresh(`${base}_output_scaled`);
    this.integerOp('ConvInteger', x, prepared, scaled, base, node.attribute, nodes);
    if (bias !== '') {
      // The bias [M] is reshaped to [1, M, 1, ...] to broadcast over [N, M, spatial...].
      const shape = this.scope.fresh(`${base}_bias_reshape_shape`);
      const rank = weight.dims.length;
      const dims = Array.from({ length: rank }, (_, i) => (i === 1 ? -1n : 1n));
      this.initializers.push(tensorProto(shape, new BigInt64Array(dims), [rank]));
      const reshaped = this.scope.fresh(`${base}_bias_reshape_output`);
      nodes.push(
        this.node('Reshape', [bias, shape], [reshaped], `${base}_bias_reshape`),
        this.node('Add', [scaled, reshaped], [output], `${base}_bias_add`),
      );
    }
    return nodes;
  }

  /** Gather(T, ids) on a uint8 table, dequantized right after. */
  gather(node: NodeProto, table: TensorProto, base: string): NodeProto[] {
    const prepared = this.prepareWeight(table, 'gather');
    const output = node.output[0] ?? '';
    const gathered = this.scope.fresh(`${output}_quantized`);
    return [
      this.node(
        'Gather',
        [prepared.quantized, node.input[1] ?? ''],
        [gathered],
        `${base}_quant`,
        node.attribute,
      ),
      this.node(
        'DequantizeLinear',
        [gathered, prepared.scale, prepared.zeroPoint],
        [output],
        `${base}_dequantize`,
      ),
    ];
  }
}
