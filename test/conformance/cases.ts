/**
 * The ONNX backend node test cases (Debian's libonnx-testdata): discovering them, loading their
 * inputs and expected outputs as tend tensors, and setting aside the cases V2 cannot carry.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromBinary } from '@bufbuild/protobuf';
import type { Tensor } from '../../src/core/tensor.js';
import type { TensorSpec } from '../../src/core/signature.js';
import { TensorProtoSchema, extractModelInfo, readModelFile, readTensorData } from '../../src/onnx/index.js';

/** Where Debian installs the node test cases (`apt-get install libonnx-testdata`). */
export const NODE_CASES_DIR = '/usr/share/libonnx-testdata/data/node';

/** A case whose inputs and outputs are all plain tensors of V2 datatypes. */
export interface CarriableCase {
  name: string;
  modelPath: string;
  carriable: true;
  /** Named after the graph inputs, in graph order. */
  inputs: Tensor[];
  /** Named after the graph outputs, in graph order. */
  expected: Tensor[];
}

/** A case left out of the counts, with the reason. */
export interface NotCarriableCase {
  name: string;
  carriable: false;
  reason: string;
}

export type ConformanceCase = CarriableCase | NotCarriableCase;

/** Case folder names under `dir`, sorted, keeping those whose name contains `filter` (when given). */
export function discoverCases(dir: string, filter?: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, 'model.onnx')))
    .map((e) => e.name)
    .filter((name) => filter === undefined || filter === '' || name.includes(filter))
    .sort();
}

/** Why V2 cannot carry this input or output (null when it can): a sequence, an optional, bfloat16... */
export function uncarriableReason(role: 'input' | 'output', spec: TensorSpec): string | null {
  if (spec.datatype !== null) return null;
  return `${role} '${spec.name}' is ${spec.onnx_type}`;
}

/** The short category of a reason, for the summary: `seq`, `optional`, `bfloat16`, `map`... */
export function reasonCategory(reason: string): string {
  const type = /is ([a-z_]+)\(([a-z0-9]+)?/.exec(reason);
  if (type === null) return 'other';
  const [, outer, inner] = type;
  return outer === 'tensor' && inner !== undefined ? inner : (outer ?? 'other');
}

function dataFiles(dir: string, prefix: 'input' | 'output'): string[] {
  const pattern = new RegExp(`^${prefix}_([0-9]+)\\.pb$`);
  return readdirSync(dir)
    .map((f) => pattern.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .sort((a, b) => Number(a[1]) - Number(b[1]))
    .map((m) => join(dir, m[0]));
}

function readTensorFile(path: string, name: string): Tensor {
  // A plain Uint8Array, not the Buffer readFileSync gives: readTensorData copies raw_data with
  // `.slice()`, which on a Buffer is a view, and then reads from the start of the whole file.
  const proto = fromBinary(TensorProtoSchema, new Uint8Array(readFileSync(path)));
  const value = readTensorData(proto);
  return { name, datatype: value.datatype, shape: value.dims, data: value.data };
}

/**
 * Load one case: its model's signature decides whether V2 can carry it; then test_data_set_0's
 * input_N.pb / output_N.pb (TensorProtos) are decoded in graph order.
 */
export function loadCase(dir: string, name: string): ConformanceCase {
  const modelPath = join(dir, name, 'model.onnx');
  let signature;
  try {
    signature = extractModelInfo(readModelFile(modelPath)).signature;
  } catch (err) {
    return { name, carriable: false, reason: `model does not parse: ${(err as Error).message}` };
  }
  for (const spec of signature.inputs) {
    const reason = uncarriableReason('input', spec);
    if (reason !== null) return { name, carriable: false, reason };
  }
  for (const spec of signature.outputs) {
    const reason = uncarriableReason('output', spec);
    if (reason !== null) return { name, carriable: false, reason };
  }
  const dataDir = join(dir, name, 'test_data_set_0');
  const inputFiles = dataFiles(dataDir, 'input');
  const outputFiles = dataFiles(dataDir, 'output');
  if (inputFiles.length !== signature.inputs.length || outputFiles.length !== signature.outputs.length) {
    return {
      name,
      carriable: false,
      reason: `test data has ${inputFiles.length} inputs and ${outputFiles.length} outputs, the graph ${signature.inputs.length} and ${signature.outputs.length}`,
    };
  }
  try {
    const inputs = inputFiles.map((f, i) => readTensorFile(f, signature.inputs[i]?.name ?? ''));
    const expected = outputFiles.map((f, i) => readTensorFile(f, signature.outputs[i]?.name ?? ''));
    return { name, modelPath, carriable: true, inputs, expected };
  } catch (err) {
    // e.g. a TensorProto of a type the model's declared signature hid (graph typed loosely)
    return { name, carriable: false, reason: `test data does not decode: ${(err as Error).message}` };
  }
}
