/**
 * Dynamic int8 quantization of an ONNX model (what onnxruntime's `quantize_dynamic` does, in
 * TypeScript): constant weights of MatMul, Gemm (rewritten to MatMul + Add), Conv and Gather are
 * stored quantized; activations are quantized at run time by DynamicQuantizeLinear.
 *
 * Choices, all onnxruntime's (onnxruntime/python/tools/quantization):
 * - MatMul/Gemm/Conv weights: int8 symmetric (zero point 0, scale = max|w| / 127, or / 64 with
 *   reduce range); per channel = one scale per output column (MatMul) or output channel (Conv).
 * - Gather tables: uint8 asymmetric per tensor (the quantizer treats them as activations).
 * - Gemm only without alpha/beta ≠ 1 and without transA; a transB weight is stored transposed.
 * One DynamicQuantizeLinear per quantized node (not one per input value): onnxruntime fuses it into
 * DynamicQuantizeMatMul only when its outputs feed a single MatMulInteger.
 */
import { errors } from '../core/errors.js';
import {
  clone,
  ModelProtoSchema,
  TensorProto_DataLocation,
  TensorProto_DataType as Elem,
} from '../onnx/index.js';
import type { ModelProto, NodeProto, TensorProto } from '../onnx/index.js';
import { onnxTypeName } from '../onnx/index.js';
import { DynamicRewriter } from './dynamic-rewrite.js';
import { GraphScope, referencedNames } from './graph-scope.js';
import { weightBytes } from './weight-bytes.js';
import type { WeightBytes } from './weight-bytes.js';

/** Op types whose weights int8-dynamic quantizes. */
export const QUANTIZABLE_OPS: readonly string[] = ['MatMul', 'Gemm', 'Conv', 'Gather'];

/** Lowest ai.onnx opset: MatMulInteger, ConvInteger and QuantizeLinear appear in opset 10. */
export const MIN_QUANTIZE_OPSET = 10;
/** Highest ai.onnx opset onnxruntime-node 1.30 loads (it refuses 27 and later). */
export const MAX_QUANTIZE_OPSET = 26;

export interface QuantizeDynamicOptions {
  /** One scale per output channel/column instead of one per weight tensor (MatMul, Gemm, Conv). */
  perChannel?: boolean;
  /** 7-bit weights ([-64, 64]): avoids int16 overflow in the u8×s8 kernels of CPUs without VNNI. */
  reduceRange?: boolean;
  /** Node names or op types (`Conv`, `Gather`...) to leave in float. */
  exclude?: string[];
}

export interface QuantizedNode {
  node: string;
  op: string;
  /** The float initializer now stored quantized. */
  weight: string;
}

export interface SkippedNode {
  node: string;
  op: string;
  reason: string;
}

export interface QuantizeDynamicResult {
  /** A new model; the input is not changed. */
  model: ModelProto;
  quantized: QuantizedNode[];
  skipped: SkippedNode[];
  /** Initializer bytes of the input model and of the quantized one. */
  weights: { before: WeightBytes; after: WeightBytes };
}

/** The model's ai.onnx opset, checked against what the rewrite and onnxruntime-node support. */
export function quantizableOpset(model: ModelProto): number {
  const imports = model.opsetImport.filter((o) => o.domain === '' || o.domain === 'ai.onnx');
  if (imports.length === 0)
    throw errors.invalidModel('the model imports no ai.onnx opset, so its operators are undefined');
  const opset = Number(imports[0]?.version ?? 0n);
  if (opset < MIN_QUANTIZE_OPSET) {
    throw errors.invalidModel(
      `the model uses ai.onnx opset ${opset}; int8 quantization needs opset ${MIN_QUANTIZE_OPSET} or later ` +
        '(MatMulInteger and ConvInteger) — convert the model to a newer opset first',
    );
  }
  if (opset > MAX_QUANTIZE_OPSET) {
    throw errors.invalidModel(
      `the model uses ai.onnx opset ${opset}, newer than onnxruntime-node 1.30 loads ` +
        `(opset ${MAX_QUANTIZE_OPSET} at most) — export it with opset ${MAX_QUANTIZE_OPSET} or lower`,
    );
  }
  return opset;
}

function checkOptions(options: QuantizeDynamicOptions): string[] {
  const exclude = options.exclude ?? [];
  if (!Array.isArray(exclude) || exclude.some((e) => typeof e !== 'string' || e === '')) {
    throw errors.invalidArgument('exclude must be a list of node names or op types (non-empty strings)');
  }
  for (const key of ['perChannel', 'reduceRange'] as const) {
    const value = options[key];
    if (value !== undefined && typeof value !== 'boolean')
      throw errors.invalidArgument(`${key} must be true or false`);
  }
  return exclude;
}

/** Why a float initializer cannot be quantized for a node, or null when it can. */
function weightProblem(scope: GraphScope, name: string, what: string): string | null {
  const tensor = scope.initializers.get(name);
  if (tensor === undefined) return `${what} '${name}' is computed at run time, not a constant initializer`;
  if (scope.graphInputs.has(name))
    return `${what} '${name}' is also a graph input, so callers may replace it`;
  if (tensor.dataType !== Elem.FLOAT)
    return `${what} '${name}' is ${onnxTypeName(tensor.dataType)}, not float`;
  if (tensor.dataLocation === TensorProto_DataLocation.EXTERNAL)
    return `${what} '${name}' is stored in an external file`;
  if (tensor.dims.some((d) => d === 0n)) return `${what} '${name}' is empty`;
  return null;
}

function intAttr(node: NodeProto, name: string, fallback: number): number {
  const attr = node.attribute.find((a) => a.name === name);
  return attr === undefined ? fallback : Number(attr.i);
}

