/**
 * The gRPC service definition, read from proto/grpc_service.proto (the KServe V2 protocol with
 * Triton's extensions), and the shapes of the messages as the handlers see them.
 */
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { errors } from '../../core/errors.js';

/** src/server/grpc and dist/server/grpc are both three folders below the package root. */
export const PROTO_PATH = fileURLToPath(new URL('../../../proto/grpc_service.proto', import.meta.url));

/**
 * How messages map to objects: field names as in the proto, 64-bit integers as decimal strings (no
 * precision lost), bytes as Buffers (views on the received message, no copy), missing scalars as
 * their defaults, oneofs naming the field that is set.
 */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  arrays: true,
  objects: true,
  oneofs: true,
  // grpc_service.proto imports model_config.proto from its own folder.
  includeDirs: [dirname(PROTO_PATH)],
};

let cached: grpc.ServiceDefinition | undefined;

/** The `inference.GRPCInferenceService` definition (loaded once). */
export function inferenceServiceDefinition(): grpc.ServiceDefinition {
  if (cached) return cached;
  const definition = protoLoader.loadSync(PROTO_PATH, LOADER_OPTIONS);
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    inference: { GRPCInferenceService: { service: grpc.ServiceDefinition } };
  };
  const service: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  // A message protobuf cannot decode reaches the handler as an UndecodableMessage (answered
  // INVALID_ARGUMENT): grpc-js would end the call with INTERNAL itself and, in a stream that has
  // already answered, never end it at all (grpc-js 1.14).
  for (const [name, method] of Object.entries(loaded.inference.GRPCInferenceService.service)) {
    const decode = method.requestDeserialize;
    service[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        try {
          return decode(bytes);
        } catch (err) {
          return new UndecodableMessage((err as Error).message);
        }
      },
    };
  }
  cached = service;
  return cached;
}

/** A request message protobuf could not decode. */
export class UndecodableMessage {
  constructor(readonly reason: string) {}
}

/** The error for an undecodable request message (the caller's: INVALID_ARGUMENT). */
export function undecodable(message: UndecodableMessage): Error {
  return errors.invalidArgument(`the request is not a valid protobuf message of its type: ${message.reason}`);
}

export type Int64 = string | number;

export interface InferParameter {
  parameter_choice?: 'bool_param' | 'int64_param' | 'string_param' | 'double_param' | 'uint64_param';
  bool_param?: boolean;
  int64_param?: Int64;
  string_param?: string;
  double_param?: number;
  uint64_param?: Int64;
}

export interface InferTensorContents {
  bool_contents: boolean[];
  int_contents: number[];
  int64_contents: Int64[];
  uint_contents: number[];
  uint64_contents: Int64[];
  fp32_contents: number[];
  fp64_contents: number[];
  bytes_contents: Uint8Array[];
}

export interface InferInputTensor {
  name: string;
  datatype: string;
  shape: Int64[];
  parameters: Record<string, InferParameter>;
  contents: InferTensorContents | null;
}

export interface ModelInferRequestMessage {
  model_name: string;
  model_version: string;
  id: string;
  parameters: Record<string, InferParameter>;
  inputs: InferInputTensor[];
  outputs: { name: string; parameters: Record<string, InferParameter> }[];
  raw_input_contents: Uint8Array[];
}

export interface ModelInferResponseMessage {
  model_name: string;
  model_version: string;
  id: string;
  outputs: { name: string; datatype: string; shape: number[] }[];
  raw_output_contents: Uint8Array[];
}
