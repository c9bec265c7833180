/**
 * One string over its limit (src/core/input-limits.ts) in an otherwise valid request: the request
 * id, a tensor name, a datatype, a parameter key or value (of the request, an input, an output),
 * the model or version in the URL or the message, a sticky routing header or metadata value, and
 * the string fields of management bodies. Every such case must be refused with a 4xx carrying
 * {"error","code"} (gRPC: a status with a tend code), never answered 2xx or 5xx.
 */
import type { GrpcCase, HttpCase } from './fuzz-case.js';
import type { FuzzRandom } from './fuzz-random.js';
import { MODELS, type FuzzModelSpec } from './fuzz-models.js';
import { bytesField, mapEntry, packedFloats, packedVarints } from './protobuf-writer.js';
import type { JsonValue } from './tensor-values.js';
import { validInferBody } from './v2-json-cases.js';

/** The limits the cases step over (bytes), as src/core/input-limits.ts sets them. */
const LIMIT = {
  id: 256,
  tensorName: 512,
  datatype: 16,
  parameterKey: 256,
  parameterValue: 1024,
  modelName: 128,
  version: 64,
  routingKey: 256,
  reason: 1024,
  tokenName: 64,
};

/** The endpoint the fuzz test gives an experiment sticky by STICKY_HEADER (test/fuzz.test.ts). */
export const STICKY_ENDPOINT = 'victim';
export const STICKY_HEADER = 'x-fuzz-user';

const DIGITS = MODELS.find((m) => m.name === 'digits') as FuzzModelSpec;

/**
 * A string just over `limit` bytes (ASCII, or 3-byte characters that fit by length but not by
 * bytes), or far over it. `max` caps it where it travels in a URL or a header; headers and gRPC
 * metadata carry only ASCII.
 */
function overLimit(r: FuzzRandom, limit: number, max = 100_000, asciiOnly = false): string {
  const choices = [
    'x'.repeat(limit + 1),
    asciiOnly ? 'z'.repeat(limit + 1) : '€'.repeat(Math.ceil((limit + 1) / 3)),
    'x'.repeat(Math.min(max, 10_000)),
    'y'.repeat(Math.min(max, 100_000)),
  ];
  return r.pick(choices.filter((s) => s.length <= max));
}

type Level = 'request' | 'input' | 'output';

function withParameter(body: Record<string, JsonValue>, level: Level, key: string, value: JsonValue): void {
  const inputs = body['inputs'] as Record<string, JsonValue>[];
  if (level === 'request')
    body['parameters'] = {
      ...((body['parameters'] as Record<string, JsonValue> | undefined) ?? {}),
      [key]: value,
    };
  else if (level === 'input') (inputs[0] as Record<string, JsonValue>)['parameters'] = { [key]: value };
  else body['outputs'] = [{ name: 'logits', parameters: { [key]: value } }];
}

function post(category: string, path: string, body: unknown, headers: Record<string, string> = {}): HttpCase {
  return {
    transport: 'http',
    category: `long-string/${category}`,
    method: 'POST',
    path,
    headers: { 'content-type': 'application/json', ...headers },
    body: Buffer.from(JSON.stringify(body)),
    expectRefused: true,
  };
}

