/**
 * Which kernels onnxruntime chose: compares the op types of a model with those of the graph
 * onnxruntime optimized from it (written by the session option `optimizedModelFilePath`).
 * Pure: the caller (runtime, or a test) produces the optimized file.
 */
import type { GraphProto, ModelProto } from '../onnx/index.js';
import { subgraphsOf } from './graph-scope.js';

/** Ops of the dynamic quantization pattern that onnxruntime should have fused away. */
const QUANTIZATION_PATTERN_OPS = ['DynamicQuantizeLinear', 'MatMulInteger', 'ConvInteger'];

/** What onnxruntime did to a graph at load time (snake_case: reports print it as JSON). */
export interface KernelReport {
  /** Op types of the optimized graph, `domain.Op` outside ai.onnx (`com.microsoft.DynamicQuantizeMatMul`). */
  op_counts: Record<string, number>;
  /** Op types onnxruntime introduced: in the optimized graph, not in the model it was given. */
  fused_kernels: Record<string, number>;
  /** Op types onnxruntime removed entirely (folded or fused). */
  removed_ops: Record<string, number>;
  /** Quantization ops left as they are in the optimized graph (not fused into a faster kernel). */
  unfused_quantization_ops: Record<string, number>;
}

function opKey(domain: string, opType: string): string {
  return domain === '' || domain === 'ai.onnx' ? opType : `${domain}.${opType}`;
}

function count(graph: GraphProto, into: Record<string, number>): void {
  for (const node of graph.node) {
    const key = opKey(node.domain, node.opType);
    into[key] = (into[key] ?? 0) + 1;
    for (const sub of subgraphsOf(node)) count(sub, into);
  }
}

/** Number of nodes per op type (`domain.Op` outside ai.onnx), subgraphs included. */
export function opTypeCounts(model: ModelProto): Record<string, number> {
  const counts: Record<string, number> = {};
  if (model.graph !== undefined) count(model.graph, counts);
  return counts;
}

/** Compare a model with the graph onnxruntime optimized from it. */
export function fusedKernels(model: ModelProto, optimized: ModelProto): KernelReport {
  const before = opTypeCounts(model);
  const after = opTypeCounts(optimized);
  const pick = (from: Record<string, number>, keep: (op: string) => boolean) =>
    Object.fromEntries(
      Object.entries(from)
        .filter(([op]) => keep(op))
        .sort(([a], [b]) => a.localeCompare(b)),
    );
  return {
    op_counts: pick(after, () => true),
    fused_kernels: pick(after, (op) => before[op] === undefined),
    removed_ops: pick(before, (op) => after[op] === undefined),
    unfused_quantization_ops: pick(after, (op) => QUANTIZATION_PATTERN_OPS.includes(op)),
  };
}
