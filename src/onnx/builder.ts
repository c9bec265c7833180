/** A small builder for ONNX models, for the trainers, the optimizers and tests. */
import { clone, create } from '@bufbuild/protobuf';
import type { MessageInitShape } from '@bufbuild/protobuf';
import {
  AttributeProtoSchema,
  AttributeProto_AttributeType as AttrType,
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  StringStringEntryProtoSchema,
  TensorProto_DataLocation,
  TensorProtoSchema,
  TensorShapeProtoSchema,
  TensorShapeProto_DimensionSchema,
  TypeProtoSchema,
  TypeProto_TensorSchema,
  ValueInfoProtoSchema,
} from 'onnx-buf';
import type { AttributeProto, GraphProto, ModelProto, TensorProto, ValueInfoProto } from 'onnx-buf';
import { errors } from '../core/errors.js';
import type { Dim } from '../core/signature.js';
import type { DataType, TensorData } from '../core/tensor.js';
import { onnxElemType } from './datatype.js';
import { tensorProto } from './tensor-data.js';

/** One node attribute value; the key says its ONNX type. */
export type AttributeValue =
  | { int: number }
  | { float: number }
  | { ints: number[] }
  | { floats: number[] }
  | { string: string }
  | { strings: string[] }
  | { tensor: TensorProto }
  | { graph: GraphProto };

export interface NodeOptions {
  /** Defaults to a unique `<opType>_<n>`. */
  name?: string;
  /** Operator domain; '' (default) is the standard ai.onnx domain. */
  domain?: string;
}

export interface BuildOptions {
  /** Opset of the default ai.onnx domain (default 17). */
  opset?: number;
  /** Opsets of other domains used by nodes (defaults: ai.onnx.ml 3, any other 1). */
  domainOpsets?: Record<string, number>;
  producerName?: string;
  producerVersion?: string;
  metadata?: Record<string, string>;
  docString?: string;
  /** Default 8 (onnxruntime 1.14+ and every ONNX tool since 2021 read it). */
  irVersion?: number;
}

const DEFAULT_DOMAIN_OPSETS: Readonly<Record<string, number>> = { 'ai.onnx.ml': 3 };
const utf8 = new TextEncoder();

function integer(what: string, value: number): bigint {
  if (!Number.isSafeInteger(value)) throw errors.invalidArgument(`${what} must be an integer, got ${value}`);
  return BigInt(value);
}

function attributeProto(name: string, value: AttributeValue): AttributeProto {
  const what = `attribute '${name}'`;
  const attr = (init: MessageInitShape<typeof AttributeProtoSchema>) =>
    create(AttributeProtoSchema, { ...init, name });
  if ('int' in value) return attr({ type: AttrType.INT, i: integer(what, value.int) });
  if ('float' in value) return attr({ type: AttrType.FLOAT, f: value.float });
  if ('ints' in value) return attr({ type: AttrType.INTS, ints: value.ints.map((v) => integer(what, v)) });
  if ('floats' in value) return attr({ type: AttrType.FLOATS, floats: value.floats });
  if ('string' in value) return attr({ type: AttrType.STRING, s: utf8.encode(value.string) });
  if ('strings' in value)
    return attr({ type: AttrType.STRINGS, strings: value.strings.map((s) => utf8.encode(s)) });
  if ('tensor' in value) return attr({ type: AttrType.TENSOR, t: clone(TensorProtoSchema, value.tensor) });
  return attr({ type: AttrType.GRAPH, g: clone(GraphProtoSchema, value.graph) });
}

function valueInfo(name: string, datatype: DataType, shape: readonly Dim[] | null): ValueInfoProto {
  const tensorType = create(TypeProto_TensorSchema, { elemType: onnxElemType(datatype) });
  if (shape !== null) {
    tensorType.shape = create(TensorShapeProtoSchema, {
      dim: shape.map((d) => {
        const dim = create(TensorShapeProto_DimensionSchema);
        if (typeof d === 'string') {
          if (d !== '') dim.value = { case: 'dimParam', value: d };
        } else if (d >= 0) {
          dim.value = { case: 'dimValue', value: integer(`dimension of '${name}'`, d) };
        } // a negative size is a dynamic dimension without a name
        return dim;
      }),
    });
  }
  return create(ValueInfoProtoSchema, {
    name,
    type: create(TypeProtoSchema, { value: { case: 'tensorType', value: tensorType } }),
  });
}

/**
 * Builds a graph node by node, then a ModelProto.
 * @example
 * const model = new GraphBuilder('linear')
 *   .input('x', 'FP32', ['batch', 3]).output('y', 'FP32', ['batch', 1])
 *   .initializer('w', new Float32Array([1, 2, 3]), [3, 1])
 *   .node('MatMul', ['x', 'w'], ['y'])
 *   .build();
 */
export class GraphBuilder {
  private readonly graph: GraphProto;
  private readonly nodeNames = new Set<string>();
  private readonly valueNames = new Set<string>();
  private readonly outputNames = new Set<string>();
  private readonly opCounts = new Map<string, number>();

  constructor(graphName: string) {
    this.graph = create(GraphProtoSchema, { name: graphName });
  }

  private declare(name: string, kind: string): void {
    if (name === '') throw errors.invalidArgument(`${kind} needs a name`);
    if (this.valueNames.has(name)) {
      throw errors.invalidArgument(`graph '${this.graph.name}' already has a value named '${name}'`);
    }
    this.valueNames.add(name);
  }

