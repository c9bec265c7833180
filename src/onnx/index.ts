/** The ONNX layer: read and write models, describe their signatures, check external data, build graphs. */
export * from './proto.js';
export { readModel, readModelFile, writeModel } from './model.js';
export {
  dataTypeFromOnnx,
  extractModelInfo,
  extractSignature,
  initializerNames,
  onnxElemType,
  onnxTypeName,
  onnxTypeString,
  shapeDims,
  tensorSpecOf,
} from './signature.js';
export type { ModelInfo } from './signature.js';
export { checkExternalData, externalDataRefs, inspectModelBytes, inspectModelFile, modelTensors } from './external-data.js';
export type { ExternalDataCheckOptions, ExternalDataRef } from './external-data.js';
export { defaultDataType, readTensorData, tensorProto } from './tensor-data.js';
export type { TensorValue } from './tensor-data.js';
export { GraphBuilder } from './builder.js';
export type { AttributeValue, BuildOptions, NodeOptions } from './builder.js';
export { checkModel } from './check.js';
export type { ModelProblem, ModelProblemCode } from './check.js';
