/**
 * Structural checks of an ONNX model, run on every model tend rewrites: opset imports, unique names,
 * every value defined once and before it is read (topological order), graph outputs produced,
 * initializers that hold the data their dims promise, and element types that agree along the edges
 * for the common operators (including the quantization ones).
 */
import type { GraphProto, ModelProto, NodeProto, TensorProto, ValueInfoProto } from 'onnx-buf';
import { TensorProto_DataLocation, TensorProto_DataType as Elem } from 'onnx-buf';
import { BYTES_PER_ELEMENT, elementCount } from '../core/tensor.js';
import { dataTypeFromOnnx, onnxTypeName } from './datatype.js';
import { isDefaultDomain, nodeTypes } from './operator-types.js';

export type ModelProblemCode =
  | 'no_graph'
  | 'missing_opset'
  | 'duplicate_opset'
  | 'duplicate_name'
  | 'undefined_input'
  | 'not_topological'
  | 'output_not_produced'
  | 'bad_initializer'
  | 'missing_type'
  | 'type_mismatch'
  | 'dangling_output'
  | 'unused_initializer';

/** One thing wrong with a model; warnings are legal ONNX that usually means a mistake. */
export interface ModelProblem {
  severity: 'error' | 'warning';
  code: ModelProblemCode;
  message: string;
}

type Types = Map<string, number>;

function initializerProblem(t: TensorProto): string | null {
  if (t.dataType === Elem.UNDEFINED) return 'has no data type';
  if (t.dataLocation === TensorProto_DataLocation.EXTERNAL) return null;
  const dims = t.dims.map(Number);
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) return `has invalid dims [${dims.join(', ')}]`;
  const count = elementCount(dims);
  const datatype = dataTypeFromOnnx(t.dataType);
  if (datatype === null) return null; // bfloat16, float8, int4...: sizes not checked here
  if (datatype === 'BYTES')
    return t.stringData.length === count ? null : `has ${t.stringData.length} strings, dims need ${count}`;
  if (t.rawData.byteLength > 0) {
    const need = count * BYTES_PER_ELEMENT[datatype];
    return t.rawData.byteLength === need
      ? null
      : `has ${t.rawData.byteLength} bytes of raw data, dims need ${need}`;
  }
  const field =
    datatype === 'FP32'
      ? t.floatData
      : datatype === 'FP64'
        ? t.doubleData
        : datatype === 'INT64'
          ? t.int64Data
          : datatype === 'UINT32' || datatype === 'UINT64'
            ? t.uint64Data
            : t.int32Data;
  return field.length === count ? null : `has ${field.length} values, dims need ${count}`;
}

/** The values visible in a graph: their names, and their element types where known. */
interface Scope {
  names: Set<string>;
  types: Types;
}

class GraphChecker {
  readonly problems: ModelProblem[] = [];
  private readonly read = new Set<string>();

  constructor(private readonly importedDomains: Set<string>) {}

  private add(severity: ModelProblem['severity'], code: ModelProblemCode, message: string): void {
    this.problems.push({ severity, code, message });
  }

  /** The element type a graph input or output declares (undefined for non-tensors); reports a missing one. */
  private declaredType(v: ValueInfoProto, what: string): number | undefined {
    const type = v.type?.value;
    if (type === undefined) {
      this.add('error', 'missing_type', `${what} '${v.name}' declares no type`);
      return undefined;
    }
    if (type.case !== 'tensorType') return undefined;
    if (type.value.elemType === Elem.UNDEFINED)
      this.add('error', 'missing_type', `${what} '${v.name}' declares no element type`);
    return type.value.elemType === Elem.UNDEFINED ? undefined : type.value.elemType;
  }

  /** Check one graph; `outer` holds the values a subgraph may read from its enclosing graphs. */
  check(graph: GraphProto, outer: Scope, where: string): void {
    const scope: Scope = { names: new Set(outer.names), types: new Map(outer.types) };
    const own = new Set<string>();
    const define = (name: string, what: string, type: number | undefined) => {
      if (own.has(name) || outer.names.has(name))
        this.add('error', 'duplicate_name', `${where}: ${what} '${name}' is defined twice`);
      own.add(name);
      scope.names.add(name);
      if (type !== undefined) scope.types.set(name, type);
      else scope.types.delete(name);
    };
    for (const v of graph.input) define(v.name, 'input', this.declaredType(v, `${where}: input`));
    const inputNames = new Set(graph.input.map((v) => v.name));
    for (const t of graph.initializer) {
      // An initializer may also be listed as a graph input (a default the caller can override).
      if (!inputNames.has(t.name))
        define(t.name, 'initializer', t.dataType === Elem.UNDEFINED ? undefined : t.dataType);
      const problem = initializerProblem(t);
      if (problem !== null)
        this.add('error', 'bad_initializer', `${where}: initializer '${t.name}' ${problem}`);
    }
    const declaredTypes: Types = new Map();
    for (const v of [...graph.valueInfo, ...graph.output]) {
      if (v.type?.value.case === 'tensorType' && v.type.value.value.elemType !== Elem.UNDEFINED) {
        declaredTypes.set(v.name, v.type.value.value.elemType);
      }
    }
    const produced = new Set(graph.node.flatMap((n) => n.output.filter((o) => o !== '')));
    const nodeNames = new Set<string>();
    for (const node of graph.node) {
      const label = `${where}: node '${node.name || node.opType}' (${node.opType})`;
      if (node.name !== '') {
        if (nodeNames.has(node.name))
          this.add('error', 'duplicate_name', `${where}: node name '${node.name}' is used twice`);
        nodeNames.add(node.name);
      }
      const domain = isDefaultDomain(node.domain) ? '' : node.domain;
      if (!this.importedDomains.has(domain)) {
        this.add(
          'error',
          'missing_opset',
          `${label} is in domain '${node.domain}', which the model does not import`,
        );
      }
      for (const input of node.input) {
        if (input === '') continue;
        this.read.add(input);
        if (scope.names.has(input)) continue;
        if (produced.has(input))
          this.add('error', 'not_topological', `${label} reads '${input}' before the node that produces it`);
        else this.add('error', 'undefined_input', `${label} reads '${input}', which nothing defines`);
      }
      for (const sub of node.attribute.flatMap((a) => (a.g !== undefined ? [a.g] : a.graphs))) {
        this.check(sub, scope, `${label} subgraph '${sub.name}'`);
      }
      const outputs = this.checkTypes(node, label, scope.types, declaredTypes);
      node.output.forEach((out, i) => {
        if (out !== '') define(out, `output of ${label}`, outputs[i]);
      });
    }
    const outputNames = new Set<string>();
    for (const v of graph.output) {
      if (outputNames.has(v.name))
        this.add('error', 'duplicate_name', `${where}: graph output '${v.name}' is listed twice`);
      outputNames.add(v.name);
      this.read.add(v.name);
      if (!scope.names.has(v.name)) {
        this.add(
          'error',
          'output_not_produced',
          `${where}: graph output '${v.name}' is not produced by any node`,
        );
      }
      this.declaredType(v, `${where}: output`);
    }
  }

