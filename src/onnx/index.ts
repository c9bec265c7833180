/** The ONNX layer: read and write models, describe their signatures, check external data, build graphs. */
export {
  AttributeProto_AttributeType,
  AttributeProtoSchema,
  clone,
  create,
  ModelProtoSchema,
  NodeProtoSchema,
  TensorProto_DataLocation,
  TensorProto_DataType,
  TensorProtoSchema,
  TypeProtoSchema,
  TypeProto_TensorSchema,
  ValueInfoProtoSchema,
} from './proto.js';
export type { AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto } from './proto.js';
export { readModel, readModelFile, writeModel } from './model.js';
export { extractModelInfo, extractSignature, onnxTypeName } from './signature.js';
export type { ModelInfo } from './signature.js';
export { inspectModelBytes, inspectModelFile } from './external-data.js';
export { readTensorData, tensorProto } from './tensor-data.js';
export { GraphBuilder } from './builder.js';
export { checkModel } from './check.js';
