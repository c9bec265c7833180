/**
 * The binary tensor extension of the V2 HTTP protocol (Triton's): a body whose first
 * `Inference-Header-Content-Length` bytes are the JSON request and whose rest holds the raw
 * little-endian elements of the inputs that declare `parameters.binary_data_size`, in order.
 * BYTES elements are a 4-byte little-endian length followed by the bytes. Outputs are sent the same
 * way when the request asks (`binary_data_output`, or `binary_data` on one output).
 */
import { errors } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import { rawTensorBytes, tensorDataFromRaw } from '../protocol/raw-tensors.js';
import type { InferResponse } from '../../engine/index.js';
import type { BinaryInputReader } from './v2-json.js';

export const HEADER_LENGTH = 'inference-header-content-length';

/** Split a body at the declared JSON length; an invalid or too large length is the client's error. */
export function splitBinaryBody(body: Buffer, headerValue: string): { json: Buffer; binary: Buffer } {
  if (!/^[0-9]+$/.test(headerValue.trim())) {
    throw errors.invalidInput(
      `Inference-Header-Content-Length must be a non-negative integer, got '${headerValue}'`,
    );
  }
  const length = Number(headerValue.trim());
  if (length > body.length) {
    throw errors.invalidInput(
      `Inference-Header-Content-Length is ${length} but the body has only ${body.length} bytes`,
    );
  }
  return { json: body.subarray(0, length), binary: body.subarray(length) };
}

/**
 * A reader over the binary part of a request: each call takes the next input's bytes and turns them
 * into a fresh typed array (one copy; the runtime then transfers its buffer to the worker).
 * `finish()` checks that no bytes were left over.
 */
export function binaryInputReader(binary: Buffer): { read: BinaryInputReader; finish(): void } {
  let offset = 0;
  const read: BinaryInputReader = (name, datatype, shape, sizeBytes) => {
    if (typeof sizeBytes !== 'number' || !Number.isSafeInteger(sizeBytes) || sizeBytes < 0) {
      throw errors.invalidInput(
        `input '${name}': parameters.binary_data_size must be a non-negative integer`,
      );
    }
    if (offset + sizeBytes > binary.length) {
      throw errors.invalidInput(
        `input '${name}': binary_data_size ${sizeBytes} runs past the end of the body (${binary.length - offset} bytes left)`,
      );
    }
    const bytes = binary.subarray(offset, offset + sizeBytes);
    offset += sizeBytes;
    return tensorDataFromRaw(name, datatype, shape, bytes, 'binary_data_size');
  };
  return {
    read,
    finish() {
      if (offset !== binary.length) {
        throw errors.invalidInput(
          `the body has ${binary.length - offset} bytes after the binary inputs it declares`,
        );
      }
    },
  };
}

/** Which outputs the request wants in binary: all (`binary_data_output`), some (`binary_data`), or none. */
export function binaryOutputChoice(body: unknown): { all: boolean; names: Set<string> } {
  const choice = { all: false, names: new Set<string>() };
  if (typeof body !== 'object' || body === null) return choice;
  const b = body as { parameters?: unknown; outputs?: unknown };
  const params = b.parameters as { binary_data_output?: unknown } | undefined;
  if (params?.binary_data_output === true) choice.all = true;
  if (Array.isArray(b.outputs)) {
    for (const o of b.outputs as { name?: unknown; parameters?: { binary_data?: unknown } }[]) {
      if (typeof o?.name === 'string' && o.parameters?.binary_data === true) choice.names.add(o.name);
    }
  }
  return choice;
}

/** A response with some outputs in binary: the JSON part (its length goes in the header) and the body. */
export function encodeBinaryResponse(
  response: InferResponse,
  choice: { all: boolean; names: Set<string> },
  encodeData: (t: Tensor) => string,
): { jsonLength: number; body: Buffer } {
  const chunks: Buffer[] = [];
  const outputs = response.outputs.map((t) => {
    const head = `{"name":${JSON.stringify(t.name)},"datatype":"${t.datatype}","shape":[${t.shape.join(',')}]`;
    if (choice.all || choice.names.has(t.name)) {
      const bytes = rawTensorBytes(t);
      chunks.push(bytes);
      return `${head},"parameters":{"binary_data_size":${bytes.length}}}`;
    }
    return `${head},"data":${encodeData(t)}}`;
  });
  const json = Buffer.from(
    `{"model_name":${JSON.stringify(response.model_name)},"model_version":"${response.model_version}","id":${JSON.stringify(response.id)},"outputs":[${outputs.join(',')}]}`,
  );
  return { jsonLength: json.length, body: Buffer.concat([json, ...chunks]) };
}

/** True when the choice asks for any binary output. */
export function wantsBinary(choice: { all: boolean; names: Set<string> }): boolean {
  return choice.all || choice.names.size > 0;
}
