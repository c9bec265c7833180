/**
 * Before the protocols are timed, one fixed input goes through each of them (V2 JSON, the binary
 * tensor extension, gRPC raw contents) and through onnxruntime in-process; the outputs are compared
 * byte for byte. A protocol that answered differently would be measuring a different thing.
 */
import { arrayConstructorFor, isDataType, type Tensor } from '../src/core/tensor.js';
import {
  decodeModelInferResponse,
  encodeModelInferRequest,
  openInferenceClient,
  sendModelInfer,
} from './grpc-infer.js';
import { tensorBytes, v2BinaryBody, v2JsonBody } from './models.js';

/** Output name → its elements as raw little-endian bytes. */
export type RawOutputs = Map<string, Buffer>;

export interface OutputCheck {
  model: string;
  /** Output names and element counts, e.g. "logits [1,10]". */
  outputs: string[];
  /** JSON, binary and gRPC answered the same bytes. */
  protocolsIdentical: boolean;
  /** ... and those bytes are onnxruntime's own (same input, batch 1, in the bench process). */
  matchesRawOrt: boolean;
  /** What differed, when something did. */
  differences: string[];
}

interface JsonOutput {
  name: string;
  datatype: string;
  shape: number[];
  data?: unknown[];
  parameters?: { binary_data_size?: number };
}

/** The raw bytes of one output of a V2 JSON answer (its numbers re-encoded as the declared type). */
export function jsonOutputBytes(output: JsonOutput): Buffer {
  const { datatype, data } = output;
  if (!Array.isArray(data)) throw new Error(`output '${output.name}' has no data`);
  if (!isDataType(datatype) || datatype === 'BYTES' || datatype === 'FP16')
    throw new Error(`output '${output.name}': datatype ${datatype} is not compared by the bench`);
  const Ctor = arrayConstructorFor(datatype);
  const typed =
    datatype === 'INT64' || datatype === 'UINT64'
      ? (Ctor as BigInt64ArrayConstructor).from(data, (v) => BigInt(v as number))
      : (Ctor as Float64ArrayConstructor).from(data, (v) => (v === null ? Number.NaN : Number(v)));
  return Buffer.from(typed.buffer, typed.byteOffset, typed.byteLength);
}

async function postOrThrow(url: string, init: RequestInit): Promise<Response> {
  const res = await fetch(url, init);
  if (res.status !== 200)
    throw new Error(`POST ${url} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
  return res;
}

/** Outputs of a V2 JSON request. */
export async function outputsOverJson(url: string, inputs: readonly Tensor[]): Promise<RawOutputs> {
  const res = await postOrThrow(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: v2JsonBody(inputs),
  });
  const body = (await res.json()) as { outputs?: JsonOutput[] };
  return new Map((body.outputs ?? []).map((o) => [o.name, jsonOutputBytes(o)]));
}

/** Outputs of a binary-extension request that asks for binary outputs. */
export async function outputsOverBinary(url: string, inputs: readonly Tensor[]): Promise<RawOutputs> {
  const { body, headerLength } = v2BinaryBody(inputs);
  const res = await postOrThrow(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': String(headerLength),
    },
    body,
  });
  const jsonLength = Number(res.headers.get('inference-header-content-length'));
  const answer = Buffer.from(await res.arrayBuffer());
  if (!Number.isSafeInteger(jsonLength) || jsonLength <= 0 || jsonLength > answer.length) {
    throw new Error(`binary answer of ${url} has no valid Inference-Header-Content-Length`);
  }
  const header = JSON.parse(answer.subarray(0, jsonLength).toString('utf8')) as { outputs?: JsonOutput[] };
  const out: RawOutputs = new Map();
  let offset = jsonLength;
  for (const o of header.outputs ?? []) {
    const size = o.parameters?.binary_data_size;
    if (size === undefined) {
      out.set(o.name, jsonOutputBytes(o));
      continue;
    }
    out.set(o.name, answer.subarray(offset, offset + size));
    offset += size;
  }
  if (offset !== answer.length)
    throw new Error(`binary answer of ${url} has ${answer.length - offset} bytes beyond its outputs`);
  return out;
}

/** Outputs of a gRPC ModelInfer call with raw input contents. */
export async function outputsOverGrpc(
  address: string,
  model: string,
  inputs: readonly Tensor[],
): Promise<RawOutputs> {
  const client = openInferenceClient(address, { ownConnection: false });
  try {
    const answer = decodeModelInferResponse(
      await sendModelInfer(client, encodeModelInferRequest(model, inputs)),
    );
    return new Map(
      answer.outputs.map((o, i) => [o.name, Buffer.from(answer.raw_output_contents[i] ?? Buffer.alloc(0))]),
    );
  } finally {
    client.close();
  }
}

/** Names of the outputs where `b` differs from `a` (missing, extra, or other bytes). */
export function differingOutputs(a: RawOutputs, b: RawOutputs): string[] {
  const names = new Set([...a.keys(), ...b.keys()]);
  return [...names].filter((name) => {
    const x = a.get(name);
    const y = b.get(name);
    return x === undefined || y === undefined || !x.equals(y);
  });
}

export interface CheckTargets {
  model: string;
  httpInferUrl: string;
  grpcAddress: string;
  /** onnxruntime's outputs for the same inputs. */
  rawOrt: readonly Tensor[];
}

/** Send `inputs` over the three protocols and compare the answers with each other and with onnxruntime. */
export async function checkProtocolOutputs(
  targets: CheckTargets,
  inputs: readonly Tensor[],
): Promise<OutputCheck> {
  const json = await outputsOverJson(targets.httpInferUrl, inputs);
  const binary = await outputsOverBinary(targets.httpInferUrl, inputs);
  const grpc = await outputsOverGrpc(targets.grpcAddress, targets.model, inputs);
  const raw: RawOutputs = new Map(targets.rawOrt.map((t) => [t.name, tensorBytes(t)]));
  const differences: string[] = [];
  for (const [label, got] of [
    ['binary', binary],
    ['gRPC', grpc],
  ] as const) {
    for (const name of differingOutputs(json, got)) differences.push(`${label} vs JSON: output '${name}'`);
  }
  const protocolsIdentical = differences.length === 0;
  const rawDiff = differingOutputs(raw, json);
  for (const name of rawDiff) differences.push(`JSON vs raw onnxruntime: output '${name}'`);
  return {
    model: targets.model,
    outputs: targets.rawOrt.map((t) => `${t.name} ${t.datatype} [${t.shape.join(',')}]`),
    protocolsIdentical,
    matchesRawOrt: rawDiff.length === 0,
    differences,
  };
}
