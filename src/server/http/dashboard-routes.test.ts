/**
 * The dashboard routes through `inject`: the page and its files (content type, strong ETag and 304,
 * gzip when asked), unknown files, and the JSON the page reads with its query parameters. The page in
 * a browser stays in test/dashboard.test.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { DIGITS_MLP, digitsBody, injectJson, openInjectApp, type InjectApp } from './inject.test-helper.js';

let t: InjectApp;

before(async () => {
  t = await openInjectApp({ registry: [{ name: 'digits', model: DIGITS_MLP }] });
  assert.equal((await injectJson(t.app, 'POST', '/v2/models/digits/infer', digitsBody())).status, 200);
});

after(() => t.close());

describe('dashboard files', () => {
  test('the page: HTML with a strong ETag, 304 when it matches, gzip when asked', async () => {
    const page = await t.app.inject({ method: 'GET', url: '/' });
    assert.equal(page.statusCode, 200);
    assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(page.headers['cache-control'], 'no-cache');
    const etag = String(page.headers['etag']);
    assert.match(etag, /^"[0-9a-f]{16}"$/);
    assert.match(page.body, /<html/i);
    const again = await t.app.inject({ method: 'GET', url: '/', headers: { 'if-none-match': etag } });
    assert.equal(again.statusCode, 304);
    assert.equal(again.body, '');
    const gzip = await t.app.inject({ method: 'GET', url: '/', headers: { 'accept-encoding': 'gzip, br' } });
    assert.equal(gzip.headers['content-encoding'], 'gzip');
    assert.equal(gunzipSync(gzip.rawPayload).toString(), page.body);
  });

  test('the scripts and styles, uPlot included, with their content types', async () => {
    for (const [file, type] of [
      ['app.js', 'text/javascript; charset=utf-8'],
      ['style.css', 'text/css; charset=utf-8'],
      ['uPlot.iife.min.js', 'text/javascript; charset=utf-8'],
      ['uPlot.min.css', 'text/css; charset=utf-8'],
    ] as const) {
      const res = await t.app.inject({ method: 'GET', url: `/dashboard/${file}` });
      assert.equal(res.statusCode, 200, file);
      assert.equal(res.headers['content-type'], type, file);
      assert.ok(res.body.length > 0, file);
    }
  });

  test('an unknown file is 404 TEND_NOT_FOUND naming it; a wrong method is 404 too', async () => {
    const res = await injectJson(t.app, 'GET', '/dashboard/secret.txt');
    assert.deepEqual(
      [res.status, res.body],
      [404, { error: "no dashboard file 'secret.txt'", code: 'TEND_NOT_FOUND' }],
    );
    const post = await injectJson(t.app, 'POST', '/dashboard/app.js', {});
    assert.deepEqual(
      [post.status, post.body],
      [404, { error: 'no route for POST /dashboard/app.js', code: 'TEND_NOT_FOUND' }],
    );
  });
});

describe('dashboard data', () => {
  test('the model list names the served models', async () => {
    const res = await injectJson(t.app, 'GET', '/api/v1/dashboard/models');
    assert.equal(res.status, 200, res.text);
    const models = res.body['models'] as { name: string }[];
    assert.deepEqual(
      models.map((m) => m.name),
      ['digits'],
    );
  });

  test('the series of a model, with a window and a bucket count', async () => {
    const res = await injectJson(
      t.app,
      'GET',
      '/api/v1/dashboard/models/digits/series?window=15m&buckets=10',
    );
    assert.equal(res.status, 200, res.text);
    assert.equal(typeof res.body, 'object');
    assert.ok(!('error' in res.body), res.text);
  });

  test('bad series queries: unknown parameters, a parameter twice, an unknown model', async () => {
    const unknown = await injectJson(t.app, 'GET', '/api/v1/dashboard/models/digits/series?bogus=1');
    assert.deepEqual(
      [unknown.status, unknown.body],
      [
        400,
        {
          error: 'unknown query parameter(s) bogus; use window (e.g. 15m) and buckets',
          code: 'TEND_INVALID_ARGUMENT',
        },
      ],
    );
    const twice = await injectJson(
      t.app,
      'GET',
      '/api/v1/dashboard/models/digits/series?window=1m&window=2m',
    );
    assert.deepEqual(
      [twice.status, twice.body],
      [400, { error: "give 'window' once", code: 'TEND_INVALID_ARGUMENT' }],
    );
    const badWindow = await injectJson(t.app, 'GET', '/api/v1/dashboard/models/digits/series?window=forever');
    assert.equal(badWindow.status, 400, badWindow.text);
    const model = await injectJson(t.app, 'GET', '/api/v1/dashboard/models/nope/series');
    assert.equal(model.status, 404, model.text);
    assert.equal(model.body['code'], 'TEND_MODEL_NOT_FOUND');
  });
});
