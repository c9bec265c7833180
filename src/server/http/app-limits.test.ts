/**
 * The limits on client strings (src/core/input-limits.ts) through the V2 and management routes of
 * app.ts: each over-long string gets 400 naming its limit, and a string at the limit passes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { injectJson, type InjectApp } from './inject.test-helper.js';
import { LONG_NAME as LONG, openV2RoutesApp } from './v2-routes.test-helper.js';

let t: InjectApp;

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  injectJson(t.app, 'POST', path, body, headers);
const get = (path: string) => injectJson(t.app, 'GET', path);

before(async () => {
  ({ app: t } = await openV2RoutesApp());
});

after(() => t.close());

describe('limits on client strings (src/core/input-limits.ts)', () => {
  const pixels = { name: 'pixels', datatype: 'FP32', shape: [1, 64], data: new Array<number>(64).fill(0.5) };

  async function refused(res: { status: number; text: string }, message: string): Promise<void> {
    assert.equal(res.status, 400, res.text.slice(0, 300));
    assert.deepEqual(JSON.parse(res.text), { error: message, code: 'TEND_INVALID_INPUT' });
  }

  test('a 1,000,000-character request id gets 400 naming the limit, and the app keeps serving', async () => {
    await refused(
      await post(`/v2/models/${LONG}/infer`, { id: 'i'.repeat(1_000_000), inputs: [pixels] }),
      'request id is 1000000 bytes; the limit is 256',
    );
    const ok = await post(`/v2/models/${LONG}/infer`, { id: 'i'.repeat(256), inputs: [pixels] });
    assert.equal(ok.status, 200);
    assert.equal(ok.body['id'], 'i'.repeat(256));
  });

  test('names, datatypes and parameters over their limits get 400 naming the limit', async () => {
    const path = `/v2/models/${LONG}/infer`;
    await refused(
      await post(path, { inputs: [{ ...pixels, name: 'n'.repeat(10_000) }] }),
      'the name of inputs[0] is 10000 bytes; the limit is 512',
    );
    await refused(
      await post(path, { inputs: [{ ...pixels, datatype: 'F'.repeat(10_000) }] }),
      "the datatype of input 'pixels' is 10000 bytes; the limit is 16",
    );
    await refused(
      await post(path, { inputs: [pixels], outputs: [{ name: 'o'.repeat(10_000) }] }),
      'the name of outputs[0] is 10000 bytes; the limit is 512',
    );
    await refused(
      await post(path, { inputs: [pixels], parameters: { ['k'.repeat(10_000)]: 1 } }),
      'a key of parameters is 10000 bytes; the limit is 256',
    );
    await refused(
      await post(path, { inputs: [pixels], parameters: { note: 'v'.repeat(10_000) } }),
      'parameters.note is 10000 bytes; the limit is 1024',
    );
  });

  test('model and version references over their limits get 400 before any lookup (the router stops at 256)', async () => {
    await refused(
      await post(`/v2/models/${'m'.repeat(200)}/infer`, { inputs: [pixels] }),
      'model name is 200 bytes; the limit is 128',
    );
    await refused(
      await post(`/v2/models/${LONG}/versions/${'9'.repeat(200)}/infer`, { inputs: [pixels] }),
      'model version is 200 bytes; the limit is 64',
    );
    await refused(
      await post(`/v2/models/${LONG}@${'a'.repeat(100)}/infer`, { inputs: [pixels] }),
      'model version is 100 bytes; the limit is 64',
    );
    const ready = await get(`/v2/models/${'m'.repeat(200)}/ready`);
    assert.equal(ready.status, 400);
  });

  test('a sticky routing header over 256 bytes gets 400; one within it routes', async () => {
    await refused(
      await post('/v2/models/sticky/infer', { inputs: [pixels] }, { 'x-user': 'u'.repeat(8000) }),
      "the value of header 'x-user' is 8000 bytes; the limit is 256",
    );
    assert.equal(
      (await post('/v2/models/sticky/infer', { inputs: [pixels] }, { 'x-user': 'u'.repeat(256) })).status,
      200,
    );
  });

  test('management strings: a deployment reason over 1024 bytes, a token name over 64 characters', async () => {
    const put = await injectJson(t.app, 'PUT', '/api/v1/deployments/sticky', {
      routes: { champion: 1 },
      reason: 'r'.repeat(5000),
    });
    await refused(put, '"reason" is 5000 bytes; the limit is 1024');
    const token = await post('/api/v1/tokens', { name: 't'.repeat(100_000), scopes: ['infer'] });
    await refused(token, "'name' is 100000 bytes; the limit is 64");
  });
});