function floatAttr(node: NodeProto, name: string, fallback: number): number {
  const attr = node.attribute.find((a) => a.name === name);
  return attr === undefined ? fallback : attr.f;
}

type Plan = { skip: string } | { weight: TensorProto; emit: (base: string) => NodeProto[] };

function plan(node: NodeProto, scope: GraphScope, rewriter: DynamicRewriter): Plan {
  const [x = '', w = '', bias = ''] = node.input;
  const inputType = scope.elemType(x);
  const floatInput = () =>
    inputType === undefined || inputType === Elem.FLOAT
      ? null
      : `input '${x}' is ${onnxTypeName(inputType)}, not float`;
  switch (node.opType) {
    case 'MatMul':
    case 'Gemm': {
      const problem = weightProblem(scope, w, 'weight') ?? floatInput();
      if (problem !== null) return { skip: problem };
      const weight = scope.initializers.get(w) as TensorProto;
      if (weight.dims.length !== 2)
        return { skip: `weight '${w}' has rank ${weight.dims.length}; only 2-D weights are quantized` };
      if (node.opType === 'MatMul') {
        return { weight, emit: (base) => rewriter.matMul(x, weight, false, '', node.output[0] ?? '', base) };
      }
      if (
        floatAttr(node, 'alpha', 1) !== 1 ||
        floatAttr(node, 'beta', 1) !== 1 ||
        intAttr(node, 'transA', 0) !== 0
      ) {
        return { skip: 'Gemm with alpha or beta other than 1, or transA, stays float (as in onnxruntime)' };
      }
      const transposed = intAttr(node, 'transB', 0) !== 0;
      return {
        weight,
        emit: (base) => rewriter.matMul(x, weight, transposed, bias, node.output[0] ?? '', base),
      };
    }
    case 'Conv': {
      const problem = weightProblem(scope, w, 'weight') ?? floatInput();
      if (problem !== null) return { skip: problem };
      const weight = scope.initializers.get(w) as TensorProto;
      if (weight.dims.length < 3)
        return { skip: `weight '${w}' has rank ${weight.dims.length}; Conv weights have rank 3 or more` };
      return { weight, emit: (base) => rewriter.conv(node, weight, base) };
    }
    default: {
      const problem = weightProblem(scope, x, 'data');
      if (problem !== null) return { skip: problem };
      const table = scope.initializers.get(x) as TensorProto;
      return { weight: table, emit: (base) => rewriter.gather(node, table, base) };
    }
  }
}

/**
 * Quantize a model's weights to int8 for dynamic (run-time) activation quantization.
 * @example
 * const { model: int8, quantized, skipped } = quantizeDynamic(readModelFile('model.onnx'), { perChannel: true });
 * @throws TendError TEND_INVALID_MODEL for an unsupported opset or a model with nothing to quantize;
 * TEND_INVALID_ARGUMENT for bad options or an exclude entry that names nothing in the model.
 */
export function quantizeDynamic(
  model: ModelProto,
  options: QuantizeDynamicOptions = {},
): QuantizeDynamicResult {
  const exclude = checkOptions(options);
  if (model.graph === undefined) throw errors.invalidModel('the model has no graph');
  const opset = quantizableOpset(model);
  const out = clone(ModelProtoSchema, model);
  const graph = out.graph as NonNullable<ModelProto['graph']>;

  const known = new Set([...QUANTIZABLE_OPS, ...graph.node.flatMap((n) => [n.name, n.opType])]);
  const unknown = exclude.filter((e) => !known.has(e));
  if (unknown.length > 0) {
    throw errors.invalidArgument(
      `exclude names no node or op type of the model: ${unknown.map((e) => `'${e}'`).join(', ')}`,
    );
  }
  const excluded = new Set(exclude);

  const scope = new GraphScope(graph);
  const rewriter = new DynamicRewriter(scope, {
    perChannel: options.perChannel ?? false,
    reduceRange: options.reduceRange ?? false,
    opset,
  });
  const quantized: QuantizedNode[] = [];
  const skipped: SkippedNode[] = [];
  const nodes: NodeProto[] = [];
  graph.node.forEach((node, index) => {
    const isDefaultDomain = node.domain === '' || node.domain === 'ai.onnx';
    if (!isDefaultDomain || !QUANTIZABLE_OPS.includes(node.opType)) {
      nodes.push(node);
      return;
    }
    const label = node.name !== '' ? node.name : `${node.opType} #${index}`;
    const result =
      excluded.has(node.name) || excluded.has(node.opType)
        ? { skip: 'excluded' }
        : plan(node, scope, rewriter);
    if ('skip' in result) {
      skipped.push({ node: label, op: node.opType, reason: result.skip });
      nodes.push(node);
      return;
    }
    nodes.push(...result.emit(node.name !== '' ? node.name : `${node.opType}_${index}`));
    quantized.push({ node: label, op: node.opType, weight: result.weight.name });
  });

  if (quantized.length === 0) {
    const reasons = [...new Set(skipped.map((s) => `${s.op}: ${s.reason}`))].slice(0, 3);
    throw errors.invalidModel(
      'the model has no node that int8 dynamic quantization can rewrite (MatMul or Gemm with a constant float ' +
        `weight, Conv, Gather on a constant table)${reasons.length > 0 ? `; ${reasons.join('; ')}` : ''}`,
    );
  }

  graph.node = nodes;
  graph.initializer.push(...rewriter.initializers);
  // A float weight stays when anything still reads it (an excluded node, another op, a subgraph).
  const stillRead = referencedNames(graph);
  graph.initializer = graph.initializer.filter(
    (t) => !rewriter.replacedWeights.has(t.name) || stillRead.has(t.name),
  );
  return { model: out, quantized, skipped, weights: { before: weightBytes(model), after: weightBytes(out) } };
}