  /** Declare a graph input a caller feeds. */
  input(name: string, datatype: DataType, shape: Dim[] | null): this {
    this.declare(name, 'an input');
    this.graph.input.push(valueInfo(name, datatype, shape));
    return this;
  }

  /** Declare a graph output; some node must produce it. */
  output(name: string, datatype: DataType, shape: Dim[] | null): this {
    if (this.outputNames.has(name)) {
      throw errors.invalidArgument(`graph '${this.graph.name}' already has an output '${name}'`);
    }
    this.outputNames.add(name);
    this.graph.output.push(valueInfo(name, datatype, shape));
    return this;
  }

  /** Add a constant weight, stored as little-endian raw_data (strings as string_data). */
  initializer(name: string, data: TensorData, dims: number[], datatype?: DataType): this {
    this.declare(name, 'an initializer');
    this.graph.initializer.push(tensorProto(name, data, dims, datatype));
    return this;
  }

  /**
   * Add an initializer whose bytes live in a file beside the model (`location` relative to its folder).
   * Written as declared; nothing here creates or checks the file.
   */
  externalInitializer(
    name: string,
    datatype: DataType,
    dims: number[],
    location: string,
    range: { offset?: number; length?: number } = {},
  ): this {
    this.declare(name, 'an initializer');
    const tensor = create(TensorProtoSchema, {
      name,
      dims: dims.map((d) => integer(`dimension of '${name}'`, d)),
      dataType: onnxElemType(datatype),
      dataLocation: TensorProto_DataLocation.EXTERNAL,
      externalData: [create(StringStringEntryProtoSchema, { key: 'location', value: location })],
    });
    for (const key of ['offset', 'length'] as const) {
      const v = range[key];
      if (v === undefined) continue;
      tensor.externalData.push(create(StringStringEntryProtoSchema, { key, value: String(integer(key, v)) }));
    }
    this.graph.initializer.push(tensor);
    return this;
  }

  /** Add a node; nodes must come in an order where each reads only values defined before it. */
  node(
    opType: string,
    inputs: string[],
    outputs: string[],
    attributes: Record<string, AttributeValue> = {},
    options: NodeOptions = {},
  ): this {
    const name = options.name ?? this.nextNodeName(opType);
    if (this.nodeNames.has(name)) {
      throw errors.invalidArgument(`graph '${this.graph.name}' already has a node named '${name}'`);
    }
    this.nodeNames.add(name);
    for (const out of outputs) if (out !== '') this.declare(out, `an output of node '${name}'`);
    this.graph.node.push(
      create(NodeProtoSchema, {
        name,
        opType,
        domain: options.domain ?? '',
        input: [...inputs],
        output: [...outputs],
        attribute: Object.entries(attributes).map(([key, value]) => attributeProto(key, value)),
      }),
    );
    return this;
  }

  private nextNodeName(opType: string): string {
    let n = this.opCounts.get(opType) ?? 0;
    while (this.nodeNames.has(`${opType}_${n}`)) n++;
    this.opCounts.set(opType, n + 1);
    return `${opType}_${n}`;
  }

  /** The graph alone, e.g. as the body of an If or Loop node (which may read outer values). */
  buildGraph(): GraphProto {
    return clone(GraphProtoSchema, this.graph);
  }

  /**
   * The model. Checks that every node reads only values defined before it and that every output is produced.
   * @throws TendError TEND_INVALID_ARGUMENT when the graph is not well formed.
   */
  build(options: BuildOptions = {}): ModelProto {
    this.checkDataflow();
    const opset = options.opset ?? 17;
    const used = [...this.graph.node.map((n) => n.domain), ...Object.keys(options.domainOpsets ?? {})];
    // '' and 'ai.onnx' are both the default domain, imported once with `opset`.
    const domains = new Set(used.filter((d) => d !== '' && d !== 'ai.onnx'));
    const opsetImport = [create(OperatorSetIdProtoSchema, { domain: '', version: integer('opset', opset) })];
    for (const domain of domains) {
      const version = options.domainOpsets?.[domain] ?? DEFAULT_DOMAIN_OPSETS[domain] ?? 1;
      opsetImport.push(
        create(OperatorSetIdProtoSchema, { domain, version: integer(`opset of ${domain}`, version) }),
      );
    }
    return create(ModelProtoSchema, {
      irVersion: integer('irVersion', options.irVersion ?? 8),
      opsetImport,
      producerName: options.producerName ?? 'tend',
      producerVersion: options.producerVersion ?? '',
      docString: options.docString ?? '',
      graph: this.buildGraph(),
      metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) =>
        create(StringStringEntryProtoSchema, { key, value }),
      ),
    });
  }

  private checkDataflow(): void {
    const defined = new Set<string>([...this.graph.input, ...this.graph.initializer].map((v) => v.name));
    for (const node of this.graph.node) {
      for (const input of node.input) {
        if (input !== '' && !defined.has(input)) {
          throw errors.invalidArgument(
            `node '${node.name}' reads '${input}', which no input, initializer or earlier node defines`,
          );
        }
      }
      for (const out of node.output) defined.add(out);
    }
    for (const out of this.graph.output) {
      if (!defined.has(out.name)) {
        throw errors.invalidArgument(`graph output '${out.name}' is not produced by any node`);
      }
    }
  }
}
