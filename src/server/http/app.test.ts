/**
 * The V2 routes of app.ts through `inject`: server and model metadata, health and readiness, infer
 * (every bad-input path answers {"error","code"} and the app keeps serving), statistics, /metrics,
 * unknown routes and methods (the limits on client strings: app-limits.test.ts). Outputs against
 * onnxruntime, full queues, timeouts and hang-ups stay in test/server-v2.test.ts (they need load or
 * a socket).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIGITS_MLP, injectJson, openInjectApp, type InjectApp } from './inject.test-helper.js';
import { LONG_NAME as LONG, openV2RoutesApp } from './v2-routes.test-helper.js';

let t: InjectApp;
let demoRows: Float32Array;

function outputData(body: Record<string, unknown>, name: string): unknown[] {
  const outputs = body['outputs'] as { name: string; data: unknown[] }[];
  const out = outputs.find((o) => o.name === name);
  assert.ok(out, `output ${name} in ${JSON.stringify(body).slice(0, 200)}`);
  return out.data;
}

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  injectJson(t.app, 'POST', path, body, headers);
const get = (path: string) => injectJson(t.app, 'GET', path);

before(async () => {
  ({ app: t, demoRows } = await openV2RoutesApp());
});

after(() => t.close());

describe('protocol endpoints', () => {
  test('server metadata, liveness and readiness', async () => {
    const meta = await get('/v2');
    assert.equal(meta.status, 200);
    assert.equal(meta.body['name'], 'tend');
    assert.equal((await get('/v2/health/live')).status, 200);
    assert.deepEqual((await get('/v2/health/live')).body, { live: true });
    assert.equal((await get('/v2/health/ready')).status, 200);
    assert.deepEqual((await get('/v2/health/ready')).body, { ready: true });
  });

  test('the model list names every served model with its versions and states', async () => {
    const res = await get('/v2/models');
    assert.equal(res.status, 200);
    const models = res.body['models'] as {
      name: string;
      source: string;
      versions: { version: string; state: string }[];
    }[];
    assert.deepEqual(
      models.map((m) => m.name).sort(),
      [LONG, 'cnn_queue', 'digits', 'sticky', 'text'].sort(),
    );
    const digits = models.find((m) => m.name === 'digits');
    assert.deepEqual(
      digits?.versions.map((v) => [v.version, v.state]),
      [['1', 'READY']],
    );
    assert.deepEqual(
      models.find((m) => m.name === 'sticky')?.versions.map((v) => v.version),
      ['1', '2'],
    );
  });

  test('model metadata reports dynamic dimensions as -1', async () => {
    const meta = await get('/v2/models/digits');
    assert.equal(meta.status, 200);
    assert.deepEqual(meta.body['inputs'], [{ name: 'features', datatype: 'FP32', shape: [-1, 64] }]);
    assert.deepEqual(meta.body['outputs'], [
      { name: 'probabilities', datatype: 'FP32', shape: [-1, 10] },
      { name: 'label', datatype: 'INT64', shape: [-1] },
    ]);
    assert.deepEqual(meta.body['versions'], ['1']);
    const v = await get('/v2/models/digits/versions/1');
    assert.equal(v.status, 200);
    const ready = await get('/v2/models/digits/versions/1/ready');
    assert.deepEqual(ready.body, { name: 'digits', version: '1', ready: true });
    assert.deepEqual((await get('/v2/models/digits/ready')).body, {
      name: 'digits',
      version: '1',
      ready: true,
    });
  });

  test('metadata and readiness of an unknown model, version or alias: 404 with its code', async () => {
    for (const [path, code] of [
      ['/v2/models/nope', 'TEND_MODEL_NOT_FOUND'],
      ['/v2/models/nope/ready', 'TEND_MODEL_NOT_FOUND'],
      ['/v2/models/digits/versions/7', 'TEND_VERSION_NOT_FOUND'],
      ['/v2/models/digits/versions/7/ready', 'TEND_VERSION_NOT_FOUND'],
      ['/v2/models/digits/versions/champion', 'TEND_ALIAS_NOT_FOUND'],
    ] as const) {
      const res = await get(path);
      assert.equal(res.status, 404, `${path}: ${res.text}`);
      assert.equal(res.body['code'], code, path);
      assert.equal(typeof res.body['error'], 'string');
    }
  });

  test('a model name of 120 characters (the registry allows 128) is reachable', async () => {
    const res = await get(`/v2/models/${LONG}`);
    assert.equal(res.status, 200);
    assert.equal(res.body['name'], LONG);
  });

  test('the request id is echoed, or a UUID is generated; requested outputs only', async () => {
    const body = {
      id: 'req-42',
      inputs: [
        { name: 'features', shape: [1, 64], datatype: 'FP32', data: Array.from(demoRows.subarray(0, 64)) },
      ],
      outputs: [{ name: 'label' }],
    };
    const res = await post('/v2/models/digits/infer', body);
    assert.equal(res.body['id'], 'req-42');
    assert.deepEqual(
      (res.body['outputs'] as { name: string }[]).map((o) => o.name),
      ['label'],
    );
    const { id: _id, ...noId } = body;
    const res2 = await post('/v2/models/digits/versions/1/infer', noId);
    assert.match(String(res2.body['id']), /^[0-9a-f-]{36}$/);
  });

  test('nested data is accepted, and a form-encoded curl body is read as JSON', async () => {
    const rows = [Array.from(demoRows.subarray(0, 64)), Array.from(demoRows.subarray(64, 128))];
    const res = await t.app.inject({
      method: 'POST',
      url: '/v2/models/digits/infer',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: JSON.stringify({
        inputs: [{ name: 'features', shape: [2, 64], datatype: 'FP32', data: rows }],
      }),
    });
    assert.equal(res.statusCode, 200);
    const body = JSON.parse(res.body) as Record<string, unknown>;
    assert.equal(outputData(body, 'label').length, 2);
  });

  test('metrics follow Prometheus conventions', async () => {
    assert.equal(
      (
        await post('/v2/models/digits/infer', {
          inputs: [
            {
              name: 'features',
              shape: [1, 64],
              datatype: 'FP32',
              data: Array.from(demoRows.subarray(0, 64)),
            },
          ],
        })
      ).status,
      200,
    );
    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain/);
    const text = res.body;
    assert.match(text, /tend_inference_requests_total\{model="digits",version="1",outcome="success"\} \d+/);
    assert.match(text, /tend_inference_queue_seconds_bucket\{/);
    assert.match(text, /tend_inference_compute_seconds_count\{model="digits",version="1"\}/);
    assert.match(text, /tend_batch_size_bucket\{/);
    assert.match(text, /# TYPE tend_pending_requests gauge/);
    assert.match(text, /tend_process_resident_memory_bytes/);
  });

  test('statistics: every model, one model, one version; an unknown model is 404', async () => {
    const body = {
      inputs: [
        { name: 'features', shape: [1, 64], datatype: 'FP32', data: Array.from(demoRows.subarray(0, 64)) },
      ],
    };
    assert.equal((await post('/v2/models/digits/infer', body)).status, 200);
    type Stats = { model_stats: { name: string; version: string; inference_count: number }[] };
    const all = (await get('/v2/models/stats')).body as unknown as Stats;
    assert.ok(
      all.model_stats.some((s) => s.name === 'digits'),
      JSON.stringify(all).slice(0, 300),
    );
    const one = await get('/v2/models/digits/stats');
    assert.equal(one.status, 200);
    const digits = (one.body as unknown as Stats).model_stats;
    assert.deepEqual(
      digits.map((s) => [s.name, s.version]),
      [['digits', '1']],
    );
    assert.ok((digits[0]?.inference_count ?? 0) >= 1, JSON.stringify(digits));
    const version = await get('/v2/models/digits/versions/1/stats');
    assert.deepEqual(
      (version.body as unknown as Stats).model_stats.map((s) => [s.name, s.version]),
      [['digits', '1']],
    );
    const unknown = await get('/v2/models/nope/stats');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body['code'], 'TEND_MODEL_NOT_FOUND');
  });
});

describe('bad input answers 4xx with {"error"} and the app keeps serving', () => {
  const good = () => ({
    inputs: [
      { name: 'features', shape: [1, 64], datatype: 'FP32', data: Array.from(demoRows.subarray(0, 64)) },
    ],
  });

  async function expectError(path: string, body: unknown, status: number, pattern: RegExp, code?: string) {
    const res = await post(path, body);
    assert.equal(res.status, status, JSON.stringify(res.body));
    assert.equal(typeof res.body['error'], 'string');
    assert.match(res.body['error'] as string, pattern);
    if (code) assert.equal(res.body['code'], code);
    const ok = await post('/v2/models/digits/infer', good());
    assert.equal(ok.status, 200, 'the app still serves');
  }

  test('malformed JSON → 400', () =>
    expectError('/v2/models/digits/infer', '{"inputs": [', 400, /not valid JSON/, 'TEND_INVALID_JSON'));
  test('empty body → 400', () => expectError('/v2/models/digits/infer', '', 400, /empty/));
  test('wrong input name → 400', async () => {
    const b = good();
    b.inputs[0]!.name = 'pixels';
    await expectError(
      '/v2/models/digits/infer',
      b,
      400,
      /unknown input 'pixels'.*features/,
      'TEND_INVALID_INPUT',
    );
  });
  test('missing inputs → 400', () =>
    expectError('/v2/models/digits/infer', { inputs: [] }, 400, /non-empty "inputs"/));
  test('wrong datatype → 400', async () => {
    const b = good();
    b.inputs[0]!.datatype = 'FP64';
    await expectError('/v2/models/digits/infer', b, 400, /must have datatype FP32, got FP64/);
  });
  test('unknown datatype → 400', async () => {
    const b = good();
    b.inputs[0]!.datatype = 'FLOAT';
    await expectError('/v2/models/digits/infer', b, 400, /unknown datatype "FLOAT"/);
  });
  test('wrong shape → 400', async () => {
    const b = good();
    b.inputs[0]!.shape = [2, 32];
    await expectError('/v2/models/digits/infer', b, 400, /dimension 1 must be 64/);
  });
  test('data length differs from the shape → 400', async () => {
    const b = good();
    b.inputs[0]!.shape = [2, 64];
    await expectError('/v2/models/digits/infer', b, 400, /has 64 elements but shape \[2,64\] needs 128/);
  });
  test('a non-number element → 400 naming it', async () => {
    const b = good();
    (b.inputs[0]!.data as unknown[])[5] = 'x';
    await expectError('/v2/models/digits/infer', b, 400, /element 5 is "x", expected a number/);
  });
  test('batch above max_batch_size → 400', async () => {
    await expectError(
      '/v2/models/cnn_queue/infer',
      { inputs: [{ name: 'image', shape: [2, 3, 32, 32], datatype: 'FP32', data: new Array(6144).fill(0) }] },
      400,
      /above the model's max_batch_size 1/,
    );
  });
  test('JSON INT64 beyond ±2^53 → 400', async () => {
    const ids = new Array<number | string>(16).fill(1);
    const body = `{"inputs":[{"name":"input_ids","shape":[1,16],"datatype":"INT64","data":[9007199254740993${',1'.repeat(15)}]},{"name":"attention_mask","shape":[1,16],"datatype":"INT64","data":[${ids.join(',')}]}]}`;
    await expectError('/v2/models/text/infer', body, 400, /within ±2\^53/);
  });
  test('unknown model, version and alias → 404', async () => {
    await expectError('/v2/models/nope/infer', good(), 404, /model 'nope' not found/, 'TEND_MODEL_NOT_FOUND');
    await expectError(
      '/v2/models/digits/versions/7/infer',
      good(),
      404,
      /no version '7'/,
      'TEND_VERSION_NOT_FOUND',
    );
    await expectError(
      '/v2/models/digits/versions/champion/infer',
      good(),
      404,
      /no alias 'champion'/,
      'TEND_ALIAS_NOT_FOUND',
    );
    await expectError(
      '/v2/models/digits@champion/infer',
      good(),
      404,
      /no alias 'champion'/,
      'TEND_ALIAS_NOT_FOUND',
    );
    const meta = await get('/v2/models/nope');
    assert.equal(meta.status, 404);
  });
  test('unknown route → 404 with {"error"}', async () => {
    const res = await get('/v3/things');
    assert.equal(res.status, 404);
    assert.match(String(res.body['error']), /no route for GET \/v3\/things/);
    assert.equal(res.body['code'], 'TEND_NOT_FOUND');
  });
  test('a wrong method on a known path → 404 naming the method', async () => {
    for (const [method, path] of [
      ['GET', '/v2/models/digits/infer'],
      ['DELETE', '/v2/models/digits'],
      ['PUT', '/v2/health/ready'],
      ['POST', '/v2/models/stats'],
    ] as const) {
      const res = await injectJson(t.app, method, path);
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.deepEqual(res.body, { error: `no route for ${method} ${path}`, code: 'TEND_NOT_FOUND' });
    }
  });
  test('body over the limit → 413', async () => {
    const big = JSON.stringify({
      inputs: [{ name: 'features', shape: [1, 64], datatype: 'FP32', data: new Array(2_000_000).fill(0.5) }],
    });
    await expectError(
      '/v2/models/digits/infer',
      big,
      413,
      /larger than the server accepts/,
      'TEND_PAYLOAD_TOO_LARGE',
    );
  });
});

describe('readiness of a model that failed to load', () => {
  let broken: InjectApp;
  before(async () => {
    broken = await openInjectApp({
      repository: [
        { name: 'digits', model: DIGITS_MLP },
        { name: 'broken', model: new TextEncoder().encode('not an onnx model') },
      ],
    });
  });
  after(() => broken.close());

  test('the model answers 503 TEND_MODEL_NOT_READY with its state; the server is not ready; the others serve', async () => {
    const model = await injectJson(broken.app, 'GET', '/v2/models/broken/ready');
    assert.equal(model.status, 503, model.text);
    assert.equal(model.body['code'], 'TEND_MODEL_NOT_READY');
    assert.equal(model.body['ready'], false);
    assert.match(String(model.body['error']), /^model 'broken' version 1 is /);
    const server = await injectJson(broken.app, 'GET', '/v2/health/ready');
    assert.equal(server.status, 503);
    assert.deepEqual(server.body, {
      ready: false,
      error: 'models are loading or a model failed to load',
      code: 'TEND_UNAVAILABLE',
    });
    assert.deepEqual((await injectJson(broken.app, 'GET', '/v2/models/digits/ready')).body, {
      name: 'digits',
      version: '1',
      ready: true,
    });
  });
});
