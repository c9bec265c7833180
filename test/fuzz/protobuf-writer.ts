/**
 * A minimal protobuf wire writer, so the fuzzer controls every byte of a gRPC message: fields in
 * any order, wrong wire types, lengths that lie, unknown field numbers. Not a general encoder.
 */

export const WIRE = { varint: 0, fixed64: 1, bytes: 2, fixed32: 5 } as const;

export function varint(value: bigint | number): Buffer {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    out.push(byte);
  } while (v !== 0n);
  return Buffer.from(out);
}

export function tag(field: number, wire: number): Buffer {
  return varint((BigInt(field) << 3n) | BigInt(wire));
}

/** A length-delimited field (string, bytes, sub-message, packed repeated). */
export function bytesField(field: number, value: Buffer | string, lengthOverride?: bigint | number): Buffer {
  const data = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  return Buffer.concat([tag(field, WIRE.bytes), varint(lengthOverride ?? data.length), data]);
}

export function varintField(field: number, value: bigint | number | boolean): Buffer {
  return Buffer.concat([
    tag(field, WIRE.varint),
    varint(typeof value === 'boolean' ? (value ? 1 : 0) : value),
  ]);
}

export function doubleField(field: number, value: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(value, 0);
  return Buffer.concat([tag(field, WIRE.fixed64), b]);
}

/** A packed repeated field of varints (int32, int64, uint32, uint64, bool). */
export function packedVarints(field: number, values: readonly (bigint | number)[]): Buffer {
  return bytesField(field, Buffer.concat(values.map((v) => varint(v))));
}

export function packedFloats(field: number, values: readonly number[]): Buffer {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => b.writeFloatLE(v, 4 * i));
  return bytesField(field, b);
}

export function packedDoubles(field: number, values: readonly number[]): Buffer {
  const b = Buffer.alloc(8 * values.length);
  values.forEach((v, i) => b.writeDoubleLE(v, 8 * i));
  return bytesField(field, b);
}

/** One entry of a `map<string, Message>` field: key 1, value 2. */
export function mapEntry(field: number, key: string, value: Buffer): Buffer {
  return bytesField(field, Buffer.concat([bytesField(1, key), bytesField(2, value)]));
}
