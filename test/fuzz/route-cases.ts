/**
 * Random methods and URLs over every route of the HTTP app (src/server/http), with hostile path
 * parameters, query strings and bodies. Routes that change the server's state (load, unload,
 * deployments, aliases) only ever name `victim` or names that do not exist, so that the served
 * models stay as they were; `load` of a real model (a zero-downtime reload) is rare.
 */
import { METHODS as NODE_METHODS } from 'node:http';
import type { HttpCase } from './fuzz-case.js';
import { percentEncode, type FuzzRandom } from './fuzz-random.js';
import { MODELS } from './fuzz-models.js';
import { hostileJsonText, validInferBody } from './v2-json-cases.js';

interface RouteTemplate {
  method: string;
  /** `:model` (any name), `:victim` (victim or a name that does not exist), `:version`, `:file`, `:alias`. */
  path: string;
  query?: string[];
  body?: 'json' | 'none';
}

const ROUTES: readonly RouteTemplate[] = [
  { method: 'GET', path: '/' },
  { method: 'GET', path: '/dashboard/:file' },
  { method: 'GET', path: '/api/v1/dashboard/models' },
  { method: 'GET', path: '/api/v1/dashboard/models/:model/series', query: ['window', 'buckets'] },
  { method: 'GET', path: '/v2' },
  { method: 'GET', path: '/v2/health/live' },
  { method: 'GET', path: '/v2/health/ready' },
  { method: 'GET', path: '/v2/models' },
  { method: 'GET', path: '/v2/models/:model' },
  { method: 'GET', path: '/v2/models/:model/versions/:version' },
  { method: 'GET', path: '/v2/models/:model/ready' },
  { method: 'GET', path: '/v2/models/:model/versions/:version/ready' },
  { method: 'POST', path: '/v2/models/:model/infer', body: 'json' },
  { method: 'POST', path: '/v2/models/:model/versions/:version/infer', body: 'json' },
  { method: 'POST', path: '/v2/repository/index', body: 'json' },
  { method: 'POST', path: '/v2/repository/models/:load/load', body: 'json' },
  { method: 'POST', path: '/v2/repository/models/:victim/unload', body: 'json' },
  { method: 'GET', path: '/api/v1/deployments' },
  { method: 'GET', path: '/api/v1/deployments/:model' },
  { method: 'PUT', path: '/api/v1/deployments/:victim', body: 'json' },
  { method: 'POST', path: '/api/v1/deployments/:victim/promote', body: 'json' },
  { method: 'POST', path: '/api/v1/deployments/:victim/rollback', body: 'json' },
  { method: 'GET', path: '/api/v1/deployments/:model/history', query: ['limit'] },
  { method: 'PUT', path: '/api/v1/models/:victim/aliases/:alias', body: 'json' },
  { method: 'POST', path: '/v2/models/:model/feedback', body: 'json' },
  { method: 'GET', path: '/v2/models/:model/monitor', query: ['version', 'window', 'last'] },
  { method: 'GET', path: '/api/v1/alerts', query: ['limit'] },
  { method: 'GET', path: '/v2/models/stats' },
  { method: 'GET', path: '/v2/models/:model/stats' },
  { method: 'GET', path: '/v2/models/:model/versions/:version/stats' },
  { method: 'GET', path: '/metrics' },
  { method: 'GET', path: '/docs/openapi.json' },
  { method: 'POST', path: '/v2/models/:model/learn', body: 'json' },
  { method: 'POST', path: '/v2/models/:model/versions/:version/learn', body: 'json' },
  { method: 'GET', path: '/api/v1/tokens' },
  { method: 'POST', path: '/api/v1/tokens', body: 'json' },
  { method: 'DELETE', path: '/api/v1/tokens/:token' },
  { method: 'GET', path: '/api/v1/audit', query: ['limit', 'action', 'since', 'target'] },
  { method: 'GET', path: '/api/v1/runs', query: ['model', 'limit'] },
  { method: 'GET', path: '/api/v1/runs/:run' },
];

