/**
 * A minimal client of the V2 binary tensor extension, written from the protocol rather than from
 * the server's code: the request is a JSON header followed by each input's raw little-endian bytes
 * (BYTES: a 4-byte little-endian length before each element); every output is asked for in binary.
 */
import { BYTES_PER_ELEMENT, arrayConstructorFor, isDataType, type Tensor } from '../../src/core/tensor.js';

/** The body and header length of an infer request carrying every input in binary. */
export function encodeBinaryRequest(inputs: readonly Tensor[]): { body: Buffer; headerLength: number } {
  const chunks = inputs.map(tensorBytes);
  const header = {
    inputs: inputs.map((t, i) => ({
      name: t.name,
      datatype: t.datatype,
      shape: t.shape,
      parameters: { binary_data_size: chunks[i]?.length ?? 0 },
    })),
    parameters: { binary_data_output: true },
  };
  const json = Buffer.from(JSON.stringify(header));
  return { body: Buffer.concat([json, ...chunks]), headerLength: json.length };
}

function tensorBytes(t: Tensor): Buffer {
  if (Array.isArray(t.data)) {
    return Buffer.concat(
      t.data.flatMap((s) => {
        const text = Buffer.from(s, 'utf8');
        const length = Buffer.alloc(4);
        length.writeUInt32LE(text.length);
        return [length, text];
      }),
    );
  }
  return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

interface OutputHeader {
  name?: unknown;
  datatype?: unknown;
  shape?: unknown;
  parameters?: { binary_data_size?: unknown };
}

/**
 * The outputs of a binary response (JSON part of `headerLength` bytes, then the raw outputs in order).
 * @throws Error when the response does not follow the extension.
 */
export function decodeBinaryResponse(body: Buffer, headerLength: number): Tensor[] {
  const json = JSON.parse(body.subarray(0, headerLength).toString('utf8')) as { outputs?: OutputHeader[] };
  let offset = headerLength;
  return (json.outputs ?? []).map((o) => {
    const size = o.parameters?.binary_data_size;
    if (
      typeof o.name !== 'string' ||
      !isDataType(o.datatype) ||
      !Array.isArray(o.shape) ||
      typeof size !== 'number'
    ) {
      throw new Error(`output is not a binary output: ${JSON.stringify(o)}`);
    }
    if (offset + size > body.length) throw new Error(`output '${o.name}' runs past the end of the body`);
    const bytes = body.subarray(offset, offset + size);
    offset += size;
    const shape = o.shape as number[];
    const count = shape.reduce((n, d) => n * d, 1);
    if (o.datatype === 'BYTES')
      return { name: o.name, datatype: 'BYTES', shape, data: decodeStrings(bytes, count) };
    if (size !== count * BYTES_PER_ELEMENT[o.datatype]) {
      throw new Error(`output '${o.name}' has ${size} bytes for ${count} ${o.datatype} elements`);
    }
    // Copy into a fresh buffer: the raw part is not aligned for 2-, 4- or 8-byte elements.
    const data = new (arrayConstructorFor(o.datatype))(count);
    new Uint8Array(data.buffer).set(bytes);
    return { name: o.name, datatype: o.datatype, shape, data };
  });
}

function decodeStrings(bytes: Buffer, count: number): string[] {
  const out: string[] = [];
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const length = bytes.readUInt32LE(offset);
    out.push(bytes.toString('utf8', offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  if (offset !== bytes.length)
    throw new Error(`${bytes.length - offset} bytes follow ${count} BYTES elements`);
  return out;
}
