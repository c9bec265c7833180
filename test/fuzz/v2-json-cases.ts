/**
 * Hostile V2 JSON infer requests: a valid request for a random model, then structural mutations
 * (wrong types at every key, shapes against data, dtypes, huge sizes) or text mutations (truncation,
 * huge number literals, duplicate keys, deep nesting, bytes that are not UTF-8).
 */
import type { HttpCase } from './fuzz-case.js';
import { percentEncode, type FuzzRandom } from './fuzz-random.js';
import { MAX_BATCH, MODELS, type FuzzModelSpec } from './fuzz-models.js';
import { validJsonInput, type JsonValue } from './tensor-values.js';

const DATATYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
];

/** A V2 request object that the model accepts. */
export function validInferBody(r: FuzzRandom, model: FuzzModelSpec): Record<string, JsonValue> {
  const batch = r.chance(0.9) ? r.int(1, 3) : r.int(1, MAX_BATCH);
  const body: Record<string, JsonValue> = {
    inputs: model.inputs.map((spec) => validJsonInput(r, spec, batch)),
  };
  // Hostile but within the 256-byte id limit (85 UTF-16 units are at most 255 bytes); long-string-cases.ts
  // goes over it.
  if (r.chance(0.3)) body['id'] = r.chance(0.7) ? `req-${r.int(0, 1e6)}` : r.hostileString().slice(0, 85);
  if (r.chance(0.2)) body['outputs'] = model.outputs.filter(() => r.chance(0.6)).map((name) => ({ name }));
  else if (r.chance(0.1) && model.outputs[0] === 'logits')
    body['outputs'] = [{ name: 'logits', parameters: { classification: r.int(1, 10) } }];
  if (r.chance(0.1)) body['parameters'] = {};
  return body;
}

/** Deeply nested arrays or objects around `leaf`, `depth` levels. */
export function nested(depth: number, kind: 'array' | 'object', leaf = '1'): string {
  return kind === 'array'
    ? `${'['.repeat(depth)}${leaf}${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}${leaf}${'}'.repeat(depth)}`;
}

/** A value of the wrong kind for whatever key it lands on, written as JSON text. */
export function hostileJsonText(r: FuzzRandom): string {
  return r.weighted<() => string>([
    [
      3,
      () =>
        r.pick([
          'null',
          'true',
          'false',
          '0',
          '-1',
          '1.5',
          '""',
          '[]',
          '{}',
          '[[]]',
          '[null]',
          '{"a":1}',
          '[{}]',
          '"1"',
          '-0',
        ]),
    ],
    [2, () => JSON.stringify(r.hostileString())],
    [2, () => String(r.edgeNumber())],
    [
      2,
      () =>
        r.pick([
          '1e400',
          '-1e400',
          '1e-400',
          '123456789012345678901234567890',
          '9007199254740993',
          '-9223372036854775809',
          '18446744073709551616',
          '0.1e1',
          '1E2',
          '0.00000000000000000000001',
        ]),
    ],
    [
      1,
      () =>
        nested(
          r.pick([33, 100, 1000, 5000, 20000]),
          r.chance(0.5) ? 'array' : 'object',
          r.pick(['1', '"x"', 'null', '{}']),
        ),
    ],
    [1, () => `[${Array.from({ length: r.pick([1000, 10000]) }, () => r.int(0, 9)).join(',')}]`],
    [1, () => JSON.stringify('x'.repeat(r.pick([1000, 60000])))],
    [
      1,
      () =>
        `{"${r.pick(['__proto__', 'constructor', 'toString', 'length', 'name'])}":${r.pick(['1', '{}', 'null', '[]'])}}`,
    ],
  ])();
}

type Path = (string | number)[];

/** Every path into the object (objects and arrays), at most `limit`, arrays sampled. */
function paths(value: JsonValue, limit = 200): Path[] {
  const out: Path[] = [];
  const walk = (v: JsonValue, path: Path): void => {
    if (out.length >= limit) return;
    out.push(path);
    if (Array.isArray(v)) {
      const step = Math.max(1, Math.floor(v.length / 8));
      for (let i = 0; i < v.length; i += step) walk(v[i] as JsonValue, [...path, i]);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) walk(child, [...path, k]);
    }
  };
  walk(value, []);
  return out;
}

function getAt(root: JsonValue, path: Path): JsonValue {
  let v: JsonValue = root;
  for (const key of path) v = (v as Record<string | number, JsonValue>)[key] as JsonValue;
  return v;
}