const METHODS = [
  'GET',
  'POST',
  'PUT',
  'DELETE',
  'PATCH',
  'HEAD',
  'OPTIONS',
  'FOO',
  'PROPFIND',
  'M-SEARCH',
  'PURGE',
  'LOCK',
  'SEARCH',
];
const MODEL_NAMES = MODELS.map((m) => m.name);

function segment(r: FuzzRandom, kind: string): string {
  const hostile = (): string =>
    r.chance(0.7)
      ? percentEncode(r.hostileString())
      : r.pick([
          '..',
          '%2e%2e',
          '%2F',
          '%00',
          '%ZZ',
          '%',
          '%E2%82',
          '%C0%AE',
          ';',
          '~',
          '%F0%9F%98%80',
          '.%2e',
          'a%2fb',
          '%5c',
        ]);
  switch (kind) {
    case 'model':
      return r.chance(0.6) ? r.pick(MODEL_NAMES) : hostile();
    case 'victim':
      return r.chance(0.6) ? 'victim' : `nope-${hostile()}`;
    case 'load':
      // A reload of a model the other cases use happens about once in 3 000 requests of this template.
      if (r.chance(0.003)) return r.pick(['digits', 'mixed', 'lookup']);
      return r.chance(0.5) ? 'victim' : `nope-${hostile()}`;
    case 'version':
      return r.pick([
        '1',
        '2',
        '3',
        'champion',
        'live',
        'next',
        'latest',
        '0',
        '-1',
        '1.5',
        '1e3',
        '99999999999999999999',
        hostile(),
      ]);
    case 'file':
      return r.pick([
        'index.html',
        'app.js',
        'style.css',
        'uPlot.iife.min.js',
        'uPlot.min.css',
        '..%2F..%2Fpackage.json',
        '%2e%2e%2fregistry.db',
        hostile(),
      ]);
    case 'alias':
      return r.pick(['live', 'next', 'champion', 'new', 'a'.repeat(65), '1abc', hostile()]);
    case 'token':
      return r.pick(['1', 'tok_x', '0', '-1', 'a'.repeat(300), hostile()]);
    case 'run':
      return r.pick(['1', 'run-1', '00000000-0000-0000-0000-000000000000', hostile()]);
    default:
      return hostile();
  }
}

function queryValue(r: FuzzRandom, key: string): string {
  const typical: Record<string, string[]> = {
    window: ['1h', '15m', '0s', '-1h', '99999d', '1', 'h', '1.5h', '1e9h'],
    buckets: ['1', '10', '0', '-1', '100000', '1.5', 'x'],
    limit: ['1', '10', '0', '-1', '10000', '10001', '1e3', '1.5', 'x', '99999999999999999999'],
    version: ['1', '2', 'champion', 'all', '0', 'x'],
    last: ['1', '1000', '0', '-1', '1e9', 'x'],
    action: ['model.push', 'alias.move', 'x', ''],
    since: ['2020-01-01', '2020-01-01T00:00:00Z', 'yesterday', '0', '-1', '9999-99-99'],
    target: ['digits', 'victim', '*', '%', "'"],
    model: ['digits', 'victim', '%', '*'],
  };
  const known = Object.hasOwn(typical, key) ? typical[key] : undefined;
  return percentEncode(r.chance(0.7) ? r.pick(known ?? ['1']) : r.hostileString());
}

