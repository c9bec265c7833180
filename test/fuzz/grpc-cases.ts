/**
 * Hostile gRPC requests, encoded byte by byte: ModelInfer messages with random fields, shapes that
 * lie, raw_input_contents of the wrong count or size, typed contents in the wrong field; then
 * wire-level damage (truncation, wrong wire types, lengths past the end, unknown fields) and plain
 * random bytes; and the other methods of the service with hostile names.
 */
import type { GrpcCase } from './fuzz-case.js';
import type { FuzzRandom } from './fuzz-random.js';
import { MAX_BATCH, MODELS, type FuzzInputSpec } from './fuzz-models.js';
import {
  bytesField,
  doubleField,
  mapEntry,
  packedDoubles,
  packedFloats,
  packedVarints,
  tag,
  varint,
  varintField,
} from './protobuf-writer.js';
import { rawBytesOf, validElement } from './tensor-values.js';

/** InferTensorContents field number per datatype (FP16 has none). */
const CONTENTS_FIELD: Record<string, number> = {
  BOOL: 1,
  INT8: 2,
  INT16: 2,
  INT32: 2,
  INT64: 3,
  UINT8: 4,
  UINT16: 4,
  UINT32: 4,
  UINT64: 5,
  FP32: 6,
  FP64: 7,
  BYTES: 8,
};

/** An InferParameter message (oneof: bool 1, int64 2, string 3, double 4, uint64 5). */
function inferParameter(r: FuzzRandom): Buffer {
  switch (r.int(0, 5)) {
    case 0:
      return varintField(1, r.chance(0.5));
    case 1:
      return varintField(2, r.pick<bigint | number>([0, 1, 5, -1, 2n ** 53n + 1n, -(2n ** 63n), 1000]));
    case 2:
      return bytesField(3, r.hostileString());
    case 3:
      return doubleField(4, r.pick([0, 1, 1.5, -1, 1e300, Number.NaN, Number.POSITIVE_INFINITY]));
    case 4:
      return varintField(5, r.pick<bigint | number>([0, 3, 2n ** 64n - 1n, 2n ** 53n]));
    default:
      return Buffer.concat([varintField(2, 1), bytesField(3, 'both')]);
  }
}

function contents(r: FuzzRandom, datatype: string, values: readonly (number | boolean | string)[]): Buffer {
  const field = CONTENTS_FIELD[datatype] ?? (r.chance(0.5) ? 6 : 2);
  if (field === 8) return Buffer.concat(values.map((v) => bytesField(8, String(v))));
  const numbers = values.map((v) =>
    typeof v === 'number' ? v : typeof v === 'boolean' ? Number(v) : v.length,
  );
  if (field === 6) return packedFloats(6, numbers);
  if (field === 7) return packedDoubles(7, numbers);
  const integer = (v: number | boolean | string): number =>
    typeof v === 'boolean'
      ? v
        ? 1
        : 0
      : typeof v === 'string'
        ? v.length
        : Number.isFinite(v)
          ? Math.trunc(v)
          : 0;
  return packedVarints(field, values.map(integer));
}

interface InputPlan {
  spec: FuzzInputSpec;
  shape: (number | bigint)[];
  values: (number | boolean | string)[];
}

function inputTensor(r: FuzzRandom, plan: InputPlan, typed: boolean, damage: string): Buffer {
  const parts = [bytesField(1, damage === 'name' ? r.hostileString() : plan.spec.name)];
  const datatype =
    damage === 'datatype'
      ? r.pick(['FP32', 'INT64', 'BYTES', 'BOOL', 'FP16', 'fp32', '', 'INT128', 'UINT8'])
      : plan.spec.datatype;
  parts.push(bytesField(2, datatype));
  parts.push(packedVarints(3, plan.shape));
  // Keys within the 256-byte limit (long-string-cases.ts goes over it).
  if (r.chance(0.05)) parts.push(mapEntry(4, r.hostileString().slice(0, 85), inferParameter(r)));
  if (typed) {
    let values = plan.values;
    if (damage === 'element')
      values = values.map((v, i) =>
        i === 0 ? r.pick<number | boolean | string>([300, -300, 2 ** 31, -1, 70000, 1.5]) : v,
      );
    parts.push(
      bytesField(
        5,
        contents(
          r,
          damage === 'contents-field'
            ? r.pick(['FP32', 'INT64', 'BOOL', 'BYTES', 'FP64', 'UINT64'])
            : datatype,
          values,
        ),
      ),
    );
  }
  return Buffer.concat(parts);
}

