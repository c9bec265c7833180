/**
 * Tensor elements as raw little-endian bytes, the form both the HTTP binary extension and gRPC's
 * `raw_input_contents` / `raw_output_contents` use. BYTES elements are each a 4-byte little-endian
 * length followed by the bytes.
 */
import { errors } from '../../core/errors.js';
import {
  BYTES_PER_ELEMENT,
  arrayConstructorFor,
  elementCount,
  type DataType,
  type Tensor,
} from '../../core/tensor.js';

/** Decode BYTES elements: each a 4-byte little-endian length, then that many bytes (UTF-8). */
export function decodeBytesElements(name: string, bytes: Uint8Array, count: number): string[] {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Array<string>(count);
  let offset = 0;
  for (let i = 0; i < count; i++) {
    if (offset + 4 > buf.length)
      throw errors.invalidInput(`input '${name}': BYTES element ${i} has a truncated length prefix`);
    const length = buf.readUInt32LE(offset);
    offset += 4;
    if (offset + length > buf.length) {
      throw errors.invalidInput(
        `input '${name}': BYTES element ${i} declares ${length} bytes but only ${buf.length - offset} remain`,
      );
    }
    out[i] = buf.toString('utf8', offset, offset + length);
    offset += length;
  }
  if (offset !== buf.length)
    throw errors.invalidInput(
      `input '${name}': ${buf.length - offset} bytes follow its ${count} BYTES elements`,
    );
  return out;
}

/**
 * The elements of one input from its raw bytes, checked against the shape. Fixed-size types are
 * copied once into a fresh, aligned typed array (the runtime then transfers its buffer to the worker).
 * `what` names the source in messages (e.g. "binary_data_size", "raw_input_contents").
 */
export function tensorDataFromRaw(
  name: string,
  datatype: DataType,
  shape: readonly number[],
  bytes: Uint8Array,
  what: string,
): Tensor['data'] {
  const count = elementCount(shape);
  if (datatype === 'BYTES') return decodeBytesElements(name, bytes, count);
  const need = count * BYTES_PER_ELEMENT[datatype];
  if (bytes.length !== need) {
    throw errors.invalidInput(
      `input '${name}': ${what} is ${bytes.length} bytes but shape ${JSON.stringify(shape)} of ${datatype} needs ${need}`,
    );
  }
  const data = new (arrayConstructorFor(datatype))(count);
  new Uint8Array(data.buffer, data.byteOffset, data.byteLength).set(bytes);
  if (datatype === 'BOOL') {
    const flags = data as Uint8Array;
    for (let i = 0; i < flags.length; i++) {
      if ((flags[i] as number) > 1)
        throw errors.invalidInput(`input '${name}': BOOL element ${i} is ${flags[i]}, expected 0 or 1`);
    }
  }
  return data;
}

/** The raw bytes of a tensor: a view on its typed array (no copy), or the length-prefixed BYTES. */
export function rawTensorBytes(t: Tensor): Buffer {
  if (Array.isArray(t.data)) {
    const parts: Buffer[] = [];
    for (const s of t.data) {
      const text = Buffer.from(s, 'utf8');
      const prefix = Buffer.allocUnsafe(4);
      prefix.writeUInt32LE(text.length, 0);
      parts.push(prefix, text);
    }
    return Buffer.concat(parts);
  }
  return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}