  /** Checks a node's input types against its operator's rule; returns its output types (inferred or declared). */
  private checkTypes(
    node: NodeProto,
    label: string,
    types: Types,
    declaredTypes: Types,
  ): (number | undefined)[] {
    const typeOf = (i: number) => {
      const name = node.input[i];
      return name === undefined || name === '' ? undefined : types.get(name);
    };
    const rule = nodeTypes(node, typeOf);
    for (const group of rule?.same ?? []) {
      const known = group.flatMap((i) => {
        const t = typeOf(i);
        return t === undefined ? [] : [{ name: node.input[i] ?? '', type: t }];
      });
      const head = known[0];
      const other = known.find((k) => k.type !== head?.type);
      if (head !== undefined && other !== undefined) {
        this.add(
          'error',
          'type_mismatch',
          `${label}: inputs '${head.name}' (${onnxTypeName(head.type)}) and '${other.name}' (${onnxTypeName(other.type)}) must have one type`,
        );
      }
    }
    for (const [i, allowed] of rule?.allowed ?? []) {
      const t = typeOf(i);
      if (t !== undefined && !allowed.includes(t)) {
        this.add(
          'error',
          'type_mismatch',
          `${label}: input '${node.input[i]}' is ${onnxTypeName(t)}, expected ${allowed.map(onnxTypeName).join(' or ')}`,
        );
      }
    }
    return node.output.map((out, i) => {
      const inferred = rule?.outputs[i];
      const declared = declaredTypes.get(out);
      if (inferred !== undefined && declared !== undefined && inferred !== declared) {
        this.add(
          'error',
          'type_mismatch',
          `${label}: output '${out}' is ${onnxTypeName(inferred)} but declared ${onnxTypeName(declared)}`,
        );
      }
      return inferred ?? declared;
    });
  }

  /** Warnings for nodes whose outputs nobody reads, and initializers nobody reads. */
  unused(graph: GraphProto): void {
    for (const node of graph.node) {
      const outs = node.output.filter((o) => o !== '');
      if (outs.length > 0 && outs.every((o) => !this.read.has(o))) {
        this.add(
          'warning',
          'dangling_output',
          `node '${node.name || node.opType}' (${node.opType}): none of its outputs (${outs.join(', ')}) is read`,
        );
      }
    }
    const inputs = new Set(graph.input.map((v) => v.name));
    for (const t of graph.initializer) {
      if (!this.read.has(t.name) && !inputs.has(t.name))
        this.add('warning', 'unused_initializer', `initializer '${t.name}' is never read`);
    }
  }
}

/**
 * Structural problems of a model (empty when it is well formed).
 * @example
 * const errors = checkModel(model).filter((p) => p.severity === 'error');
 */
export function checkModel(model: ModelProto): ModelProblem[] {
  const imported = new Set<string>();
  const problems: ModelProblem[] = [];
  for (const o of model.opsetImport) {
    const domain = isDefaultDomain(o.domain) ? '' : o.domain;
    if (imported.has(domain)) {
      problems.push({
        severity: 'error',
        code: 'duplicate_opset',
        message: `domain '${o.domain || 'ai.onnx'}' is imported twice`,
      });
    }
    imported.add(domain);
  }
  if (!imported.has('')) {
    problems.push({
      severity: 'error',
      code: 'missing_opset',
      message: 'the model imports no ai.onnx opset',
    });
  }
  if (model.graph === undefined) {
    return [...problems, { severity: 'error', code: 'no_graph', message: 'the model has no graph' }];
  }
  const checker = new GraphChecker(imported);
  checker.check(model.graph, { names: new Set(), types: new Map() }, `graph '${model.graph.name}'`);
  checker.unused(model.graph);
  return [...problems, ...checker.problems];
}
