/** Reading and writing ONNX model files (binary protobuf), byte-identical on a round trip. */
import { readFileSync } from 'node:fs';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import type { ModelProto } from 'onnx-buf';
import { errors } from '../core/errors.js';

export type { ModelProto, GraphProto, NodeProto, TensorProto, ValueInfoProto } from './proto.js';

/**
 * Parse the bytes of an `.onnx` file.
 * @throws TendError TEND_INVALID_MODEL when the bytes are not a protobuf ModelProto with a graph.
 */
export function readModel(bytes: Uint8Array): ModelProto {
  if (bytes.byteLength === 0) throw errors.invalidModel('not an ONNX model: the data is empty');
  let model: ModelProto;
  try {
    model = fromBinary(ModelProtoSchema, bytes);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw errors.invalidModel(`not an ONNX model: ${reason}`, err);
  }
  // Arbitrary bytes often decode as a protobuf of unknown fields; a real model always has both.
  if (model.graph === undefined) throw errors.invalidModel('not an ONNX model: it has no graph');
  if (model.irVersion <= 0n) throw errors.invalidModel('not an ONNX model: it declares no ir_version');
  return model;
}

/**
 * Read and parse an `.onnx` file.
 * @throws TendError TEND_INVALID_MODEL naming the path when it cannot be read or parsed.
 */
export function readModelFile(path: string): ModelProto {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
    throw errors.invalidModel(`cannot read model file '${path}' (${reason})`, err);
  }
  try {
    return readModel(bytes);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw errors.invalidModel(`${path}: ${reason}`, err);
  }
}

/** Serialize a model to the bytes of an `.onnx` file. */
export function writeModel(model: ModelProto): Uint8Array {
  return toBinary(ModelProtoSchema, model);
}
