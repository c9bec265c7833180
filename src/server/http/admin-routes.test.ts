/**
 * The admin routes through `inject`: training runs (read), the audit log and its query, and tokens —
 * bad bodies refused, one created (201, shown once), listed and revoked. Creating the first token
 * turns authentication on, so the token tests come last and send it. The access table for every
 * route (401 / 403) stays in test/auth.test.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIGITS_MLP, injectJson, openInjectApp, type InjectApp } from './inject.test-helper.js';

let t: InjectApp;
const get = (path: string, headers: Record<string, string> = {}) =>
  injectJson(t.app, 'GET', path, undefined, headers);

before(async () => {
  t = await openInjectApp({ registry: [{ name: 'digits', model: DIGITS_MLP }] });
});

after(() => t.close());

describe('runs', () => {
  test('the list answers with its filters; an unknown run is 404', async () => {
    const all = await get('/api/v1/runs');
    assert.equal(all.status, 200, all.text);
    assert.ok(Array.isArray(all.body['runs']));
    const filtered = await get('/api/v1/runs?model=digits&limit=5');
    assert.equal(filtered.status, 200, filtered.text);
    assert.ok(Array.isArray(filtered.body['runs']));
    const unknown = await get('/api/v1/runs/nope');
    assert.equal(unknown.status, 404, unknown.text);
    assert.equal(typeof unknown.body['error'], 'string');
  });

  test('bad run queries: 400 TEND_INVALID_ARGUMENT with the reason', async () => {
    for (const [query, error] of [
      ['bogus=1', 'unknown query parameter(s) bogus; use model, limit'],
      ['limit=0', "'limit' must be a whole number from 1 to 100000"],
      ['limit=100001', "'limit' must be a whole number from 1 to 100000"],
      ['limit=x', "'limit' must be a whole number from 1 to 100000"],
      ['model=a&model=b', "give 'model' once"],
    ] as const) {
      const res = await get(`/api/v1/runs?${query}`);
      assert.deepEqual([res.status, res.body], [400, { error, code: 'TEND_INVALID_ARGUMENT' }], query);
    }
  });
});

describe('audit log', () => {
  test('the log answers with its filters; bad queries are 400 TEND_INVALID_ARGUMENT', async () => {
    const res = await get('/api/v1/audit?limit=10&action=push&since=2020-01-01T00:00:00Z&target=digits');
    assert.equal(res.status, 200, res.text);
    assert.ok(Array.isArray(res.body['entries']));
    for (const [query, error] of [
      ['who=me', 'unknown query parameter(s) who; use limit, action, since, target'],
      ['limit=0', "'limit' must be a whole number from 1 to 100000"],
      ['action=a&action=b', "give 'action' once"],
    ] as const) {
      const bad = await get(`/api/v1/audit?${query}`);
      assert.deepEqual([bad.status, bad.body], [400, { error, code: 'TEND_INVALID_ARGUMENT' }], query);
    }
  });
});

describe('tokens', () => {
  test('bad token bodies: 400 with the reason, no token created', async () => {
    for (const [body, error] of [
      [
        { name: 'x', scopes: ['infer'], extra: 1 },
        'unknown field(s) extra; the body is {"name", "scopes": ["infer", ...], "models": ["glob", ...]}',
      ],
      [{ scopes: ['infer'] }, "'name' must be a string"],
      [{ name: 'x', scopes: 'infer' }, "'scopes' must be an array of scope names"],
      [{ name: 'x', scopes: [1] }, "'scopes' must be an array of scope names"],
      [{ name: 'x', scopes: ['infer'], models: 'digits' }, "'models' must be an array of model globs"],
    ] as const) {
      const res = await injectJson(t.app, 'POST', '/api/v1/tokens', body);
      assert.deepEqual(
        [res.status, res.body],
        [400, { error, code: 'TEND_INVALID_ARGUMENT' }],
        JSON.stringify(body),
      );
    }
    const notJson = await injectJson(t.app, 'POST', '/api/v1/tokens', '{"name":');
    assert.equal(notJson.status, 400);
    assert.equal(notJson.body['code'], 'TEND_INVALID_JSON');
    assert.deepEqual((await get('/api/v1/tokens')).body, { tokens: [] });
  });

  test('a token is created (201, its secret shown once), listed, then revoked', async () => {
    const created = await injectJson(t.app, 'POST', '/api/v1/tokens', {
      name: 'ops',
      scopes: ['admin'],
      models: ['digits*'],
    });
    assert.equal(created.status, 201, created.text);
    assert.deepEqual(Object.keys(created.body).sort(), ['id', 'models', 'name', 'scopes', 'token']);
    assert.equal(created.body['name'], 'ops');
    const secret = String(created.body['token']);
    const id = String(created.body['id']);
    // Authentication is on from now: without the token the list is refused.
    const anonymous = await get('/api/v1/tokens');
    assert.equal(anonymous.status, 401, anonymous.text);
    const auth = { authorization: `Bearer ${secret}` };
    const listed = await get('/api/v1/tokens', auth);
    assert.equal(listed.status, 200, listed.text);
    const tokens = listed.body['tokens'] as { id: string; name: string; revoked_at: string | null }[];
    assert.deepEqual(
      tokens.map((x) => [x.id, x.name, x.revoked_at]),
      [[id, 'ops', null]],
    );
    assert.ok(!listed.text.includes(secret), 'the list never shows the secret');
    const second = await injectJson(
      t.app,
      'POST',
      '/api/v1/tokens',
      { name: 'reader', scopes: ['read'] },
      auth,
    );
    assert.equal(second.status, 201, second.text);
    const revoked = await injectJson(
      t.app,
      'DELETE',
      `/api/v1/tokens/${String(second.body['id'])}`,
      undefined,
      auth,
    );
    assert.equal(revoked.status, 200, revoked.text);
    const after = (await get('/api/v1/tokens', auth)).body['tokens'] as {
      name: string;
      revoked_at: string | null;
    }[];
    assert.deepEqual(
      after.map((x) => [x.name, x.revoked_at !== null]),
      [
        ['ops', false],
        ['reader', true],
      ],
    );
    const unknown = await injectJson(t.app, 'DELETE', '/api/v1/tokens/nope', undefined, auth);
    assert.equal(unknown.status, 404, unknown.text);
  });
});