/** The HTTP fields, each a case builder. */
export const HTTP_FIELDS: Record<string, (r: FuzzRandom) => HttpCase> = {
  id: (r) =>
    post('http/id', '/v2/models/digits/infer', { ...validInferBody(r, DIGITS), id: overLimit(r, LIMIT.id) }),
  'input-name': (r) => {
    const body = validInferBody(r, DIGITS);
    ((body['inputs'] as Record<string, JsonValue>[])[0] as Record<string, JsonValue>)['name'] = overLimit(
      r,
      LIMIT.tensorName,
    );
    return post('http/input-name', '/v2/models/digits/infer', body);
  },
  datatype: (r) => {
    const body = validInferBody(r, DIGITS);
    ((body['inputs'] as Record<string, JsonValue>[])[0] as Record<string, JsonValue>)['datatype'] = overLimit(
      r,
      LIMIT.datatype,
    );
    return post('http/datatype', '/v2/models/digits/infer', body);
  },
  'output-name': (r) =>
    post('http/output-name', '/v2/models/digits/infer', {
      ...validInferBody(r, DIGITS),
      outputs: [{ name: overLimit(r, LIMIT.tensorName) }],
    }),
  'parameter-key': (r) => {
    const body = validInferBody(r, DIGITS);
    withParameter(body, r.pick<Level>(['request', 'input', 'output']), overLimit(r, LIMIT.parameterKey), 1);
    return post('http/parameter-key', '/v2/models/digits/infer', body);
  },
  'parameter-value': (r) => {
    const body = validInferBody(r, DIGITS);
    withParameter(
      body,
      r.pick<Level>(['request', 'input', 'output']),
      'note',
      overLimit(r, LIMIT.parameterValue),
    );
    return post('http/parameter-value', '/v2/models/digits/infer', body);
  },
  // In a URL: within the router's 256 the engine refuses it (400), beyond it no route matches (404).
  'model-name': (r) =>
    post(
      'http/model-name',
      `/v2/models/${encodeURIComponent(overLimit(r, LIMIT.modelName, 5000))}/infer`,
      validInferBody(r, DIGITS),
    ),
  version: (r) =>
    post(
      'http/version',
      `/v2/models/digits/versions/${encodeURIComponent(overLimit(r, LIMIT.version, 5000))}/infer`,
      validInferBody(r, DIGITS),
    ),
  alias: (r) =>
    post(
      'http/alias',
      `/v2/models/digits@${encodeURIComponent(overLimit(r, LIMIT.version, 5000))}/infer`,
      validInferBody(r, DIGITS),
    ),
  reason: (r) => {
    const c = post('http/reason', `/api/v1/deployments/${STICKY_ENDPOINT}`, {
      routes: { champion: 1 },
      reason: overLimit(r, LIMIT.reason),
    });
    return { ...c, method: 'PUT' };
  },
  'token-name': (r) =>
    post('http/token-name', '/api/v1/tokens', { name: overLimit(r, LIMIT.tokenName), scopes: ['infer'] }),
  'load-parameter': (r) =>
    post('http/load-parameter', `/v2/repository/models/${STICKY_ENDPOINT}/load`, {
      parameters: { [overLimit(r, LIMIT.parameterKey)]: true },
    }),
};

/** Sticky routing header: refused only while STICKY_ENDPOINT routes by it (set up by the test). */
export function stickyHttpCase(r: FuzzRandom): HttpCase {
  return post('http/sticky-header', `/v2/models/${STICKY_ENDPOINT}/infer`, validInferBody(r, DIGITS), {
    [STICKY_HEADER]: overLimit(r, LIMIT.routingKey, 8000, true),
  });
}

interface DigitsMessage {
  model?: string;
  version?: string;
  id?: string;
  inputName?: string;
  datatype?: string;
  parameter?: { level: Level; key: string; value: string };
  outputName?: string;
}

/** A ModelInferRequest for digits (1 row), with the given fields replaced. */
function digitsMessage(m: DigitsMessage): Buffer {
  const param = (level: Level): Buffer =>
    m.parameter?.level === level
      ? mapEntry(level === 'output' ? 2 : 4, m.parameter.key, bytesField(3, m.parameter.value))
      : Buffer.alloc(0);
  const input = Buffer.concat([
    bytesField(1, m.inputName ?? 'pixels'),
    bytesField(2, m.datatype ?? 'FP32'),
    packedVarints(3, [1, 64]),
    param('input'),
    bytesField(5, packedFloats(6, new Array<number>(64).fill(0.5))),
  ]);
  const wantsOutput = m.outputName !== undefined || m.parameter?.level === 'output';
  return Buffer.concat([
    bytesField(1, m.model ?? 'digits'),
    m.version !== undefined ? bytesField(2, m.version) : Buffer.alloc(0),
    m.id !== undefined ? bytesField(3, m.id) : Buffer.alloc(0),
    param('request'),
    bytesField(5, input),
    wantsOutput
      ? bytesField(6, Buffer.concat([bytesField(1, m.outputName ?? 'logits'), param('output')]))
      : Buffer.alloc(0),
  ]);
}

