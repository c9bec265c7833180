/**
 * ModelInfer calls for the benchmarks, with the service definition tend itself serves (read from
 * proto/grpc_service.proto). The request is encoded once and sent as bytes, and the load
 * generator does not decode answers: like wrk over HTTP, the client spends as little CPU as it can,
 * which matters when it shares two cores with the server. This module stays light (no engine, no
 * onnxruntime, no bench models): the load generator's child process imports it.
 */
import * as grpc from '@grpc/grpc-js';
import type { Tensor } from '../src/core/tensor.js';
// definition.js, not index.js: the load generator's child process should not load the engine and onnxruntime.
import { inferenceServiceDefinition } from '../src/server/grpc/definition.js';

export interface InferenceClientOptions {
  /**
   * Give this client its own HTTP/2 connection. grpc-js otherwise shares one connection between
   * clients of the same address, so "two channels" would still be one connection.
   */
  ownConnection: boolean;
}

let cachedMethod: grpc.MethodDefinition<unknown, unknown> | undefined;

function modelInferMethod(): grpc.MethodDefinition<unknown, unknown> {
  cachedMethod ??= inferenceServiceDefinition()['ModelInfer'];
  if (cachedMethod === undefined) throw new Error('the gRPC service definition has no ModelInfer');
  return cachedMethod;
}

/** A client of tend's gRPC service at `address` (host:port), plaintext. */
export function openInferenceClient(address: string, options: InferenceClientOptions): grpc.Client {
  return new grpc.Client(address, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': -1,
    'grpc.max_send_message_length': -1,
    ...(options.ownConnection ? { 'grpc.use_local_subchannel_pool': 1 } : {}),
  });
}

/** Wait until the client is connected (or fail after `timeoutMs`). */
export function waitForConnection(client: grpc.Client, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    client.waitForReady(Date.now() + timeoutMs, (err) => (err ? reject(err) : resolve()));
  });
}

/** The encoded ModelInferRequest of batch `inputs` for `model`, every input in raw_input_contents. */
export function encodeModelInferRequest(model: string, inputs: readonly Tensor[]): Buffer {
  const message = {
    model_name: model,
    inputs: inputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape })),
    raw_input_contents: inputs.map((t) => {
      if (Array.isArray(t.data))
        throw new Error(`input '${t.name}': BYTES inputs are not supported by the bench`);
      return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    }),
  };
  return modelInferMethod().requestSerialize(message);
}

const passBytes = (bytes: Buffer): Buffer => bytes;

/** Send an encoded request; resolves with the encoded answer (not decoded). */
export function sendModelInfer(client: grpc.Client, request: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest<Buffer, Buffer>(
      modelInferMethod().path,
      passBytes,
      passBytes,
      request,
      (err, answer) =>
        err || answer === undefined
          ? reject(err ?? new Error('ModelInfer answered nothing'))
          : resolve(answer),
    );
  });
}

/** Send one encoded request with a completion callback: the load generator's hot path, no promise per call. */
export function sendModelInferCallback(
  client: grpc.Client,
  request: Buffer,
  done: (err: grpc.ServiceError | null) => void,
): void {
  client.makeUnaryRequest<Buffer, Buffer>(modelInferMethod().path, passBytes, passBytes, request, (err) =>
    done(err),
  );
}

export interface DecodedInferResponse {
  outputs: { name: string; datatype: string; shape: string[] }[];
  raw_output_contents: Buffer[];
}

/** Decode an encoded ModelInferResponse. */
export function decodeModelInferResponse(bytes: Buffer): DecodedInferResponse {
  return modelInferMethod().responseDeserialize(bytes) as DecodedInferResponse;
}
