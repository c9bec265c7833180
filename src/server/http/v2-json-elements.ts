/**
 * The element arrays of V2 JSON tensors: flat JSON values to the typed array of a datatype (every
 * element checked, the bad one named), and typed arrays back to exact JSON text.
 */
import { type TendError, errors } from '../../core/errors.js';
import { floatToHalfBits, halfBitsToFloat } from '../../core/fp16.js';
import { INTEGER_RANGES, type DataType, type NumericArray, type Tensor } from '../../core/tensor.js';
import { previewValue } from './value-preview.js';

function badElement(name: string, index: number, value: unknown, want: string): TendError {
  return errors.invalidInput(`input '${name}': element ${index} is ${previewValue(value)}, expected ${want}`);
}

/** Convert flat JSON values to the typed array of `datatype`, checking every element. */
export function decodeData(name: string, datatype: DataType, values: readonly unknown[]): Tensor['data'] {
  const n = values.length;
  switch (datatype) {
    case 'FP32':
    case 'FP64': {
      const out = datatype === 'FP32' ? new Float32Array(n) : new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== 'number') throw badElement(name, i, v, `a number for ${datatype}`);
        out[i] = v;
      }
      return out;
    }
    case 'FP16': {
      const out = new Uint16Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== 'number') throw badElement(name, i, v, 'a number for FP16');
        out[i] = floatToHalfBits(v);
      }
      return out;
    }
    case 'INT64':
    case 'UINT64': {
      const out = datatype === 'INT64' ? new BigInt64Array(n) : new BigUint64Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== 'number' || !Number.isInteger(v))
          throw badElement(name, i, v, `an integer for ${datatype}`);
        if (!Number.isSafeInteger(v)) {
          throw badElement(
            name,
            i,
            v,
            `an integer within ±2^53 (JSON numbers beyond that lose precision; use the binary extension)`,
          );
        }
        if (datatype === 'UINT64' && v < 0) throw badElement(name, i, v, 'a non-negative integer for UINT64');
        out[i] = BigInt(v);
      }
      return out;
    }
    case 'BOOL': {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v === 'boolean') out[i] = v ? 1 : 0;
        else if (v === 0 || v === 1) out[i] = v;
        else throw badElement(name, i, v, 'true or false for BOOL');
      }
      return out;
    }
    case 'BYTES': {
      const out = new Array<string>(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== 'string') throw badElement(name, i, v, 'a string for BYTES');
        out[i] = v;
      }
      return out;
    }
    default: {
      const range = INTEGER_RANGES[datatype] as readonly [number, number];
      const out: NumericArray =
        datatype === 'INT8'
          ? new Int8Array(n)
          : datatype === 'INT16'
            ? new Int16Array(n)
            : datatype === 'INT32'
              ? new Int32Array(n)
              : datatype === 'UINT8'
                ? new Uint8Array(n)
                : datatype === 'UINT16'
                  ? new Uint16Array(n)
                  : new Uint32Array(n);
      const [lo, hi] = range;
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
          throw badElement(name, i, v, `an integer in [${lo}, ${hi}] for ${datatype}`);
        }
        out[i] = v;
      }
      return out;
    }
  }
}

/** JSON text of a tensor's elements (exact: float32 values print as the doubles they are; int64 as digits). */
export function encodeData(tensor: Tensor): string {
  const data = tensor.data;
  if (Array.isArray(data)) return JSON.stringify(data);
  switch (tensor.datatype) {
    case 'BOOL': {
      const parts = new Array<string>(data.length);
      for (let i = 0; i < data.length; i++) parts[i] = data[i] ? 'true' : 'false';
      return `[${parts.join(',')}]`;
    }
    case 'FP16': {
      const parts = new Array<number | null>(data.length);
      for (let i = 0; i < data.length; i++) {
        const f = halfBitsToFloat(data[i] as number);
        parts[i] = Number.isFinite(f) ? f : null;
      }
      return JSON.stringify(parts);
    }
    case 'FP32':
    case 'FP64': {
      const text = (data as Float32Array | Float64Array).join(',');
      // JSON has no NaN or Infinity: such elements are sent as null.
      if (text.includes('N') || text.includes('I')) {
        return `[${Array.from(data as Float32Array, (v) => (Number.isFinite(v) ? String(v) : 'null')).join(',')}]`;
      }
      return `[${text}]`;
    }
    default:
      return `[${(data as Exclude<NumericArray, Float32Array | Float64Array>).join(',')}]`;
  }
}
