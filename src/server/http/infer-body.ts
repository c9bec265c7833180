/**
 * One V2 infer body (JSON, or JSON + binary tensors) to an InferRequest and the caller's choice of
 * binary outputs. Runs on the main thread for small bodies and in a body-parsing worker for large ones
 * (json-body-pool.ts), so it imports nothing beyond the protocol decoders.
 */
import type { InferRequest } from '../../engine/index.js';
import { binaryInputReader, binaryOutputChoice, splitBinaryBody } from './v2-binary.js';
import { decodeInferRequest, parseJsonBody } from './v2-json.js';

export interface DecodedInferBody {
  request: InferRequest;
  binaryOutputs: { all: boolean; names: Set<string> };
}

/** Decode a request body; `headerLength` is the Inference-Header-Content-Length header, when sent. */
export function decodeInferBody(body: Buffer, headerLength: string | undefined): DecodedInferBody {
  if (headerLength !== undefined) {
    // Binary tensor extension: JSON first, then the raw bytes of the inputs that declare binary_data_size.
    const { json, binary } = splitBinaryBody(body, headerLength);
    const parsed = parseJsonBody(json);
    const reader = binaryInputReader(binary);
    const request = decodeInferRequest(parsed, reader.read);
    reader.finish();
    return { request, binaryOutputs: binaryOutputChoice(parsed) };
  }
  const parsed = parseJsonBody(body);
  return { request: decodeInferRequest(parsed), binaryOutputs: binaryOutputChoice(parsed) };
}

/** Bytes of the JSON part of a body of `bodyBytes` (all of it without the binary extension). */
export function jsonPartBytes(bodyBytes: number, headerLength: string | undefined): number {
  if (headerLength === undefined) return bodyBytes;
  const n = Number(headerLength);
  return Number.isSafeInteger(n) && n >= 0 ? Math.min(n, bodyBytes) : bodyBytes;
}
