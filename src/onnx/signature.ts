/** What a model declares about itself: its signature (inputs, outputs) and its header fields. */
import type { Dim, ModelSignature, TensorSpec } from '../core/signature.js';
import { errors } from '../core/errors.js';
import type { GraphProto, ModelProto, TensorShapeProto, TypeProto, ValueInfoProto } from 'onnx-buf';
import { dataTypeFromOnnx, onnxTypeString } from './datatype.js';

export { onnxTypeName, onnxTypeString, dataTypeFromOnnx, onnxElemType } from './datatype.js';

/** A model's signature and the header fields worth showing (JSON-ready, snake_case). */
export interface ModelInfo {
  signature: ModelSignature;
  ir_version: number;
  opset_import: { domain: string; version: number }[];
  producer_name: string;
  producer_version: string;
  graph_name: string;
  doc_string: string;
  metadata: Record<string, string>;
}

/** Dimensions as tend carries them: a size, a symbolic name, or `""` for an anonymous dynamic one. */
export function shapeDims(shape: TensorShapeProto | undefined): Dim[] | null {
  if (shape === undefined) return null;
  return shape.dim.map((d): Dim => {
    switch (d.value.case) {
      case 'dimValue':
        return Number(d.value.value);
      case 'dimParam':
        return d.value.value;
      default:
        return '';
    }
  });
}

function shapeOf(type: TypeProto | undefined): Dim[] | null {
  const value = type?.value;
  if (value?.case === 'tensorType' || value?.case === 'sparseTensorType') return shapeDims(value.value.shape);
  return null;
}

/** The TensorSpec of one graph input or output. */
export function tensorSpecOf(info: ValueInfoProto): TensorSpec {
  const value = info.type?.value;
  return {
    name: info.name,
    // Only dense tensors travel over V2; sparse tensors, sequences, maps and optionals do not.
    datatype: value?.case === 'tensorType' ? dataTypeFromOnnx(value.value.elemType) : null,
    onnx_type: onnxTypeString(info.type),
    shape: shapeOf(info.type),
  };
}

/** Names of the graph's initializers (dense and sparse). */
export function initializerNames(graph: GraphProto): Set<string> {
  const names = new Set<string>();
  for (const t of graph.initializer) names.add(t.name);
  for (const s of graph.sparseInitializer) if (s.values) names.add(s.values.name);
  return names;
}

/**
 * The inputs a caller must feed and the outputs the model returns. Graph inputs that are also
 * initializers (older exporters list weights as inputs) are not inputs a caller feeds.
 */
export function extractSignature(graph: GraphProto): ModelSignature {
  const weights = initializerNames(graph);
  return {
    inputs: graph.input.filter((i) => !weights.has(i.name)).map(tensorSpecOf),
    outputs: graph.output.map(tensorSpecOf),
  };
}

/**
 * Everything a model declares about itself, ready to store or show as JSON.
 * @throws TendError TEND_INVALID_MODEL when the model has no graph.
 */
export function extractModelInfo(model: ModelProto): ModelInfo {
  const graph = model.graph;
  if (graph === undefined) throw errors.invalidModel('not an ONNX model: it has no graph');
  // fromEntries defines own properties, so a key such as `__proto__` stays plain data.
  const metadata: Record<string, string> = Object.fromEntries(
    model.metadataProps.map(({ key, value }) => [key, value]),
  );
  return {
    signature: extractSignature(graph),
    ir_version: Number(model.irVersion),
    opset_import: model.opsetImport.map((o) => ({ domain: o.domain, version: Number(o.version) })),
    producer_name: model.producerName,
    producer_version: model.producerVersion,
    graph_name: graph.name,
    doc_string: model.docString,
    metadata,
  };
}