/** A structurally sound ModelInferRequest, valid or with one semantic lie. */
function inferMessage(r: FuzzRandom): { message: Buffer; valid: boolean; model: string; damage: string } {
  const model = r.pick(MODELS);
  const batch = r.int(1, r.chance(0.9) ? 3 : MAX_BATCH);
  const damage = r.weighted<string>([
    [3, 'none'],
    [2, 'shape'],
    [2, 'raw-size'],
    [1, 'raw-count'],
    [1, 'both'],
    [1, 'name'],
    [1, 'datatype'],
    [1, 'element'],
    [1, 'contents-field'],
    [1, 'parameters'],
    [1, 'outputs'],
    [1, 'model-name'],
    [1, 'missing-input'],
  ]);
  const plans: InputPlan[] = model.inputs.map((spec) => {
    const shape: (number | bigint)[] = [batch, ...spec.inner];
    const count = shape.reduce<number>((a, b) => a * Number(b), 1);
    return {
      spec,
      shape,
      values: Array.from({ length: count }, () => validElement(r, spec.datatype, spec.name)),
    };
  });
  if (damage === 'shape') {
    const p = r.pick(plans);
    p.shape[r.int(0, p.shape.length - 1)] = r.pick<number | bigint>([
      0,
      -1,
      2 ** 31,
      1e9,
      2n ** 62n,
      -(2n ** 63n),
      2n ** 53n + 1n,
      65,
    ]);
    if (r.chance(0.3)) p.shape.push(1);
  }
  if (damage === 'missing-input' && plans.length > 0) plans.splice(r.int(0, plans.length - 1), 1);
  // FP16 has no typed contents field: a request with an FP16 input uses raw contents.
  const raw = plans.some((p) => p.spec.datatype === 'FP16') ? r.chance(0.9) : r.chance(0.5);
  const parts: Buffer[] = [
    bytesField(1, damage === 'model-name' ? r.pick(['', r.hostileString()]) : model.name),
  ];
  const versioned = r.chance(0.1);
  if (versioned) parts.push(bytesField(2, r.pick(['1', '2', 'champion', '0', '-1', '', r.hostileString()])));
  if (r.chance(0.3))
    parts.push(bytesField(3, r.chance(0.7) ? `g-${r.int(0, 1e6)}` : r.hostileString().slice(0, 85)));
  if (damage === 'parameters') {
    for (const key of ['priority', 'timeout', r.hostileString()])
      if (r.chance(0.6)) parts.push(mapEntry(4, key, inferParameter(r)));
  }
  for (const p of plans) parts.push(bytesField(5, inputTensor(r, p, !raw || damage === 'both', damage)));
  const withOutputs = damage === 'outputs' || r.chance(0.1);
  if (withOutputs) {
    for (let i = r.int(0, 3); i > 0; i--) {
      const name = r.chance(0.6) ? r.pick(model.outputs) : r.hostileString();
      const oparams = r.chance(0.6)
        ? mapEntry(2, r.pick(['classification', 'binary_data', r.hostileString()]), inferParameter(r))
        : Buffer.alloc(0);
      parts.push(bytesField(6, Buffer.concat([bytesField(1, name), oparams])));
    }
  }
  if (raw) {
    const chunks = plans.map((p) => rawBytesOf(p.spec.datatype, p.values));
    if (damage === 'raw-size' && chunks.length > 0) {
      const i = r.int(0, chunks.length - 1);
      const c = chunks[i] as Buffer;
      chunks[i] = r.chance(0.5)
        ? c.subarray(0, r.int(0, Math.max(0, c.length - 1)))
        : Buffer.concat([c, r.bytes(r.int(1, 9))]);
    }
    if (damage === 'raw-count') {
      if (r.chance(0.5)) chunks.pop();
      else chunks.push(r.bytes(r.int(0, 16)));
    }
    for (const c of chunks) parts.push(bytesField(7, c));
  }
  return {
    message: Buffer.concat(parts),
    valid:
      damage === 'none' &&
      model.strict &&
      !versioned &&
      !withOutputs &&
      (raw || plans.every((p) => p.spec.datatype !== 'FP16')),
    model: model.name,
    damage,
  };
}

