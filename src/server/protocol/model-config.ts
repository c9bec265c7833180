/**
 * A served version's configuration in Triton's `ModelConfig` shape (proto/model_config.proto), for
 * `GET /v2/models/{m}[/versions/{v}]/config` and the gRPC `ModelConfig` rpc: tools written for
 * Triton (perf_analyzer, tritonclient's get_model_config, model analyzers) read it before anything
 * else to learn the batch size and the tensors.
 *
 * Built from what the server actually uses — the config after defaults and the signature read from
 * the file — so it answers the same for a registry model as for a repository model with or without
 * a config.yaml. Field names are the proto's; enums are their names and 64-bit numbers are JSON
 * numbers, as Triton's own JSON has them (the gRPC encoder takes both).
 */
import {
  DEFAULT_DYNAMIC_BATCHING,
  DEFAULT_SESSION_PARAMETERS,
  DEFAULT_VERSION_POLICY,
} from '../../core/config.js';
import type { TensorSpec } from '../../core/signature.js';
import { v2Shape } from '../../core/signature.js';
import type { ServedVersion } from '../../engine/index.js';

/** Triton's DataType enum names, by V2 datatype (V2's BYTES is Triton's TYPE_STRING). */
const DATA_TYPES: Readonly<Record<string, string>> = {
  BOOL: 'TYPE_BOOL',
  UINT8: 'TYPE_UINT8',
  UINT16: 'TYPE_UINT16',
  UINT32: 'TYPE_UINT32',
  UINT64: 'TYPE_UINT64',
  INT8: 'TYPE_INT8',
  INT16: 'TYPE_INT16',
  INT32: 'TYPE_INT32',
  INT64: 'TYPE_INT64',
  FP16: 'TYPE_FP16',
  FP32: 'TYPE_FP32',
  FP64: 'TYPE_FP64',
  BYTES: 'TYPE_STRING',
  BF16: 'TYPE_BF16',
};

export interface TritonModelInput {
  name: string;
  data_type: string;
  format: 'FORMAT_NONE';
  dims: number[];
  is_shape_tensor: boolean;
  allow_ragged_batch: boolean;
  optional: boolean;
}

export interface TritonModelOutput {
  name: string;
  data_type: string;
  dims: number[];
  label_filename: string;
  is_shape_tensor: boolean;
}

export interface TritonQueuePolicy {
  timeout_action: 'REJECT' | 'DELAY';
  default_timeout_microseconds: number;
  allow_timeout_override: boolean;
  max_queue_size: number;
}

export interface TritonDynamicBatching {
  preferred_batch_size: number[];
  max_queue_delay_microseconds: number;
  preserve_ordering: boolean;
  priority_levels: number;
  default_priority_level: number;
  default_queue_policy: TritonQueuePolicy;
}

export interface TritonInstanceGroup {
  name: string;
  kind: 'KIND_CPU';
  count: number;
  gpus: number[];
  profile: string[];
  passive: boolean;
  host_policy: string;
}

export interface TritonModelConfig {
  name: string;
  platform: 'onnxruntime_onnx';
  backend: 'onnxruntime';
  version_policy:
    | { latest: { num_versions: number } }
    | { all: Record<string, never> }
    | { specific: { versions: number[] } };
  max_batch_size: number;
  input: TritonModelInput[];
  output: TritonModelOutput[];
  /** Absent when batching is off (`dynamic_batching: false`, or a model without a batch dimension). */
  dynamic_batching?: TritonDynamicBatching;
  instance_group: TritonInstanceGroup[];
  default_model_filename: string;
  /** Session settings, named as Triton's onnxruntime backend names them, and tend's isolation. */
  parameters: Record<string, { string_value: string }>;
}

function dataType(spec: TensorSpec): string {
  return (spec.datatype !== null ? DATA_TYPES[spec.datatype] : undefined) ?? 'TYPE_INVALID';
}

/** Dims as Triton gives them: without the batch dimension when the model batches, -1 for any size. */
function dims(spec: TensorSpec, batched: boolean): number[] {
  const shape = v2Shape(spec.shape);
  return batched && spec.shape !== null ? shape.slice(1) : shape;
}

/** The Triton model configuration of a served version. */
export function tritonModelConfig(sv: ServedVersion): TritonModelConfig {
  const config = sv.config;
  const batched = sv.maxBatchSize > 0;
  const session = { ...DEFAULT_SESSION_PARAMETERS, ...config.parameters };
  const groups = config.instance_group ?? [{ count: 1, isolation: 'thread' as const }];
  const parameters: Record<string, { string_value: string }> = {
    graph_optimization_level: { string_value: session.graph_optimization_level },
    isolation: { string_value: groups.map((g) => g.isolation).join(',') },
  };
  if (session.intra_op_thread_count !== undefined)
    parameters['intra_op_thread_count'] = { string_value: String(session.intra_op_thread_count) };
  if (session.inter_op_thread_count !== undefined)
    parameters['inter_op_thread_count'] = { string_value: String(session.inter_op_thread_count) };
  const result: TritonModelConfig = {
    name: sv.model,
    platform: 'onnxruntime_onnx',
    backend: 'onnxruntime',
    version_policy: config.version_policy ?? DEFAULT_VERSION_POLICY,
    max_batch_size: sv.maxBatchSize,
    input: sv.signature.inputs.map((s) => ({
      name: s.name,
      data_type: dataType(s),
      format: 'FORMAT_NONE',
      dims: dims(s, batched),
      is_shape_tensor: false,
      allow_ragged_batch: false,
      optional: false,
    })),
    output: sv.signature.outputs.map((s) => ({
      name: s.name,
      data_type: dataType(s),
      dims: dims(s, batched),
      label_filename: '',
      is_shape_tensor: false,
    })),
    instance_group: groups.map((g, i) => ({
      name: `${sv.model}_${i}`,
      kind: 'KIND_CPU',
      count: g.count,
      gpus: [],
      profile: [],
      passive: false,
      host_policy: '',
    })),
    default_model_filename: 'model.onnx',
    parameters,
  };
  if (batched && config.dynamic_batching !== false) {
    const d = config.dynamic_batching ?? DEFAULT_DYNAMIC_BATCHING;
    result.dynamic_batching = {
      preferred_batch_size: d.preferred_batch_size,
      max_queue_delay_microseconds: d.max_queue_delay_microseconds,
      preserve_ordering: false,
      priority_levels: d.priority_levels,
      default_priority_level: d.default_priority_level ?? d.priority_levels,
      default_queue_policy: {
        timeout_action: 'REJECT',
        default_timeout_microseconds: d.default_timeout_microseconds,
        allow_timeout_override: true,
        max_queue_size: d.max_queue_size,
      },
    };
  }
  return result;
}
