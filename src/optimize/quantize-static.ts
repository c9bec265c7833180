/**
 * Static int8 quantization in QDQ form (onnxruntime's default for static quantization): every
 * calibrated activation that a supported op reads or writes passes through QuantizeLinear →
 * DequantizeLinear (uint8, asymmetric, the calibrated range), weights are stored int8 (symmetric,
 * per tensor or per output channel) behind a DequantizeLinear, and Conv/Gemm biases int32 with
 * scale x_scale·w_scale. onnxruntime's graph optimizer turns DQ → op → Q into its quantized
 * kernels (QLinearConv, QLinearMatMul, QGemm, QLinearAdd, ...); the job reports which it chose.
 *
 * The producer of a quantized activation writes `<name>_float`, and the DequantizeLinear gives the
 * original name back, so every reader (and the graph's outputs) sees the quantized value and the
 * signature stays the same.
 */
import { errors } from '../core/errors.js';
import {
  AttributeProtoSchema,
  AttributeProto_AttributeType as AttrType,
  clone,
  create,
  ModelProtoSchema,
  NodeProtoSchema,
  readTensorData,
  TensorProto_DataLocation,
  TensorProto_DataType as Elem,
  tensorProto,
} from '../onnx/index.js';
import type { AttributeProto, ModelProto, NodeProto, TensorProto } from '../onnx/index.js';
import type { ActivationRange } from './calibrate.js';
import { GraphScope, referencedNames } from './graph-scope.js';
import { shareRanges } from './quantize-ranges.js';
import { computeQuantParams, quantizeWeight, roundHalfToEven } from './quantize-params.js';
import { quantizableOpset } from './quantize-dynamic.js';

/** Ops whose float activations get QuantizeLinear/DequantizeLinear. */
export const STATIC_QUANTIZED_OPS: readonly string[] = [
  'Conv',
  'MatMul',
  'Gemm',
  'Add',
  'Mul',
  'Relu',
  'MaxPool',
  'AveragePool',
  'GlobalAveragePool',
  'Flatten',
  'Reshape',
  'Transpose',
];
/** Of those, the ops with a constant weight (input 1) stored int8. */
const WEIGHTED_OPS = new Set(['Conv', 'MatMul', 'Gemm']);
/** Inputs that are not activations (shapes, permutations). */
const NON_ACTIVATION_INPUTS: Record<string, number[]> = { Reshape: [1] };

/** Ops whose outputs are never float (booleans, indices, shapes). */
const NON_FLOAT_OPS = new Set([
  'Equal',
  'Less',
  'LessOrEqual',
  'Greater',
  'GreaterOrEqual',
  'Not',
  'And',
  'Or',
  'Xor',
  'IsNaN',
  'IsInf',
  'Shape',
  'Size',
  'NonZero',
  'ArgMax',
  'ArgMin',
]);

export interface QuantizeStaticOptions {
  /** One weight scale per output channel (Conv) or column (MatMul, Gemm); needs opset 13. */
  perChannel?: boolean;
}

export interface QuantizeStaticResult {
  model: ModelProto;
  /** Nodes now reading and writing quantized values. */
  quantized: { node: string; op: string }[];
  skipped: { node: string; op: string; reason: string }[];
}

const isDefault = (n: NodeProto) => n.domain === '' || n.domain === 'ai.onnx';
const label = (n: NodeProto, i: number) => (n.name !== '' ? n.name : `${n.opType} #${i}`);

function intAttr(node: NodeProto, name: string, fallback: number): number {
  const a = node.attribute.find((x) => x.name === name);
  return a === undefined ? fallback : Number(a.i);
}