function grpcInfer(category: string, message: DigitsMessage): GrpcCase {
  return {
    transport: 'grpc',
    category: `long-string/grpc/${category}`,
    method: 'ModelInfer',
    messages: [digitsMessage(message)],
    expectRefused: true,
  };
}

/** The gRPC fields, each a case builder. */
export const GRPC_FIELDS: Record<string, (r: FuzzRandom) => GrpcCase> = {
  id: (r) => grpcInfer('id', { id: overLimit(r, LIMIT.id) }),
  'input-name': (r) => grpcInfer('input-name', { inputName: overLimit(r, LIMIT.tensorName) }),
  datatype: (r) => grpcInfer('datatype', { datatype: overLimit(r, LIMIT.datatype) }),
  'output-name': (r) => grpcInfer('output-name', { outputName: overLimit(r, LIMIT.tensorName) }),
  'parameter-key': (r) =>
    grpcInfer('parameter-key', {
      parameter: {
        level: r.pick<Level>(['request', 'input', 'output']),
        key: overLimit(r, LIMIT.parameterKey),
        value: 'v',
      },
    }),
  'parameter-value': (r) =>
    grpcInfer('parameter-value', {
      parameter: {
        level: r.pick<Level>(['request', 'input', 'output']),
        key: 'note',
        value: overLimit(r, LIMIT.parameterValue),
      },
    }),
  'model-name': (r) => grpcInfer('model-name', { model: overLimit(r, LIMIT.modelName) }),
  version: (r) => grpcInfer('version', { version: overLimit(r, LIMIT.version) }),
  'metadata-name': (r) => ({
    transport: 'grpc',
    category: 'long-string/grpc/metadata-name',
    method: r.pick(['ModelMetadata', 'ModelReady', 'ModelStatistics']),
    messages: [
      Buffer.concat([
        bytesField(1, overLimit(r, LIMIT.modelName)),
        r.chance(0.5) ? bytesField(2, '1') : Buffer.alloc(0),
      ]),
    ],
    expectRefused: true,
  }),
  'load-name': (r) => ({
    transport: 'grpc',
    category: 'long-string/grpc/load-name',
    method: r.pick(['RepositoryModelLoad', 'RepositoryModelUnload']),
    messages: [bytesField(2, overLimit(r, LIMIT.modelName))],
    expectRefused: true,
  }),
};

/** Sticky routing metadata: refused only while STICKY_ENDPOINT routes by it (set up by the test). */
export function stickyGrpcCase(r: FuzzRandom): GrpcCase {
  return {
    ...grpcInfer('sticky-metadata', { model: STICKY_ENDPOINT }),
    metadata: { [STICKY_HEADER]: overLimit(r, LIMIT.routingKey, 8000, true) },
  };
}

/**
 * For the random campaign: one field over its limit. Metadata the server may or may not read
 * (a sticky header whose deployment the campaign may have replaced, `authorization` with auth off)
 * goes along without the expectation of a refusal.
 */
export function longStringCase(r: FuzzRandom): HttpCase | GrpcCase {
  const kind = r.int(0, 9);
  if (kind < 4) return r.pick(Object.values(HTTP_FIELDS))(r);
  if (kind < 8) return r.pick(Object.values(GRPC_FIELDS))(r);
  if (kind === 8) {
    const { expectRefused: _ignored, ...c } = stickyHttpCase(r);
    return { ...c, headers: { ...c.headers, authorization: `Bearer ${overLimit(r, 512, 8000, true)}` } };
  }
  const { expectRefused: _ignored, ...c } = stickyGrpcCase(r);
  return { ...c, metadata: { ...c.metadata, authorization: `Bearer ${overLimit(r, 512, 8000, true)}` } };
}
