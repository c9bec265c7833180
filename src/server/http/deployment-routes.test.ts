/**
 * The deployments API through `inject`: list, read, put (bare routes or {routes, reason,
 * expected_revision}), promote, rollback, history and alias moves, each with its refusals, and the
 * OpenAPI document that describes them. Canary splits, shadows, sticky experiments and the canary
 * guard under traffic stay in test/deployments.test.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphBuilder, writeModel } from '../../onnx/index.js';
import {
  DIGITS_MLP,
  SMALL_CNN,
  digitsBody,
  injectJson,
  openInjectApp,
  type InjectApp,
} from './inject.test-helper.js';

/** A lookup table y = table[x] for x in 0..9: a model whose signature differs from digits'. */
function lookupModel(): Uint8Array {
  const g = new GraphBuilder('lookup')
    .input('x', 'INT64', ['batch', 1])
    .output('y', 'FP32', ['batch', 1])
    .initializer(
      'table',
      Float32Array.from({ length: 10 }, (_, i) => i / 10),
      [10],
    )
    .node('Gather', ['table', 'x'], ['y'], { axis: { int: 0 } });
  return writeModel(g.build());
}

let t: InjectApp;
const get = (path: string) => injectJson(t.app, 'GET', path);
const put = (path: string, body: unknown) => injectJson(t.app, 'PUT', path, body);
const post = (path: string, body?: unknown, headers: Record<string, string> = {}) =>
  injectJson(t.app, 'POST', path, body, headers);

before(async () => {
  t = await openInjectApp({
    registry: [
      { name: 'lookup', model: lookupModel() },
      { name: 'lookup', model: lookupModel() },
      { name: 'digits', model: DIGITS_MLP, aliases: ['champion'] },
      { name: 'digits', model: DIGITS_MLP },
      { name: 'digits', model: DIGITS_MLP },
      { name: 'cnn', model: SMALL_CNN },
    ],
  });
});

after(() => t.close());