/** Damage the encoding itself. */
function damageWire(r: FuzzRandom, message: Buffer): { bytes: Buffer; how: string } {
  const at = r.int(0, message.length);
  switch (r.int(0, 7)) {
    case 0:
      return { bytes: message.subarray(0, at), how: 'truncate' };
    case 1: {
      const copy = Buffer.from(message);
      for (let i = r.int(1, 4); i > 0 && copy.length > 0; i--)
        copy[r.int(0, copy.length - 1)] = r.int(0, 255);
      return { bytes: copy, how: 'flip' };
    }
    case 2:
      return {
        bytes: Buffer.concat([
          message,
          varintField(r.int(8, 5000), 1),
          bytesField(r.int(8, 99), r.bytes(r.int(0, 8))),
          Buffer.concat([tag(r.int(8, 99), 5), r.bytes(4)]),
        ]),
        how: 'unknown-fields',
      };
    case 3:
      // A known field with the wrong wire type (model_name as a varint, inputs as fixed32).
      return {
        bytes: Buffer.concat([
          r.pick([
            varintField(1, 7),
            Buffer.concat([tag(5, 5), r.bytes(4)]),
            varintField(7, 1),
            doubleField(3, 1),
          ]),
          message,
        ]),
        how: 'wire-type',
      };
    case 4:
      // A length past the end of the message.
      return {
        bytes: Buffer.concat([
          message,
          tag(r.pick([1, 5, 7]), 2),
          varint(r.pick([2 ** 31, 2 ** 32 + 5, 1e9, 100])),
        ]),
        how: 'length-overflow',
      };
    case 5:
      // Overlong varints, and the deprecated group wire types 3/4, and the invalid 6/7.
      return {
        bytes: Buffer.concat([
          message,
          r.pick([
            Buffer.from([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
            Buffer.from([0x0b]),
            Buffer.from([0x0c]),
            Buffer.from([0x0e]),
            Buffer.from([0x0f]),
            Buffer.from([0x00]),
          ]),
        ]),
        how: 'bad-varint',
      };
    case 6:
      return {
        bytes: Buffer.concat([message.subarray(0, at), r.bytes(r.int(1, 16)), message.subarray(at)]),
        how: 'insert',
      };
    default:
      return { bytes: Buffer.concat([message, message]), how: 'doubled' };
  }
}

/** One gRPC case. */
export function grpcCase(r: FuzzRandom): GrpcCase {
  const kind = r.weighted<string>([
    [10, 'infer'],
    [3, 'infer-wire'],
    [2, 'random-bytes'],
    [2, 'stream'],
    [3, 'other'],
  ]);
  if (kind === 'infer') {
    const m = inferMessage(r);
    return {
      transport: 'grpc',
      category: `grpc/infer/${m.damage}`,
      method: 'ModelInfer',
      messages: [m.message],
      expectOk: m.valid,
    };
  }
  if (kind === 'infer-wire') {
    const { bytes, how } = damageWire(r, inferMessage(r).message);
    return { transport: 'grpc', category: `grpc/wire/${how}`, method: 'ModelInfer', messages: [bytes] };
  }
  if (kind === 'random-bytes') {
    const method = r.pick([
      'ModelInfer',
      'ModelReady',
      'ModelMetadata',
      'ModelStatistics',
      'ServerLive',
      'ServerReady',
      'ServerMetadata',
      'RepositoryIndex',
    ]);
    return { transport: 'grpc', category: 'grpc/random-bytes', method, messages: [r.bytes(r.int(0, 300))] };
  }
  if (kind === 'stream') {
    const messages = Array.from({ length: r.int(1, 4) }, () => {
      const m = inferMessage(r).message;
      return r.chance(0.2) ? damageWire(r, m).bytes : m;
    });
    return { transport: 'grpc', category: 'grpc/stream', method: 'ModelStreamInfer', messages };
  }
  const method = r.pick([
    'ModelReady',
    'ModelMetadata',
    'ModelStatistics',
    'RepositoryIndex',
    'RepositoryModelLoad',
    'RepositoryModelUnload',
    'ServerMetadata',
  ]);
  const name = (): string => (r.chance(0.5) ? r.pick(MODELS).name : r.hostileString());
  let message: Buffer;
  if (method === 'RepositoryIndex') {
    message = Buffer.concat([
      r.chance(0.3) ? bytesField(1, r.hostileString()) : Buffer.alloc(0),
      varintField(2, r.chance(0.5)),
    ]);
  } else if (method === 'RepositoryModelLoad' || method === 'RepositoryModelUnload') {
    // Only victim or names that do not exist: the served models must stay.
    const target = r.chance(0.5) ? 'victim' : `nope-${r.hostileString()}`;
    const params = r.chance(0.3)
      ? mapEntry(3, r.pick(['unload_dependents', 'config', r.hostileString()]), varintField(1, true))
      : Buffer.alloc(0);
    message = Buffer.concat([
      r.chance(0.2) ? bytesField(1, r.hostileString()) : Buffer.alloc(0),
      bytesField(2, target),
      params,
    ]);
  } else {
    message = Buffer.concat([
      bytesField(1, name()),
      r.chance(0.4) ? bytesField(2, r.pick(['1', '2', 'champion', '0', r.hostileString()])) : Buffer.alloc(0),
    ]);
  }
  return { transport: 'grpc', category: `grpc/${method}`, method, messages: [message] };
}