function routeBody(r: FuzzRandom, template: RouteTemplate): Buffer | undefined {
  if (r.chance(0.15)) return undefined;
  if (template.path === '/api/v1/tokens') {
    // Never a token the server would create: once one exists every other call needs one. Each body
    // has at least one scope tend does not know, or a field of the wrong type.
    const scopes = r.pick<unknown>([
      ['infer', 'no-such-scope'],
      ['admin', ''],
      'infer',
      [1],
      null,
      ['ADMIN!'],
      [r.hostileString(), 'bogus'],
    ]);
    const body: Record<string, unknown> = {
      name: r.chance(0.7) ? `fuzz-${r.int(0, 99)}` : r.pick<unknown>([r.hostileString(), 5, null, {}]),
      scopes,
    };
    if (r.chance(0.3)) body['models'] = r.pick<unknown>([['digits'], '*', [5], ['..'], [r.hostileString()]]);
    if (r.chance(0.1)) body[r.hostileString()] = 1;
    return Buffer.from(r.chance(0.85) ? JSON.stringify(body) : hostileJsonText(r));
  }
  if (template.path.endsWith('/learn')) {
    const sample = (): unknown =>
      r.pick<unknown>([
        { features: Array.from({ length: 64 }, () => r.float()), label: r.int(0, 9) },
        { features: [1, 2, 3], label: 1 },
        { features: 'x', label: null },
        {
          features: Array.from({ length: 64 }, () => r.edgeNumber()),
          label: r.pick<unknown>([1.5, -1, 1e300, 'cat']),
        },
        {},
      ]);
    return Buffer.from(
      r.chance(0.8)
        ? JSON.stringify({ samples: Array.from({ length: r.int(0, 5) }, sample) })
        : `{"samples":${hostileJsonText(r)}}`,
    );
  }
  if (template.path.endsWith('/infer')) return Buffer.from(JSON.stringify(validInferBody(r, r.pick(MODELS))));
  if (template.path.includes('/feedback')) {
    const items = Array.from(
      { length: r.int(0, 4) },
      () =>
        JSON.parse(
          r.pick([
            `{"id":"req-${r.int(0, 100)}","label":${r.int(0, 9)}}`,
            `{"id":"req-${r.int(0, 100)}","row":${r.pick(['0', '1', '-1', '1.5', '"x"'])},"label":${r.pick(['1', '-1', '1.5', 'null', '"cat"'])}}`,
            `{"id":${JSON.stringify(r.hostileString())},"value":${r.pick(['1', '1e308', 'null', '"x"'])}}`,
            `{"id":"x","label":1,"value":2}`,
            `null`,
            `[]`,
          ]),
        ) as unknown,
    );
    return Buffer.from(
      r.chance(0.8) ? JSON.stringify({ feedback: items }) : `{"feedback":${hostileJsonText(r)}}`,
    );
  }
  if (template.path.startsWith('/api/v1/deployments/') && template.method === 'PUT') {
    const ref = (): unknown =>
      r.pick<unknown>([
        1,
        2,
        3,
        '1',
        'live',
        'next',
        'latest',
        0,
        -1,
        1.5,
        '',
        'no-such-alias',
        null,
        {},
        'x'.repeat(70),
      ]);
    const routes = r.pick<unknown>([
      { champion: ref() },
      {
        champion: ref(),
        canary: { version: ref(), percent: r.pick<unknown>([0, 10, 50, 100, 101, -1, 'x', null, 1e300]) },
      },
      { champion: ref(), shadow: { version: ref(), percent: r.pick<unknown>([100, 5, 0]) } },
      {
        champion: ref(),
        experiment: {
          variants: [
            { version: ref(), weight: r.int(-1, 3) },
            { version: ref(), weight: 1 },
          ],
          sticky_by: r.pick<unknown>(['x-user', 'bad header', '', 5]),
        },
      },
      {
        routes: { champion: ref() },
        reason: r.pick<unknown>(['fuzz', 5, null]),
        expected_revision: r.pick<unknown>([null, 0, 1, 1e300, 'x']),
      },
      { champion: ref(), [r.hostileString()]: 1 },
    ]);
    return Buffer.from(r.chance(0.8) ? JSON.stringify(routes) : hostileJsonText(r));
  }
  if (template.path.includes('/aliases/')) {
    return Buffer.from(
      r.chance(0.7)
        ? JSON.stringify({
            version: r.pick<unknown>([1, 2, '1', '2', 0, 3, -1, 1.5, '01', 'x', null, 2 ** 53]),
          })
        : hostileJsonText(r),
    );
  }
  if (template.path.includes('/repository/')) {
    return Buffer.from(
      r.pick([
        '{}',
        '{"ready":true}',
        '{"ready":"yes"}',
        '{"parameters":{}}',
        '{"parameters":{"unload_dependents":true}}',
        '{"parameters":{"config":"{}"}}',
        '{"parameters":[]}',
        hostileJsonText(r),
      ]),
    );
  }
  return Buffer.from(r.chance(0.5) ? '{}' : hostileJsonText(r));
}