/** The activation tensors static quantization calibrates: float inputs and outputs of supported ops. */
export function staticTargets(model: ModelProto): string[] {
  const graph = model.graph;
  if (graph === undefined) throw errors.invalidModel('the model has no graph');
  const scope = new GraphScope(graph);
  // Values the graph does not type (exports without shape inference) but whose producer never
  // makes floats, such as an attention mask's Equal: asking onnxruntime for them as float fails.
  const notFloat = new Set<string>();
  for (const node of graph.node) {
    const to = node.attribute.find((a) => a.name === 'to');
    if (
      NON_FLOAT_OPS.has(node.opType) ||
      (node.opType === 'Cast' && to !== undefined && Number(to.i) !== Elem.FLOAT)
    )
      for (const o of node.output) notFloat.add(o);
  }
  const out = new Set<string>();
  for (const node of graph.node) {
    if (!isDefault(node) || !STATIC_QUANTIZED_OPS.includes(node.opType)) continue;
    const skip = NON_ACTIVATION_INPUTS[node.opType] ?? [];
    node.input.forEach((name, i) => {
      if (name === '' || skip.includes(i) || scope.initializers.has(name) || notFloat.has(name)) return;
      const t = scope.elemType(name);
      if (t === undefined || t === Elem.FLOAT) out.add(name);
    });
    const first = node.output[0];
    if (first !== undefined && first !== '') out.add(first);
  }
  return [...out];
}

/**
 * Rewrite a model to QDQ int8 with the calibrated `ranges` (from RangeCollector).
 * @throws TendError TEND_INVALID_MODEL for an unsupported opset or nothing to quantize;
 * TEND_INVALID_ARGUMENT for per-channel weights below opset 13.
 */
