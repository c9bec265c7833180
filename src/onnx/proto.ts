/**
 * The one doorway to the ONNX protobuf classes (onnx-buf, ONNX 1.20 `onnx.proto3` for
 * @bufbuild/protobuf v2). Other layers import these from `onnx/`, never from onnx-buf, so the
 * protobuf library can change in one place.
 */
export { create, clone } from '@bufbuild/protobuf';
export type {
  AttributeProto,
  FunctionProto,
  GraphProto,
  ModelProto,
  NodeProto,
  OperatorSetIdProto,
  SparseTensorProto,
  StringStringEntryProto,
  TensorProto,
  TensorShapeProto,
  TensorShapeProto_Dimension,
  TrainingInfoProto,
  TypeProto,
  TypeProto_Map,
  TypeProto_Optional,
  TypeProto_Sequence,
  TypeProto_SparseTensor,
  TypeProto_Tensor,
  ValueInfoProto,
} from 'onnx-buf';
export {
  AttributeProtoSchema,
  AttributeProto_AttributeType,
  FunctionProtoSchema,
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  SparseTensorProtoSchema,
  StringStringEntryProtoSchema,
  TensorProtoSchema,
  TensorProto_DataLocation,
  TensorProto_DataType,
  TensorShapeProtoSchema,
  TensorShapeProto_DimensionSchema,
  TrainingInfoProtoSchema,
  TypeProtoSchema,
  TypeProto_MapSchema,
  TypeProto_OptionalSchema,
  TypeProto_SequenceSchema,
  TypeProto_SparseTensorSchema,
  TypeProto_TensorSchema,
  ValueInfoProtoSchema,
} from 'onnx-buf';
