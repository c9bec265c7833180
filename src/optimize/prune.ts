/**
 * Pruning. Unstructured magnitude pruning zeroes the smallest weights of Conv, MatMul and Gemm
 * (per layer, or one global threshold): the file compresses better, but onnxruntime's dense kernels
 * run no faster on zeros, so its report gives the zip-compressed size. Structured pruning removes
 * whole hidden units (a Gemm/MatMul output column) or Conv output channels with the smallest L1
 * norm, together with the matching inputs of the next layer, so the model really gets smaller and
 * faster. It follows A → [Relu, Sigmoid, Tanh, LeakyRelu, pooling]* → B where A's output reaches
 * only B, and refuses (naming the node) when no such pair exists.
 */
import { errors } from '../core/errors.js';
import {
  clone,
  ModelProtoSchema,
  readTensorData,
  TensorProto_DataType as Elem,
  tensorProto,
} from '../onnx/index.js';
import type { GraphProto, ModelProto, NodeProto, TensorProto } from '../onnx/index.js';

const WEIGHTED = new Set(['Conv', 'MatMul', 'Gemm']);
/** Ops that act on each unit (channel) alone, so a unit removed before them is removed after them. */
const PER_UNIT = new Set(['Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'MaxPool', 'AveragePool']);

export interface PruneResult {
  model: ModelProto;
  /** Per rewritten layer: what was removed or zeroed. */
  layers: { node: string; detail: string }[];
}

const label = (n: NodeProto, i: number) => (n.name !== '' ? n.name : `${n.opType} #${i}`);
const intAttr = (n: NodeProto, name: string, fallback: number) => {
  const a = n.attribute.find((x) => x.name === name);
  return a === undefined ? fallback : Number(a.i);
};

function checkFraction(flag: string, x: number): void {
  if (!(x > 0 && x < 1)) throw errors.invalidArgument(`${flag} ${x} must be between 0 and 1 (exclusive)`);
}

function floatWeight(graph: GraphProto, node: NodeProto): TensorProto | undefined {
  const t = graph.initializer.find((x) => x.name === node.input[1]);
  return t !== undefined && t.dataType === Elem.FLOAT && !graph.input.some((i) => i.name === t.name)
    ? t
    : undefined;
}

/**
 * Zero the `sparsity` share of smallest-magnitude weights (per layer, or with one global threshold).
 * @throws TendError TEND_INVALID_ARGUMENT for a sparsity outside (0, 1); TEND_INVALID_MODEL with nothing to prune.
 */
export function magnitudePrune(
  model: ModelProto,
  sparsity: number,
  scope: 'layer' | 'global' = 'layer',
): PruneResult {
  checkFraction('--sparsity', sparsity);
  const out = clone(ModelProtoSchema, model);
  const graph = out.graph;
  if (graph === undefined) throw errors.invalidModel('the model has no graph');
  const targets = new Map<string, { node: string; tensor: TensorProto; data: Float32Array }>();
  graph.node.forEach((n, i) => {
    if (!WEIGHTED.has(n.opType)) return;
    const t = floatWeight(graph, n);
    if (t === undefined || targets.has(t.name)) return;
    targets.set(t.name, {
      node: label(n, i),
      tensor: t,
      data: Float32Array.from(readTensorData(t).data as Float32Array),
    });
  });
  if (targets.size === 0)
    throw errors.invalidModel('the model has no Conv, MatMul or Gemm with a constant float weight to prune');
  const thresholdOf = (values: Float32Array) => {
    const abs = Float32Array.from(values, Math.abs).sort();
    return abs[Math.min(abs.length - 1, Math.floor(abs.length * sparsity))] ?? 0;
  };
  const global =
    scope === 'global'
      ? thresholdOf(Float32Array.from([...targets.values()].flatMap((t) => [...t.data])))
      : 0;
  const layers: PruneResult['layers'] = [];
  for (const t of targets.values()) {
    const threshold = scope === 'global' ? global : thresholdOf(t.data);
    let zeroed = 0;
    // Below the threshold, plus ties at it until the share is reached (many equal weights).
    const budget = Math.floor(t.data.length * sparsity);
    for (let i = 0; i < t.data.length; i++) {
      if (Math.abs(t.data[i] ?? 0) < threshold) {
        t.data[i] = 0;
        zeroed++;
      }
    }
    for (let i = 0; i < t.data.length && zeroed < budget && scope === 'layer'; i++) {
      if (t.data[i] !== 0 && Math.abs(t.data[i] ?? 0) === threshold) {
        t.data[i] = 0;
        zeroed++;
      }
    }
    const i = graph.initializer.indexOf(t.tensor);
    graph.initializer[i] = tensorProto(t.tensor.name, t.data, t.tensor.dims.map(Number), 'FP32');
    layers.push({ node: t.node, detail: `${zeroed} of ${t.data.length} weights zeroed` });
  }
  return { model: out, layers };
}

/** Keep the `keep` indices of `axis`. */
function take(data: Float32Array, dims: number[], axis: number, keep: number[]): Float32Array {
  const outer = dims.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const n = dims[axis] ?? 1;
  const out = new Float32Array(outer * keep.length * inner);
  let o = 0;
  for (let a = 0; a < outer; a++)
    for (const k of keep) {
      out.set(data.subarray((a * n + k) * inner, (a * n + k + 1) * inner), o);
      o += inner;
    }
  return out;
}

/** L1 norm of each index of `axis`. */
function l1(data: Float32Array, dims: number[], axis: number): Float64Array {
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const n = dims[axis] ?? 1;
  const norms = new Float64Array(n);
  for (let i = 0; i < data.length; i++) {
    const k = Math.floor(i / inner) % n;
    norms[k] = (norms[k] ?? 0) + Math.abs(data[i] ?? 0);
  }
  return norms;
}

/** Axis of a weight that indexes the layer's outputs (`out`) or inputs. */
function unitAxis(n: NodeProto, out: boolean): number {
  if (n.opType === 'Conv') return out ? 0 : 1;
  const transposed = n.opType === 'Gemm' && intAttr(n, 'transB', 0) !== 0;
  return out === transposed ? 0 : 1;
}

/**
 * Remove the `fraction` of hidden units / channels with the smallest L1 norm from every prunable pair.
 * @throws TendError TEND_INVALID_ARGUMENT for a fraction outside (0, 1) or a graph with no prunable
 * pair (the message names the node and why).
 */
export function structuredPrune(model: ModelProto, fraction: number): PruneResult {
  checkFraction('--sparsity', fraction);
  const out = clone(ModelProtoSchema, model);
  const graph = out.graph;
  if (graph === undefined) throw errors.invalidModel('the model has no graph');
  const outputs = new Set(graph.output.map((o) => o.name));
  const readers = (name: string) => graph.node.filter((n) => n.input.includes(name));
  const uses = (name: string) => graph.node.filter((n) => n.input.includes(name)).length;
  const init = (name: string) => graph.initializer.find((t) => t.name === name);
  const layers: PruneResult['layers'] = [];
  const refusals: string[] = [];
  graph.node.forEach((a, i) => {
    if (!WEIGHTED.has(a.opType)) return;
    const why = (reason: string) => refusals.push(`node '${label(a, i)}' (${a.opType}): ${reason}`);
    const wa = floatWeight(graph, a);
    if (wa === undefined) return why('its weight is not a float constant');
    if (uses(wa.name) !== 1) return why(`its weight '${wa.name}' is shared with other nodes`);
    if (a.opType === 'Conv' && intAttr(a, 'group', 1) !== 1) return why('grouped convolution');
    if (wa.dims.length !== (a.opType === 'Conv' ? wa.dims.length : 2)) return why('its weight is not 2-D');
    let t = a.output[0] ?? '';
    const chain: string[] = [t];
    for (;;) {
      if (outputs.has(t)) return why(`its output reaches the graph output '${t}'`);
      const next = readers(t);
      if (next.length !== 1) return why(`'${t}' is read by ${next.length} nodes, not one`);
      const c = next[0] as NodeProto;
      if (PER_UNIT.has(c.opType) && c.input[0] === t) {
        t = c.output[0] ?? '';
        chain.push(t);
        continue;
      }
      const fits = a.opType === 'Conv' ? c.opType === 'Conv' : c.opType === 'MatMul' || c.opType === 'Gemm';
      if (!fits || c.input[0] !== t)
        return why(`'${t}' goes into ${c.opType} '${c.name}', which it cannot follow`);
      if (c.opType === 'Gemm' && intAttr(c, 'transA', 0) !== 0)
        return why(`next Gemm '${c.name}' has transA`);
      if (c.opType === 'Conv' && intAttr(c, 'group', 1) !== 1) return why(`next Conv '${c.name}' is grouped`);
      const wb = floatWeight(graph, c);
      if (wb === undefined || uses(wb.name) !== 1)
        return why(`the next layer '${c.name}' has no float weight of its own`);
      const bias = a.input[2] !== undefined && a.input[2] !== '' ? init(a.input[2]) : undefined;
      const outAxis = unitAxis(a, true);
      const dimsA = wa.dims.map(Number);
      const units = dimsA[outAxis] ?? 0;
      if (bias !== undefined && (bias.dims.length !== 1 || Number(bias.dims[0]) !== units))
        return why(`its bias '${bias.name}' is not one value per unit`);
      if (a.input[2] !== undefined && a.input[2] !== '' && bias === undefined)
        return why('its bias is computed at run time');
      const dataA = readTensorData(wa).data as Float32Array;
      const norms = l1(dataA, dimsA, outAxis);
      const keepCount = Math.max(1, Math.round(units * (1 - fraction)));
      const keep = [...norms.keys()]
        .sort((x, y) => (norms[y] ?? 0) - (norms[x] ?? 0) || x - y)
        .slice(0, keepCount)
        .sort((x, y) => x - y);
      const replace = (old: TensorProto, data: Float32Array, dims: number[]) => {
        graph.initializer[graph.initializer.indexOf(old)] = tensorProto(old.name, data, dims, 'FP32');
      };
      replace(
        wa,
        take(dataA, dimsA, outAxis, keep),
        dimsA.map((d, k) => (k === outAxis ? keep.length : d)),
      );
      if (bias !== undefined)
        replace(bias, take(readTensorData(bias).data as Float32Array, [units], 0, keep), [keep.length]);
      const inAxis = unitAxis(c, false);
      const dimsB = wb.dims.map(Number);
      if (dimsB[inAxis] !== units)
        return why(`the next layer '${c.name}' takes ${dimsB[inAxis]} inputs, not ${units}`);
      replace(
        wb,
        take(readTensorData(wb).data as Float32Array, dimsB, inAxis, keep),
        dimsB.map((d, k) => (k === inAxis ? keep.length : d)),
      );
      // Shapes recorded for the values in between are stale now.
      graph.valueInfo = graph.valueInfo.filter((v) => !chain.includes(v.name));
      layers.push({
        node: label(a, i),
        detail: `${units} → ${keep.length} ${a.opType === 'Conv' ? 'channels' : 'units'} (and the inputs of '${c.name}')`,
      });
      return;
    }
  });
  if (layers.length === 0)
    throw errors.invalidArgument(
      `--structured cannot rewrite this graph: ${refusals.slice(0, 3).join('; ') || 'it has no Conv, MatMul or Gemm'}`,
    );
  return { model: out, layers };
}
