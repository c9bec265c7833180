/** Valid tensor values for the fuzz models' inputs, as JSON arrays and as raw little-endian bytes. */
import type { DataType } from '../../src/core/tensor.js';
import type { FuzzRandom } from './fuzz-random.js';
import type { FuzzInputSpec } from './fuzz-models.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** One valid element of `datatype` for input `name` (lookup's x stays an index into its table). */
export function validElement(r: FuzzRandom, datatype: DataType, name: string): number | boolean | string {
  switch (datatype) {
    case 'FP32':
    case 'FP64':
      return Math.fround(r.float() * 2 - 0.5);
    case 'FP16':
      return Math.round((r.float() * 200 - 100) * 8) / 8;
    case 'INT64':
      return name === 'x' ? r.int(-10, 9) : r.int(-1000, 1000);
    case 'BOOL':
      return r.chance(0.5);
    case 'BYTES':
      return r.chance(0.8) ? r.ascii(12) : r.pick(['é', '😀 ok', 'a\tb', '中文']);
    case 'UINT8':
      return r.int(0, 255);
    default:
      return r.int(0, 100);
  }
}

/** A valid V2 JSON input: shape [batch, ...inner], flat data (sometimes nested as the shape says). */
export function validJsonInput(r: FuzzRandom, spec: FuzzInputSpec, batch: number): Record<string, JsonValue> {
  const shape = [batch, ...spec.inner];
  const count = shape.reduce((a, b) => a * b, 1);
  const flat = Array.from({ length: count }, () => validElement(r, spec.datatype, spec.name));
  const inner = spec.inner.reduce((a, b) => a * b, 1);
  const data: JsonValue[] = r.chance(0.2)
    ? Array.from({ length: batch }, (_, b) => flat.slice(b * inner, (b + 1) * inner))
    : flat;
  return { name: spec.name, datatype: spec.datatype, shape, data };
}

/** Raw little-endian bytes of flat JSON elements (BYTES: 4-byte length prefix per element). */
export function rawBytesOf(datatype: DataType, values: readonly (number | boolean | string)[]): Buffer {
  const n = values.length;
  switch (datatype) {
    case 'FP32':
      return Buffer.from(Float32Array.from(values as number[]).buffer);
    case 'FP64':
      return Buffer.from(Float64Array.from(values as number[]).buffer);
    case 'INT64':
      return Buffer.from(BigInt64Array.from(values as number[], (v) => BigInt(v)).buffer);
    case 'BOOL':
      return Buffer.from(values.map((v) => (v ? 1 : 0)));
    case 'UINT8':
      return Buffer.from(values as number[]);
    case 'FP16': {
      // Rounded to a multiple of 1/8 within ±100: exact in half precision (10-bit mantissa).
      const out = Buffer.alloc(2 * n);
      values.forEach((v, i) => out.writeUInt16LE(halfBits(v as number), 2 * i));
      return out;
    }
    case 'BYTES': {
      const parts: Buffer[] = [];
      for (const v of values) {
        const text = Buffer.from(String(v), 'utf8');
        const prefix = Buffer.alloc(4);
        prefix.writeUInt32LE(text.length, 0);
        parts.push(prefix, text);
      }
      return Buffer.concat(parts);
    }
    default:
      return Buffer.from(Int32Array.from(values as number[]).buffer);
  }
}

/** Half-precision bits of a value exactly representable in FP16 (test data only). */
function halfBits(value: number): number {
  if (value === 0) return Object.is(value, -0) ? 0x8000 : 0;
  const sign = value < 0 ? 0x8000 : 0;
  const abs = Math.abs(value);
  const exp = Math.floor(Math.log2(abs));
  if (exp < -14) return sign | Math.round(abs / 2 ** -24);
  const mantissa = Math.round((abs / 2 ** exp - 1) * 1024);
  return sign | ((exp + 15) << 10) | mantissa;
}