export function quantizeStatic(
  model: ModelProto,
  calibrated: ReadonlyMap<string, ActivationRange>,
  options: QuantizeStaticOptions = {},
): QuantizeStaticResult {
  if (model.graph === undefined) throw errors.invalidModel('the model has no graph');
  const ranges = shareRanges(model.graph.node, calibrated);
  const opset = quantizableOpset(model);
  const perChannel = options.perChannel === true;
  if (perChannel && opset < 13)
    throw errors.invalidArgument(`per-channel weights need opset 13 or later; the model uses opset ${opset}`);
  const out = clone(ModelProtoSchema, model);
  const graph = out.graph as NonNullable<ModelProto['graph']>;
  const scope = new GraphScope(graph);
  const added: TensorProto[] = [];
  const attr = (name: string, i: number): AttributeProto =>
    create(AttributeProtoSchema, { name, type: AttrType.INT, i: BigInt(i) });
  const node = (
    opType: string,
    input: string[],
    output: string[],
    base: string,
    attribute: AttributeProto[] = [],
  ) => create(NodeProtoSchema, { name: scope.freshNode(base), opType, input, output, attribute });
  const scalar = (base: string, value: number, type: 'FP32' | 'UINT8' | 'INT8' | 'INT32') => {
    const name = scope.fresh(base);
    const data =
      type === 'FP32'
        ? Float32Array.of(value)
        : type === 'UINT8'
          ? Uint8Array.of(value)
          : type === 'INT8'
            ? Int8Array.of(value)
            : Int32Array.of(value);
    added.push(tensorProto(name, data, [], type));
    return name;
  };

  // Which nodes to quantize, and the activation scales they will see.
  const quantized: QuantizeStaticResult['quantized'] = [];
  const skipped: QuantizeStaticResult['skipped'] = [];
  const activationScale = new Map<string, number>();
  const chosen = new Set<NodeProto>();
  graph.node.forEach((n, i) => {
    if (!isDefault(n) || !STATIC_QUANTIZED_OPS.includes(n.opType)) return;
    const missing = [
      ...n.input.filter(
        (x, k) =>
          x !== '' && !scope.initializers.has(x) && !(NON_ACTIVATION_INPUTS[n.opType] ?? []).includes(k),
      ),
      n.output[0] ?? '',
    ].filter((x) => !ranges.has(x));
    if (missing.length > 0) {
      skipped.push({ node: label(n, i), op: n.opType, reason: `no calibrated range for '${missing[0]}'` });
      return;
    }
    if (WEIGHTED_OPS.has(n.opType)) {
      const w = n.input[1] ?? '';
      const t = scope.initializers.get(w);
      if (
        t !== undefined &&
        (t.dataType !== Elem.FLOAT ||
          t.dataLocation === TensorProto_DataLocation.EXTERNAL ||
          scope.graphInputs.has(w))
      ) {
        skipped.push({
          node: label(n, i),
          op: n.opType,
          reason: `weight '${w}' is not a float constant stored in the model`,
        });
        return;
      }
      if (n.opType === 'Gemm' && intAttr(n, 'transA', 0) !== 0) {
        skipped.push({ node: label(n, i), op: n.opType, reason: 'Gemm with transA stays float' });
        return;
      }
    }
    chosen.add(n);
    quantized.push({ node: label(n, i), op: n.opType });
  });
  if (quantized.filter((q) => WEIGHTED_OPS.has(q.op)).length === 0) {
    throw errors.invalidModel(
      'the model has no Conv, MatMul or Gemm that static int8 quantization can rewrite' +
        (skipped.length > 0
          ? `; ${skipped
              .slice(0, 3)
              .map((s) => `${s.node}: ${s.reason}`)
              .join('; ')}`
          : ''),
    );
  }

  // Activations: the tensors chosen nodes read or write.
  const activations = new Set<string>();
  for (const n of chosen) {
    const skip = NON_ACTIVATION_INPUTS[n.opType] ?? [];
    n.input.forEach((x, k) => {
      if (x !== '' && !scope.initializers.has(x) && !skip.includes(k)) activations.add(x);
    });
    activations.add(n.output[0] ?? '');
  }
  const qdq = (name: string, source: string): NodeProto[] => {
    const r = ranges.get(name) as ActivationRange;
    const p = computeQuantParams(r.min, r.max, { kind: 'uint8' });
    activationScale.set(name, p.scale);
    const s = scalar(`${name}_scale`, p.scale, 'FP32');
    const z = scalar(`${name}_zero_point`, p.zeroPoint, 'UINT8');
    const q = scope.fresh(`${name}_quantized`);
    return [
      node('QuantizeLinear', [source, s, z], [q], `${name}_QuantizeLinear`),
      node('DequantizeLinear', [q, s, z], [name], `${name}_DequantizeLinear`),
    ];
  };

  const weightCache = new Map<string, string>();
  const weight = (n: NodeProto): [string, number[]] => {
    const w = n.input[1] ?? '';
    const t = scope.initializers.get(w) as TensorProto;
    const dims = t.dims.map(Number);
    const axis = !perChannel
      ? null
      : n.opType === 'Conv'
        ? 0
        : n.opType === 'Gemm' && intAttr(n, 'transB', 0) !== 0
          ? 0
          : dims.length === 2
            ? 1
            : null;
    const key = `${w}/${axis}`;
    const q = quantizeWeight(
      readTensorData(t).data as Float32Array,
      dims,
      { kind: 'int8', reduceRange: false },
      axis,
    );
    const scales = q.params.map((p) => p.scale);
    const cached = weightCache.get(key);
    if (cached !== undefined) return [cached, scales];
    const qName = scope.fresh(`${w}_quantized`);
    added.push(tensorProto(qName, q.values, dims, 'INT8'));
    const sName = scope.fresh(`${w}_scale`);
    const zName = scope.fresh(`${w}_zero_point`);
    added.push(tensorProto(sName, Float32Array.from(scales), axis === null ? [] : [scales.length], 'FP32'));
    added.push(
      tensorProto(zName, new Int8Array(scales.length), axis === null ? [] : [scales.length], 'INT8'),
    );
    const dq = scope.fresh(`${w}_dequantized`);
    nodes.push(
      node(
        'DequantizeLinear',
        [qName, sName, zName],
        [dq],
        `${w}_DequantizeLinear`,
        axis === null ? [] : [attr('axis', axis)],
      ),
    );
    weightCache.set(key, dq);
    return [dq, scales];
  };
  const bias = (name: string, xScale: number, wScales: number[]): string | null => {
    const t = scope.initializers.get(name);
    if (t === undefined || t.dataType !== Elem.FLOAT || t.dims.length !== 1) return null;
    const b = readTensorData(t).data as Float32Array;
    if (wScales.length !== 1 && wScales.length !== b.length) return null;
    const scales = Float32Array.from(
      b,
      (_, i) => xScale * (wScales.length === 1 ? (wScales[0] as number) : (wScales[i] as number)),
    );
    const q = Int32Array.from(b, (v, i) => {
      const s = scales[i] as number;
      return s > 0 ? Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, roundHalfToEven(v / s))) : 0;
    });
    const qName = scope.fresh(`${name}_quantized`);
    const sName = scope.fresh(`${name}_scale`);
    const zName = scope.fresh(`${name}_zero_point`);
    added.push(
      tensorProto(qName, q, [b.length], 'INT32'),
      tensorProto(sName, scales, [b.length], 'FP32'),
      tensorProto(zName, new Int32Array(b.length), [b.length], 'INT32'),
    );
    const dq = scope.fresh(`${name}_dequantized`);
    nodes.push(
      node('DequantizeLinear', [qName, sName, zName], [dq], `${name}_DequantizeLinear`, [attr('axis', 0)]),
    );
    return dq;
  };
  const constant = (name: string): string => {
    // A float constant read by Add/Mul: uint8 asymmetric, like the activation it meets.
    const t = scope.initializers.get(name) as TensorProto;
    const dims = t.dims.map(Number);
    const q = quantizeWeight(readTensorData(t).data as Float32Array, dims, { kind: 'uint8' }, null);
    const p = q.params[0] as { scale: number; zeroPoint: number };
    const qName = scope.fresh(`${name}_quantized`);
    added.push(tensorProto(qName, q.values, dims, 'UINT8'));
    const dq = scope.fresh(`${name}_dequantized`);
    nodes.push(
      node(
        'DequantizeLinear',
        [qName, scalar(`${name}_scale`, p.scale, 'FP32'), scalar(`${name}_zero_point`, p.zeroPoint, 'UINT8')],
        [dq],
        `${name}_DequantizeLinear`,
      ),
    );
    return dq;
  };

  const nodes: NodeProto[] = [];
  const renamed = new Map<string, string>(); // graph input → its dequantized copy
  for (const input of graph.input) {
    if (!activations.has(input.name)) continue;
    const dq = scope.fresh(`${input.name}_dequantized`);
    const parts = qdq(input.name, input.name);
    (parts[1] as NodeProto).output = [dq];
    nodes.push(...parts);
    renamed.set(input.name, dq);
  }
  for (const n of graph.node) {
    const x0 = n.input[0] ?? '';
    n.input = n.input.map((x) => renamed.get(x) ?? x);
    if (chosen.has(n)) {
      if (WEIGHTED_OPS.has(n.opType) && scope.initializers.has(n.input[1] ?? '')) {
        const [dq, scales] = weight(n);
        n.input[1] = dq;
        const xScale = activationScale.get(x0);
        if (n.input[2] !== undefined && n.input[2] !== '' && xScale !== undefined && n.opType !== 'MatMul') {
          const b = bias(n.input[2], xScale, scales);
          if (b !== null) n.input[2] = b;
        }
      }
      if (n.opType === 'Add' || n.opType === 'Mul')
        n.input = n.input.map((x) =>
          scope.initializers.has(x) && scope.initializers.get(x)?.dataType === Elem.FLOAT ? constant(x) : x,
        );
    }
    const first = n.output[0] ?? '';
    if (activations.has(first) && !renamed.has(first)) {
      const float = scope.fresh(`${first}_float`);
      n.output[0] = float;
      nodes.push(n, ...qdq(first, float));
    } else nodes.push(n);
  }
  graph.node = nodes;
  graph.initializer.push(...added);
  const read = referencedNames(graph);
  graph.initializer = graph.initializer.filter((t) => read.has(t.name));
  return { model: out, quantized, skipped };
}