/** One request to a random route (or a random method on it, or a URL no route matches). */
export function routeCase(r: FuzzRandom): HttpCase {
  const template = r.pick(ROUTES);
  let method = r.chance(0.8) ? template.method : r.pick(METHODS);
  // Never a state-changing method on a template whose parameters may name a served model.
  if (
    method !== 'GET' &&
    method !== 'HEAD' &&
    method !== 'OPTIONS' &&
    template.method === 'GET' &&
    template.path.includes(':model')
  )
    method = 'GET';
  let path = template.path.replace(/:([a-z]+)/g, (_m, kind: string) => segment(r, kind));
  const shape = r.int(0, 19);
  if (shape === 0) path += '/';
  else if (shape === 1) path = path.replace('/v2/', '/v2//');
  else if (shape === 2) path = path.toUpperCase();
  else if (shape === 3) path += `/${segment(r, 'x')}`;
  else if (shape === 4) path = `/${'a/'.repeat(r.pick([10, 500]))}`;
  else if (shape === 5) path += `#${r.ascii(5)}`;
  else if (shape === 6) path = path.replace(/^\//, '/./');
  if (template.query || r.chance(0.1)) {
    const keys = [...(template.query ?? []), r.hostileString()].filter(() => r.chance(0.6));
    const parts = keys.map((k) => `${percentEncode(k)}=${queryValue(r, k)}`);
    if (r.chance(0.2) && keys[0] !== undefined)
      parts.push(`${percentEncode(keys[0])}=${queryValue(r, keys[0])}`);
    if (r.chance(0.05)) parts.push(`${percentEncode(keys[0] ?? 'limit')}[]=1`, 'a[b][c]=1');
    if (parts.length > 0) path += `?${parts.join('&')}`;
  }
  const body =
    method === 'GET' || method === 'HEAD'
      ? r.chance(0.05)
        ? Buffer.from('{}')
        : undefined
      : routeBody(r, template);
  const headers: Record<string, string> = {};
  if (body)
    headers['content-type'] = r.chance(0.9)
      ? 'application/json'
      : r.pick(['text/plain', 'application/xml', '']);
  if (r.chance(0.1)) headers['x-tend-actor'] = r.ascii(300);
  if (r.chance(0.1)) headers['if-none-match'] = r.pick(['"abc"', '*', '', r.ascii(50)]);
  if (r.chance(0.1)) headers['accept-encoding'] = r.pick(['gzip', 'br', 'gzip;q=0', '*', r.ascii(20)]);
  const fresh = !NODE_METHODS.includes(method);
  return {
    transport: 'http',
    category: `route/${template.method} ${template.path}`,
    method,
    path,
    headers,
    ...(body ? { body } : {}),
    ...(fresh ? { fresh } : {}),
  };
}

/** A body over the server's limit (declared honestly, or sent chunked without a length). */
export function oversizeCase(r: FuzzRandom, bodyLimitBytes: number): HttpCase {
  const size = bodyLimitBytes + r.pick([1, 100, bodyLimitBytes]);
  const head = Buffer.from('{"inputs":[{"name":"pixels","datatype":"FP32","shape":[1,64],"data":[');
  const body = Buffer.alloc(size, '1,');
  head.copy(body);
  const headers: Record<string, string> = {
    'content-type': r.pick(['application/json', 'application/octet-stream']),
  };
  if (r.chance(0.3)) headers['inference-header-content-length'] = String(r.int(0, 100));
  return {
    transport: 'http',
    category: 'oversize',
    method: r.pick(['POST', 'PUT']),
    path: r.pick([
      '/v2/models/digits/infer',
      '/api/v1/deployments/victim',
      '/v2/models/digits/feedback',
      '/nope',
    ]),
    headers,
    body,
    oversize: true,
    chunked: r.chance(0.5),
    fresh: true,
  };
}