/** JSON text of `root` with the value at `path` replaced by raw JSON text (placeholder trick). */
function replaceWithText(root: JsonValue, path: Path, text: string): string {
  const marker = '\u0001FUZZ\u0001';
  const copy = JSON.parse(JSON.stringify(root)) as JsonValue;
  if (path.length === 0) return text;
  const parent = getAt(copy, path.slice(0, -1)) as Record<string | number, JsonValue>;
  parent[path[path.length - 1] as string | number] = marker;
  return JSON.stringify(copy).replace(JSON.stringify(marker), () => text);
}

/** Structural mutations: keep the request's skeleton, break one part of it. */
function mutateStructure(r: FuzzRandom, body: Record<string, JsonValue>): { category: string; text: string } {
  const inputs = body['inputs'] as Record<string, JsonValue>[];
  const input = r.pick(inputs);
  const kind = r.weighted<string>([
    [6, 'any-key'],
    [3, 'shape'],
    [2, 'datatype'],
    [2, 'data-length'],
    [2, 'element'],
    [1, 'huge-shape'],
    [1, 'inputs'],
    [1, 'parameters'],
    [1, 'outputs'],
    [1, 'extra-key'],
  ]);
  switch (kind) {
    case 'any-key': {
      const path = r.pick(paths(body));
      return { category: 'v2-json/any-key', text: replaceWithText(body, path, hostileJsonText(r)) };
    }
    case 'shape': {
      const shape = [...(input['shape'] as number[])];
      const op = r.int(0, 4);
      if (op === 0) shape[r.int(0, shape.length - 1)] = r.edgeNumber();
      else if (op === 1) shape.push(r.int(0, 3));
      else if (op === 2) shape.pop();
      else if (op === 3) shape[r.int(0, shape.length - 1)] = -r.int(1, 3);
      else shape.unshift(r.int(1, 2));
      input['shape'] = shape;
      return { category: 'v2-json/shape', text: JSON.stringify(body) };
    }
    case 'datatype':
      input['datatype'] = r.chance(0.8)
        ? r.pick(DATATYPES)
        : r.pick(['fp32', 'FLOAT', 'TYPE_FP32', 'STRING', 'BF16', '', 'FP32 ']);
      return { category: 'v2-json/datatype', text: JSON.stringify(body) };
    case 'data-length': {
      const data = input['data'] as JsonValue[];
      if (r.chance(0.5)) data.pop();
      else data.push(...(data.slice(0, r.int(1, 3)) as JsonValue[]));
      return { category: 'v2-json/data-length', text: JSON.stringify(body) };
    }
    case 'element': {
      const data = input['data'] as JsonValue[];
      const i = r.int(0, Math.max(0, data.length - 1));
      const value = r.pick<JsonValue>([
        null,
        true,
        'x',
        '1',
        1.5,
        -1,
        256,
        -129,
        65536,
        2 ** 32,
        2 ** 53 + 2,
        1e39,
        -1e39,
        {},
        [],
        [[1]],
        r.edgeNumber(),
      ]);
      if (Array.isArray(data[i])) (data[i] as JsonValue[])[0] = value;
      else data[i] = value;
      return { category: 'v2-json/element', text: JSON.stringify(body) };
    }
    case 'huge-shape': {
      input['shape'] = r.pick([
        [1e9, 1e9],
        [2 ** 31],
        [2 ** 31 - 1],
        [2 ** 53, 2 ** 53],
        [65536, 65536, 65536],
        [1, 2 ** 31 - 1],
        [0, 1e9],
        [MAX_BATCH + 1, 64],
        [1e308],
      ]);
      if (r.chance(0.3)) delete input['data'];
      return { category: 'v2-json/huge-shape', text: JSON.stringify(body) };
    }
    case 'inputs': {
      const op = r.int(0, 3);
      if (op === 0) inputs.push(JSON.parse(JSON.stringify(input)) as Record<string, JsonValue>);
      else if (op === 1) inputs.splice(r.int(0, inputs.length - 1), 1);
      else if (op === 2) input['name'] = r.hostileString();
      else inputs.reverse();
      return { category: 'v2-json/inputs', text: JSON.stringify(body) };
    }
    case 'parameters': {
      const params: Record<string, JsonValue> = {};
      for (const key of ['priority', 'timeout', 'binary_data_output', 'sequence_id', r.hostileString()]) {
        if (r.chance(0.5))
          params[key] = r.pick<JsonValue>([
            0,
            1,
            2,
            3,
            1000,
            -1,
            1.5,
            'x',
            null,
            true,
            2 ** 53,
            1e300,
            {},
            [],
          ]);
      }
      if (r.chance(0.5)) body['parameters'] = params;
      else input['parameters'] = params;
      return { category: 'v2-json/parameters', text: JSON.stringify(body) };
    }
    case 'outputs': {
      body['outputs'] = Array.from({ length: r.int(0, 3) }, () => {
        const o: Record<string, JsonValue> = {
          name: r.chance(0.5)
            ? r.pick(['logits', 'y', 'ids_sum', 'text_out', 'flag_not', 'half_out'])
            : r.hostileString(),
        };
        if (r.chance(0.6)) {
          o['parameters'] = r.pick<JsonValue>([
            { classification: r.pick<JsonValue>([1, 3, 10, 11, 0, -1, 1.5, 'x', 2 ** 40, null]) },
            { binary_data: r.pick<JsonValue>([true, false, 'yes', 1]) },
            null,
            'x',
            [],
          ]);
        }
        return o;
      });
      return { category: 'v2-json/outputs', text: JSON.stringify(body) };
    }
    default: {
      const target = r.chance(0.5) ? body : input;
      target[r.hostileString()] = JSON.parse(r.pick(['1', 'null', '{}', '"x"'])) as JsonValue;
      return { category: 'v2-json/extra-key', text: JSON.stringify(body) };
    }
  }
}