describe('deployment routes', () => {
  test('put, read and list: the routes as given, the revision, the shadow statistics (null without one)', async () => {
    assert.deepEqual((await get('/api/v1/deployments')).body, { deployments: [] });
    const res = await put('/api/v1/deployments/digits', {
      routes: { champion: 1, canary: { version: 2, percent: 10 } },
      reason: 'first canary',
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body['endpoint'], 'digits');
    const read = await get('/api/v1/deployments/digits');
    assert.equal(read.status, 200);
    assert.deepEqual(read.body['routes'], res.body['routes']);
    assert.equal(read.body['shadow'], null);
    const list = (await get('/api/v1/deployments')).body['deployments'] as { endpoint: string }[];
    assert.deepEqual(
      list.map((d) => d.endpoint),
      ['digits'],
    );
    assert.equal((await put('/api/v1/deployments/lookup', { champion: 1 })).status, 200);
  });

  test('promote makes the canary the champion; history records every change, newest first, and takes a limit', async () => {
    const promoted = await post('/api/v1/deployments/digits/promote', undefined, { 'x-tend-actor': 'alice' });
    assert.equal(promoted.status, 200, promoted.text);
    assert.deepEqual(promoted.body['routes'], { champion: '2' });
    const history = await get('/api/v1/deployments/digits/history');
    assert.equal(history.status, 200);
    const entries = history.body['history'] as { action: string; actor: string; reason: string | null }[];
    assert.deepEqual(
      entries.map((h) => h.action),
      ['promote', 'put'],
    );
    assert.equal(entries[0]?.actor, 'alice');
    assert.equal(entries[1]?.reason, 'first canary');
    const one = await get('/api/v1/deployments/digits/history?limit=1');
    assert.deepEqual(
      (one.body['history'] as { action: string }[]).map((h) => h.action),
      ['promote'],
    );
  });

  test('history refuses a limit that is not a positive integer', async () => {
    for (const limit of ['0', '-1', '1.5', 'x']) {
      const res = await get(`/api/v1/deployments/digits/history?limit=${limit}`);
      assert.equal(res.status, 400, limit);
      assert.deepEqual(res.body, { error: 'limit must be a positive integer', code: 'TEND_INVALID_INPUT' });
    }
  });

  test('rollback returns to the previous routes; with nothing to roll back to it is 409', async () => {
    assert.equal(
      (await put('/api/v1/deployments/digits', { champion: 2, canary: { version: 3, percent: 5 } })).status,
      200,
    );
    const back = await post('/api/v1/deployments/digits/rollback');
    assert.equal(back.status, 200, back.text);
    assert.deepEqual(back.body['routes'], { champion: '2' });
    const nothing = await post('/api/v1/deployments/digits/rollback');
    assert.equal(nothing.status, 409);
    assert.equal(typeof nothing.body['error'], 'string');
    assert.equal(typeof nothing.body['code'], 'string');
  });

  test('an unknown model is 404 TEND_MODEL_NOT_FOUND; a model without a deployment is 404 TEND_NOT_FOUND', async () => {
    for (const [method, path] of [
      ['GET', '/api/v1/deployments/nope'],
      ['POST', '/api/v1/deployments/nope/promote'],
      ['POST', '/api/v1/deployments/nope/rollback'],
    ] as const) {
      const res = await injectJson(t.app, method, path);
      assert.equal(res.status, 404, `${method} ${path}: ${res.text}`);
      assert.deepEqual(
        res.body,
        { error: "model 'nope' not found", code: 'TEND_MODEL_NOT_FOUND' },
        `${method} ${path}`,
      );
    }
    assert.deepEqual((await get('/api/v1/deployments/cnn')).body, {
      error: "'cnn' has no deployment",
      code: 'TEND_NOT_FOUND',
    });
  });

  test('the wrapper fields are checked: reason a string, expected_revision an integer or null, a stale revision refused', async () => {
    const reason = await put('/api/v1/deployments/digits', { routes: { champion: 2 }, reason: 5 });
    assert.deepEqual(
      [reason.status, reason.body],
      [400, { error: '"reason" must be a string', code: 'TEND_INVALID_INPUT' }],
    );
    const revision = await put('/api/v1/deployments/digits', {
      routes: { champion: 2 },
      expected_revision: 'x',
    });
    assert.deepEqual(
      [revision.status, revision.body],
      [400, { error: '"expected_revision" must be an integer or null', code: 'TEND_INVALID_INPUT' }],
    );
    const current = (await get('/api/v1/deployments/digits')).body['revision'] as number;
    const stale = await put('/api/v1/deployments/digits', {
      routes: { champion: 2 },
      expected_revision: current - 1,
    });
    assert.equal(stale.status, 409, stale.text);
    const fresh = await put('/api/v1/deployments/digits', {
      routes: { champion: 2 },
      expected_revision: current,
    });
    assert.equal(fresh.status, 200, fresh.text);
  });

  test('an alias moves only to a version that serves, and the move is seen at once', async () => {
    const moved = await put('/api/v1/models/digits/aliases/champion', { version: 3 });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    assert.deepEqual(moved.body, { name: 'digits', alias: 'champion', version: 3, previous: 1 });
    const res = await post('/v2/models/digits@champion/infer', digitsBody());
    assert.equal(res.body['model_version'], '3');
    const missing = await put('/api/v1/models/digits/aliases/champion', { version: 9 });
    assert.equal(missing.status, 404);
    const bad = await put('/api/v1/models/digits/aliases/champion', { version: 'x' });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, { error: '"version" must be a positive integer', code: 'TEND_INVALID_INPUT' });
    const numeric = await put('/api/v1/models/digits/aliases/champion', { version: '2' });
    assert.deepEqual(numeric.body, { name: 'digits', alias: 'champion', version: 2, previous: 3 });
    assert.equal((await put('/api/v1/models/nope/aliases/champion', { version: 1 })).status, 404);
  });

  test('bad routes are refused with a clear message and nothing changes', async () => {
    const before = (await get('/api/v1/deployments/digits')).body['routes'];
    const cases: [unknown, number, RegExp][] = [
      [{ champion: 9 }, 404, /has no version '9'/],
      [{ champion: 2, canary: { version: 1, percent: 150 } }, 400, /percent/],
      [
        {
          champion: 2,
          experiment: {
            variants: [
              { version: 1, weight: 0 },
              { version: 2, weight: 0 },
            ],
          },
        },
        400,
        /weight/,
      ],
      [
        {
          champion: 2,
          canary: { version: 1, percent: 5 },
          experiment: {
            variants: [
              { version: 1, weight: 1 },
              { version: 2, weight: 1 },
            ],
          },
        },
        400,
        /canary/,
      ],
      [{ champion: 'nope' }, 404, /alias 'nope'/],
      [{ champion: 2, bogus: 1 }, 400, /bogus|unrecognized|allowed/i],
      ['not an object', 400, /./],
    ];
    for (const [routes, status, message] of cases) {
      const res = await put('/api/v1/deployments/digits', routes);
      assert.equal(res.status, status, `${JSON.stringify(routes)} → ${JSON.stringify(res.body)}`);
      assert.match(String(res.body['error']), message);
    }
    assert.deepEqual((await get('/api/v1/deployments/digits')).body['routes'], before);
    assert.equal((await get('/api/v1/deployments/cnn')).status, 404);
    // A version whose inputs differ from the champion's cannot take its traffic.
    const lookupBefore = (await get('/api/v1/deployments/lookup')).body['routes'];
    const pushed = await t.engine.registry.models.push(DIGITS_MLP, { name: 'lookup' });
    const mismatch = await put('/api/v1/deployments/lookup', {
      champion: 1,
      canary: { version: pushed.version, percent: 10 },
    });
    assert.equal(mismatch.status, 400, JSON.stringify(mismatch.body));
    assert.match(
      String(mismatch.body['error']),
      /cannot take the traffic of champion version 1: input 'x' is missing.*extra input 'pixels'/,
    );
    assert.deepEqual((await get('/api/v1/deployments/lookup')).body['routes'], lookupBefore);
    const unknown = await put('/api/v1/deployments/nope', { champion: 1 });
    assert.equal(unknown.status, 404);
    assert.equal((await post('/v2/models/digits/infer', digitsBody(1, 1, 'after'))).status, 200);
  });

  test('wrong methods on deployment paths: 404 naming the method', async () => {
    for (const [method, path] of [
      ['POST', '/api/v1/deployments/digits'],
      ['GET', '/api/v1/deployments/digits/promote'],
      ['DELETE', '/api/v1/deployments/digits'],
      ['GET', '/api/v1/models/digits/aliases/champion'],
    ] as const) {
      const res = await injectJson(t.app, method, path);
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.deepEqual(res.body, { error: `no route for ${method} ${path}`, code: 'TEND_NOT_FOUND' });
    }
  });

  test('the OpenAPI document describes the management API from the same schema the server validates with', async () => {
    const doc = (await get('/docs/openapi.json')).body as {
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: unknown; summary?: string }>>;
    };
    assert.match(doc.openapi, /^3\./);
    for (const path of [
      '/api/v1/deployments',
      '/api/v1/deployments/{endpoint}',
      '/api/v1/deployments/{endpoint}/promote',
      '/api/v1/deployments/{endpoint}/rollback',
      '/api/v1/deployments/{endpoint}/history',
      '/api/v1/models/{name}/aliases/{alias}',
    ]) {
      assert.ok(doc.paths[path], `${path} in ${Object.keys(doc.paths).join(', ')}`);
    }
    const body = JSON.stringify(doc.paths['/api/v1/deployments/{endpoint}']?.['put']?.requestBody);
    for (const field of [
      'champion',
      'canary',
      'shadow',
      'experiment',
      'percent',
      'sticky_by',
      'max_error_rate_increase',
    ])
      assert.ok(body.includes(field), field);
    assert.ok(doc.paths['/v2/models/{model}/infer'], 'the V2 routes are listed too');
    // Schemas document, they do not filter: the shadow field still reaches the client.
    assert.ok('shadow' in (await get('/api/v1/deployments/lookup')).body);
  });
});
