/**
 * The monitoring routes through `inject`: feedback (accepted, unknown ids, rejected items, bad bodies),
 * the monitor view and its query parameters, and the alerts list with its limit. Accuracy falling,
 * drift and alerts reaching a webhook under real traffic stay in test/monitoring.test.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIGITS_MLP, digitsBody, injectJson, openInjectApp, type InjectApp } from './inject.test-helper.js';

let t: InjectApp;
const get = (path: string) => injectJson(t.app, 'GET', path);
const post = (path: string, body: unknown) => injectJson(t.app, 'POST', path, body);

before(async () => {
  t = await openInjectApp({ registry: [{ name: 'digits', model: DIGITS_MLP }] });
  // Ten logged rows under the id the feedback below refers to.
  const res = await post('/v2/models/digits/infer', digitsBody(1, 10, 'clean-0'));
  assert.equal(res.status, 200, res.text);
});

after(() => t.close());

describe('feedback', () => {
  test('bad feedback: unknown ids are reported, bad items rejected, nothing else lost', async () => {
    const res = await post('/v2/models/digits/feedback', {
      feedback: [
        { id: 'never-sent', row: 0, label: 1 },
        { id: 'clean-0', row: 0, label: 'seven' },
        { id: 'clean-0', row: 0, label: 2.5 },
        { id: 'clean-0', row: -1, label: 2 },
        { row: 0, label: 1 },
        { id: 'clean-0', row: 1, label: 4 },
      ],
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body['accepted'], 1);
    assert.deepEqual(res.body['unknown_ids'], ['never-sent']);
    const rejected = res.body['rejected'] as { id: string | null; error: string }[];
    assert.equal(rejected.length, 4, JSON.stringify(rejected));
    assert.match(rejected[0]?.error ?? '', /class name, but model 'digits' has no class names/);
    for (const [body, message] of [
      [{}, /needs "feedback"/],
      [{ feedback: 'x' }, /must be an array/],
      [{ feedback: [], extra: 1 }, /unknown field/],
      ['[1,2]', /JSON object/],
    ] as const) {
      const bad = await post('/v2/models/digits/feedback', body);
      assert.equal(bad.status, 400, JSON.stringify(bad.body));
      assert.match(String(bad.body['error']), message);
    }
    assert.equal((await post('/v2/models/nope/feedback', { feedback: [] })).status, 404);
  });

  test('labels for logged rows are accepted', async () => {
    const res = await post('/v2/models/digits/feedback', {
      feedback: [2, 3, 4].map((row) => ({ id: 'clean-0', row, label: row })),
    });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { accepted: 3, unknown_ids: [], rejected: [] });
  });

  test('an unknown model is 404 TEND_MODEL_NOT_FOUND; malformed JSON is 400 TEND_INVALID_JSON', async () => {
    const unknown = await post('/v2/models/nope/feedback', { feedback: [] });
    assert.equal(unknown.body['code'], 'TEND_MODEL_NOT_FOUND');
    const broken = await post('/v2/models/digits/feedback', '{"feedback": [');
    assert.equal(broken.status, 400);
    assert.equal(broken.body['code'], 'TEND_INVALID_JSON');
  });
});

describe('monitor view', () => {
  test('the view counts the logged predictions and the labelled ones', async () => {
    const res = await get('/v2/models/digits/monitor?last=100');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body['predictions'], 10);
    assert.equal(res.body['labelled'], 4);
    assert.equal(typeof res.body['quality'], 'object');
    const byWindow = await get('/v2/models/digits/monitor?window=1h&version=1');
    assert.equal(byWindow.status, 200, byWindow.text);
    assert.equal(byWindow.body['predictions'], 10);
  });

  test('bad monitor queries are refused with the reason', async () => {
    for (const [query, message] of [
      ['window=1hour', /window '1hour'/],
      ['last=0', /last '0'/],
      ['window=1h&last=5', /either window or last/],
      ['bogus=1', /unknown query parameter/],
    ] as const) {
      const res = await get(`/v2/models/digits/monitor?${query}`);
      assert.equal(res.status, 400, `${query}: ${JSON.stringify(res.body)}`);
      assert.match(String(res.body['error']), message);
    }
    assert.equal((await get('/v2/models/digits/monitor?version=9')).status, 404);
  });

  test('a parameter given twice, an unknown model: 400 TEND_INVALID_ARGUMENT, 404 TEND_MODEL_NOT_FOUND', async () => {
    const twice = await get('/v2/models/digits/monitor?last=5&last=6');
    assert.deepEqual(
      [twice.status, twice.body],
      [400, { error: "give 'last' once", code: 'TEND_INVALID_ARGUMENT' }],
    );
    const unknown = await get('/v2/models/nope/monitor');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body['code'], 'TEND_MODEL_NOT_FOUND');
  });
});

describe('alerts', () => {
  test('the alerts list answers with its limit, and refuses a limit outside 1..10000', async () => {
    const res = await get('/api/v1/alerts');
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body['active'], []);
    assert.equal((await get('/api/v1/alerts?limit=5')).status, 200);
    for (const limit of ['0', '10001', '1.5', 'x']) {
      const bad = await get(`/api/v1/alerts?limit=${limit}`);
      assert.equal(bad.status, 400, limit);
      assert.deepEqual(bad.body, {
        error: `limit '${limit}' must be a whole number from 1 to 10000`,
        code: 'TEND_INVALID_ARGUMENT',
      });
    }
    const twice = await get('/api/v1/alerts?limit=1&limit=2');
    assert.deepEqual(twice.body, { error: "give 'limit' once", code: 'TEND_INVALID_ARGUMENT' });
  });

  test('wrong methods on monitoring paths: 404 naming the method', async () => {
    for (const [method, path] of [
      ['GET', '/v2/models/digits/feedback'],
      ['POST', '/v2/models/digits/monitor'],
      ['DELETE', '/api/v1/alerts'],
    ] as const) {
      const res = await injectJson(t.app, method, path);
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.deepEqual(res.body, { error: `no route for ${method} ${path}`, code: 'TEND_NOT_FOUND' });
    }
  });
});
