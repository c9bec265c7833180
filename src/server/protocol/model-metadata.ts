/** The V2 model metadata object, shared by HTTP and gRPC. */
import { v2Shape } from '../../core/signature.js';
import type { Engine, ServedVersion } from '../../engine/index.js';

export interface TensorMetadata {
  name: string;
  datatype: string;
  shape: number[];
}

export interface ModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
}

/** Metadata of `sv`, listing the ready versions of its model. */
export function modelMetadata(engine: Engine, sv: ServedVersion): ModelMetadata {
  const served = engine.table.listServed().find((m) => m.name === sv.model);
  const ready = (served?.versions ?? [sv]).filter((v) => v.isReady).map((v) => String(v.version));
  return {
    name: sv.model,
    versions: ready.length > 0 ? ready : [String(sv.version)],
    platform: 'onnxruntime_onnx',
    inputs: sv.signature.inputs.map((s) => ({
      name: s.name,
      datatype: s.datatype ?? s.onnx_type,
      shape: v2Shape(s.shape),
    })),
    outputs: sv.signature.outputs.map((s) => ({
      name: s.name,
      datatype: s.datatype ?? s.onnx_type,
      shape: v2Shape(s.shape),
    })),
  };
}
