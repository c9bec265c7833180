/**
 * The repository extension's routes through `inject`: the index (all or ready only), load and unload
 * of a known model, and the refusals — unknown models, bad bodies and parameters, wrong methods, and
 * `--model-control none`. Reloads under traffic and failed loads stay in test/server-repository.test.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  DIGITS_MLP,
  SMALL_CNN,
  digitsBody,
  injectJson,
  openInjectApp,
  type InjectApp,
} from './inject.test-helper.js';

describe('repository extension', () => {
  let t: InjectApp;
  const post = (path: string, body?: unknown) => injectJson(t.app, 'POST', path, body);

  before(async () => {
    t = await openInjectApp({ repository: [{ name: 'digits', model: DIGITS_MLP }] });
  });
  after(() => t.close());

  test('the index lists every model with its versions and states', async () => {
    // A model added to the repository after start is listed, not loaded.
    const repo = t.repository as string;
    mkdirSync(join(repo, 'cnn', '1'), { recursive: true });
    cpSync(SMALL_CNN, join(repo, 'cnn', '1', 'model.onnx'));
    const all = await post('/v2/repository/index', '');
    assert.equal(all.status, 200);
    assert.deepEqual(all.body, [
      { name: 'cnn', version: '', state: 'UNAVAILABLE', reason: 'not loaded' },
      { name: 'digits', version: '1', state: 'READY', reason: '' },
    ]);
    const ready = await post('/v2/repository/index', { ready: true });
    assert.deepEqual(ready.body, [{ name: 'digits', version: '1', state: 'READY', reason: '' }]);
    const bad = await post('/v2/repository/index', { ready: 'yes' });
    assert.equal(bad.status, 400);
    assert.match(String(bad.body['error']), /"ready" must be true or false/);
    assert.equal(bad.body['code'], 'TEND_INVALID_INPUT');
  });

  test('a body that is not a JSON object is refused with its code', async () => {
    const list = await post('/v2/repository/index', '[1,2]');
    assert.equal(list.status, 400, list.text);
    assert.match(String(list.body['error']), /JSON object/);
    const broken = await post('/v2/repository/index', '{nope');
    assert.equal(broken.status, 400);
    assert.equal(broken.body['code'], 'TEND_INVALID_JSON');
  });

  test('unload then load a model: 200 {} each, and it serves again', async () => {
    const unload = await post('/v2/repository/models/digits/unload', {
      parameters: { unload_dependents: false },
    });
    assert.equal(unload.status, 200, unload.text);
    assert.deepEqual(unload.body, {});
    const refused = await post('/v2/models/digits/infer', digitsBody());
    assert.equal(refused.status, 503);
    assert.match(String(refused.body['error']), /unloaded/);
    const load = await post('/v2/repository/models/digits/load', '');
    assert.equal(load.status, 200, load.text);
    assert.deepEqual(load.body, {});
    assert.equal((await post('/v2/models/digits/infer', digitsBody())).status, 200);
  });

  test('unknown models, bad names and unsupported parameters are refused precisely', async () => {
    const missing = await post('/v2/repository/models/nope/load', '');
    assert.equal(missing.status, 404);
    assert.equal(missing.body['code'], 'TEND_MODEL_NOT_FOUND');
    const params = await post('/v2/repository/models/digits/load', { parameters: { config: '{}' } });
    assert.equal(params.status, 400);
    assert.match(String(params.body['error']), /unsupported load parameter\(s\): config/);
    const notJson = await post('/v2/repository/models/digits/unload', '{nope');
    assert.equal(notJson.status, 400);
    assert.equal(notJson.body['code'], 'TEND_INVALID_JSON');
    assert.equal((await post('/v2/models/digits/infer', digitsBody())).status, 200);
  });

  test('"parameters" must be an object; unload_dependents is an unload parameter only', async () => {
    for (const parameters of [[], 'x', null]) {
      const res = await post('/v2/repository/models/digits/load', { parameters });
      assert.equal(res.status, 400, JSON.stringify(parameters));
      assert.deepEqual(res.body, { error: '"parameters" must be an object', code: 'TEND_INVALID_INPUT' });
    }
    const load = await post('/v2/repository/models/digits/load', { parameters: { unload_dependents: true } });
    assert.equal(load.status, 400);
    assert.match(String(load.body['error']), /unsupported load parameter\(s\): unload_dependents/);
  });

  test('wrong methods on repository paths: 404 naming the method', async () => {
    for (const [method, path] of [
      ['GET', '/v2/repository/index'],
      ['GET', '/v2/repository/models/digits/load'],
      ['DELETE', '/v2/repository/models/digits/unload'],
    ] as const) {
      const res = await injectJson(t.app, method, path);
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.deepEqual(res.body, { error: `no route for ${method} ${path}`, code: 'TEND_NOT_FOUND' });
    }
  });
});

describe('model control none', () => {
  let t: InjectApp;
  before(async () => {
    t = await openInjectApp({
      repository: [{ name: 'digits', model: DIGITS_MLP }],
      config: { model_control_mode: 'none' },
    });
  });
  after(() => t.close());

  test('load and unload answer 403 with the reason; the index still answers', async () => {
    for (const action of ['load', 'unload']) {
      const res = await injectJson(t.app, 'POST', `/v2/repository/models/digits/${action}`, '');
      assert.equal(res.status, 403);
      assert.equal(res.body['code'], 'TEND_FORBIDDEN');
      assert.match(String(res.body['error']), /--model-control none/);
    }
    assert.equal((await injectJson(t.app, 'POST', '/v2/repository/index', '')).status, 200);
    assert.equal((await injectJson(t.app, 'POST', '/v2/models/digits/infer', digitsBody())).status, 200);
  });
});
