/** What a rewrite needs to know about a graph: its constants, the names in use, the values nodes read. */
import type { GraphProto, NodeProto, TensorProto } from '../onnx/index.js';
import { AttributeProto_AttributeType as AttrType } from '../onnx/index.js';

/** Every subgraph (If/Loop/Scan bodies) held by a node's attributes. */
export function subgraphsOf(node: NodeProto): GraphProto[] {
  const out: GraphProto[] = [];
  for (const attr of node.attribute) {
    if (attr.type === AttrType.GRAPH && attr.g !== undefined) out.push(attr.g);
    if (attr.type === AttrType.GRAPHS) out.push(...attr.graphs);
  }
  return out;
}

function collectNames(graph: GraphProto, values: Set<string>, nodes: Set<string>): void {
  for (const v of [...graph.input, ...graph.output, ...graph.valueInfo]) values.add(v.name);
  for (const t of graph.initializer) values.add(t.name);
  for (const node of graph.node) {
    nodes.add(node.name);
    for (const name of [...node.input, ...node.output]) values.add(name);
    for (const sub of subgraphsOf(node)) collectNames(sub, values, nodes);
  }
}

/** Names read by the nodes of a graph and of its subgraphs (which may read outer values), plus its outputs. */
export function referencedNames(graph: GraphProto, into = new Set<string>()): Set<string> {
  for (const out of graph.output) into.add(out.name);
  for (const node of graph.node) {
    for (const name of node.input) if (name !== '') into.add(name);
    for (const sub of subgraphsOf(node)) referencedNames(sub, into);
  }
  return into;
}

function reserve(used: Set<string>, base: string): string {
  let name = base;
  for (let n = 1; name === '' || used.has(name); n++) name = `${base}_${n}`;
  used.add(name);
  return name;
}

/** The top-level graph seen by a rewrite: constants by name, value types, and fresh unique names. */
export class GraphScope {
  readonly initializers = new Map<string, TensorProto>();
  readonly graphInputs: Set<string>;
  private readonly elemTypes = new Map<string, number>();
  private readonly usedValues = new Set<string>();
  private readonly usedNodes = new Set<string>();

  constructor(graph: GraphProto) {
    for (const t of graph.initializer) {
      this.initializers.set(t.name, t);
      this.elemTypes.set(t.name, t.dataType);
    }
    this.graphInputs = new Set(graph.input.map((v) => v.name));
    for (const v of [...graph.input, ...graph.output, ...graph.valueInfo]) {
      if (v.type?.value.case === 'tensorType') this.elemTypes.set(v.name, v.type.value.value.elemType);
    }
    collectNames(graph, this.usedValues, this.usedNodes);
  }

  /** The ONNX element type of a value when the graph declares it (initializers, inputs, outputs, value_info). */
  elemType(name: string): number | undefined {
    return this.elemTypes.get(name);
  }

  /** A value name the graph does not use yet (`base` itself when free); it is reserved. */
  fresh(base: string): string {
    return reserve(this.usedValues, base);
  }

  /** A node name the graph does not use yet (`base` itself when free); it is reserved. */
  freshNode(base: string): string {
    return reserve(this.usedNodes, base);
  }
}