/** Text mutations: the body stops being the JSON the client meant. */
function mutateText(r: FuzzRandom, text: string): { category: string; body: Buffer } {
  const op = r.int(0, 9);
  const at = r.int(0, text.length);
  switch (op) {
    case 0:
      return { category: 'v2-text/truncate', body: Buffer.from(text.slice(0, at)) };
    case 1:
      return {
        category: 'v2-text/insert-bytes',
        body: Buffer.concat([
          Buffer.from(text.slice(0, at)),
          r.bytes(r.int(1, 8)),
          Buffer.from(text.slice(at)),
        ]),
      };
    case 2: {
      // Replace one number literal with one JSON.parse reads as Infinity, an unsafe integer, or refuses.
      const numbers = [...text.matchAll(/-?\d+(\.\d+)?([eE][+-]?\d+)?/g)];
      const m = numbers.length > 0 ? r.pick(numbers) : undefined;
      if (!m) return { category: 'v2-text/number', body: Buffer.from(text) };
      const literal = r.pick([
        '1e400',
        '-1e400',
        '1e-400',
        '99999999999999999999999999999',
        '-0',
        '0x10',
        '01',
        '1.',
        '.5',
        '+1',
        'NaN',
        'Infinity',
        '1e',
        '--1',
        '9007199254740993',
      ]);
      return {
        category: 'v2-text/number',
        body: Buffer.from(text.slice(0, m.index) + literal + text.slice((m.index ?? 0) + m[0].length)),
      };
    }
    case 3: {
      // Duplicate keys: JSON.parse keeps the last; the first was what a validating proxy saw.
      const dup = r.pick([
        '"inputs":[]',
        '"inputs":{}',
        '"inputs":null',
        '"id":7',
        '"parameters":[]',
        '"outputs":"x"',
        '"inputs":[{"name":"pixels","datatype":"FP32","shape":[1,64],"data":[]}]',
      ]);
      return { category: 'v2-text/duplicate-key', body: Buffer.from(`{${dup},${text.slice(1)}`) };
    }
    case 4: {
      const inner = text.replace(
        /"datatype":"([A-Z0-9]+)"/,
        (_m, dt: string) => `"datatype":"${dt}","datatype":"${r.pick(DATATYPES)}"`,
      );
      return { category: 'v2-text/duplicate-key', body: Buffer.from(inner) };
    }
    case 5:
      return {
        category: 'v2-text/wrapper',
        body: Buffer.from(
          r.pick([
            `[${text}]`,
            `${text}${text}`,
            `${text} x`,
            `\ufeff${text}`,
            `/*c*/${text}`,
            `  ${text}\n\n`,
            `"${text}"`,
          ]),
        ),
      };
    case 6:
      return {
        category: 'v2-text/whole',
        body: Buffer.from(
          r.pick([
            '',
            ' ',
            'null',
            '[]',
            '{}',
            '"x"',
            '123',
            'true',
            '{"inputs":[]}',
            '{"inputs":[null]}',
            '{"inputs":[[]]}',
            '{"inputs":"x"}',
            '\u0000',
            '{"inputs":[{}]}',
          ]),
        ),
      };
    case 7: {
      // Bytes that are not UTF-8 inside a string: lone continuation, overlong NUL, surrogate, truncated sequence.
      const bad = r.pick([
        Buffer.from([0xff]),
        Buffer.from([0xc0, 0x80]),
        Buffer.from([0xed, 0xa0, 0x80]),
        Buffer.from([0xe2, 0x82]),
        Buffer.from([0x80]),
        Buffer.from([0xf4, 0x90, 0x80, 0x80]),
      ]);
      const q = text.indexOf('"', r.int(0, Math.max(0, text.length - 2)));
      const pos = q < 0 ? 1 : q + 1;
      return {
        category: 'v2-text/utf8',
        body: Buffer.concat([Buffer.from(text.slice(0, pos)), bad, Buffer.from(text.slice(pos))]),
      };
    }
    case 8: {
      const depth = r.pick([64, 1000, 10000, 50000]);
      const replaced = text.replace(/"data":\[/, `"data":[${'['.repeat(depth)}1${']'.repeat(depth)},`);
      return {
        category: 'v2-text/deep-data',
        body: Buffer.from(r.chance(0.5) ? replaced : nested(depth, r.chance(0.5) ? 'array' : 'object')),
      };
    }
    default: {
      const from = r.int(0, text.length);
      return {
        category: 'v2-text/delete-range',
        body: Buffer.from(text.slice(0, from) + text.slice(Math.min(text.length, from + r.int(1, 20)))),
      };
    }
  }
}

/** An infer URL for `model`, sometimes with a version (number, alias or something hostile). */
export function inferPath(r: FuzzRandom, model: string): string {
  const name = r.chance(0.93) ? model : percentEncode(r.hostileString());
  if (r.chance(0.8)) return `/v2/models/${name}/infer`;
  const version = r.pick([
    '1',
    '2',
    '3',
    'champion',
    'live',
    'next',
    'latest',
    '0',
    '-1',
    '1.0',
    '01',
    '99999999999999999999',
    '%2e%2e',
    percentEncode(r.hostileString()),
  ]);
  return `/v2/models/${name}/versions/${version}/infer`;
}

export function jsonHeaders(r: FuzzRandom): Record<string, string> {
  const headers: Record<string, string> = {};
  const type = r.weighted<string | undefined>([
    [8, 'application/json'],
    [1, undefined],
    [
      1,
      r.pick([
        'text/plain',
        'application/x-www-form-urlencoded',
        'application/json; charset=utf-16',
        'multipart/form-data; boundary=x',
        'application/octet-stream',
        '*/*',
        ';;;',
        'application/json, text/plain',
      ]),
    ],
  ]);
  if (type !== undefined) headers['content-type'] = type;
  if (r.chance(0.05)) headers['content-encoding'] = r.pick(['gzip', 'br', 'identity', 'x']);
  if (r.chance(0.05)) headers['x-tend-sticky'] = r.ascii(20);
  return headers;
}

/** One JSON infer case: valid (a fifth), structurally broken, or broken as text. */
export function v2JsonCase(r: FuzzRandom): HttpCase {
  const model = r.pick(MODELS);
  const body = validInferBody(r, model);
  const mode = r.weighted<'valid' | 'structure' | 'text'>([
    [2, 'valid'],
    [5, 'structure'],
    [3, 'text'],
  ]);
  const path = inferPath(r, model.name);
  const headers = jsonHeaders(r);
  if (mode === 'valid') {
    // Only a well-formed content type (or none) must pass: a malformed one is refused with 415.
    const type = headers['content-type'];
    const wellFormed =
      type === undefined ||
      [
        'application/json',
        'text/plain',
        'application/x-www-form-urlencoded',
        'application/octet-stream',
      ].includes(type);
    const strict =
      model.strict &&
      path === `/v2/models/${model.name}/infer` &&
      wellFormed &&
      !('content-encoding' in headers);
    return {
      transport: 'http',
      category: 'v2-json/valid',
      method: 'POST',
      path,
      headers,
      body: Buffer.from(JSON.stringify(body)),
      expectOk: strict,
    };
  }
  if (mode === 'structure') {
    const { category, text } = mutateStructure(r, body);
    return { transport: 'http', category, method: 'POST', path, headers, body: Buffer.from(text) };
  }
  const { category, body: bytes } = mutateText(r, JSON.stringify(body));
  return { transport: 'http', category, method: 'POST', path, headers, body: bytes };
}
