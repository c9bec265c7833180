/** Edges of the HTTP frontend found by the fuzzer: long model names, requests Node's parser refuses, URLs Fastify cannot decode. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { join } from 'node:path';
import { FIXTURE_MODELS, startTestServer, type TestServer } from './helpers.js';

let server: TestServer;
const LONG = 'a'.repeat(120);

before(async () => {
  server = await startTestServer();
  await server.engine.registry.models.push(join(FIXTURE_MODELS, 'digits_mlp.onnx'), { name: LONG });
});

after(() => server.close());

function raw(text: string): Promise<string> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(text));
    let out = '';
    socket.on('data', (d: Buffer) => (out += d.toString('latin1')));
    socket.on('end', () => resolve(out));
    socket.on('close', () => resolve(out));
    socket.on('error', reject);
  });
}

test('a model name of 120 characters (the registry allows 128) is reachable', async () => {
  const res = await fetch(`${server.url}/v2/models/${LONG}`);
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { name: string }).name, LONG);
});

test('an unknown HTTP method gets one 400 in tend\'s format, and the connection closes', async () => {
  const answer = await raw('FOO /v2 HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.match(answer, /^HTTP\/1.1 400 /);
  assert.match(answer, /Connection: close/i);
  assert.match(answer, /"code":"TEND_BAD_REQUEST"/);
});

test('a URL Fastify cannot decode answers {"error","code"}', async () => {
  const answer = await raw('GET /v2/models/%E0%A4%A HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.match(answer, /^HTTP\/1.1 400 /);
  assert.match(answer, /"error":/);
});

describe('limits on client strings (src/core/input-limits.ts)', () => {
  const pixels = { name: 'pixels', datatype: 'FP32', shape: [1, 64], data: new Array<number>(64).fill(0.5) };
  const infer = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${server.url}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });

  async function refused(res: Response, message: string): Promise<void> {
    const text = await res.text();
    assert.equal(res.status, 400, text.slice(0, 300));
    assert.deepEqual(JSON.parse(text), { error: message, code: 'TEND_INVALID_INPUT' });
  }

  before(async () => {
    // Two versions under an experiment sticky by x-user: the header's value is the routing key.
    await server.engine.registry.models.push(join(FIXTURE_MODELS, 'digits_mlp.onnx'), { name: 'sticky' });
    await server.engine.registry.models.push(join(FIXTURE_MODELS, 'digits_mlp.onnx'), { name: 'sticky' });
    await server.engine.deployments.apply('sticky', { champion: 1, experiment: { variants: [{ version: 1, weight: 1 }, { version: 2, weight: 1 }], sticky_by: 'x-user' } }, { action: 'put' });
  });

  test('a 1,000,000-character request id gets 400 naming the limit, and the server keeps serving', async () => {
    await refused(await infer(`/v2/models/${LONG}/infer`, { id: 'i'.repeat(1_000_000), inputs: [pixels] }), 'request id is 1000000 bytes; the limit is 256');
    const ok = await infer(`/v2/models/${LONG}/infer`, { id: 'i'.repeat(256), inputs: [pixels] });
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as { id: string }).id, 'i'.repeat(256));
  });

  test('names, datatypes and parameters over their limits get 400 naming the limit', async () => {
    const path = `/v2/models/${LONG}/infer`;
    await refused(await infer(path, { inputs: [{ ...pixels, name: 'n'.repeat(10_000) }] }), 'the name of inputs[0] is 10000 bytes; the limit is 512');
    await refused(await infer(path, { inputs: [{ ...pixels, datatype: 'F'.repeat(10_000) }] }), "the datatype of input 'pixels' is 10000 bytes; the limit is 16");
    await refused(await infer(path, { inputs: [pixels], outputs: [{ name: 'o'.repeat(10_000) }] }), 'the name of outputs[0] is 10000 bytes; the limit is 512');
    await refused(await infer(path, { inputs: [pixels], parameters: { ['k'.repeat(10_000)]: 1 } }), 'a key of parameters is 10000 bytes; the limit is 256');
    await refused(await infer(path, { inputs: [pixels], parameters: { note: 'v'.repeat(10_000) } }), 'parameters.note is 10000 bytes; the limit is 1024');
  });

  test('model and version references over their limits get 400 before any lookup (the router stops at 256)', async () => {
    await refused(await infer(`/v2/models/${'m'.repeat(200)}/infer`, { inputs: [pixels] }), 'model name is 200 bytes; the limit is 128');
    await refused(await infer(`/v2/models/${LONG}/versions/${'9'.repeat(200)}/infer`, { inputs: [pixels] }), 'model version is 200 bytes; the limit is 64');
    await refused(await infer(`/v2/models/${LONG}@${'a'.repeat(100)}/infer`, { inputs: [pixels] }), 'model version is 100 bytes; the limit is 64');
    const ready = await fetch(`${server.url}/v2/models/${'m'.repeat(200)}/ready`);
    assert.equal(ready.status, 400);
  });

  test('a sticky routing header over 256 bytes gets 400; one within it routes', async () => {
    await refused(await infer('/v2/models/sticky/infer', { inputs: [pixels] }, { 'x-user': 'u'.repeat(8000) }), "the value of header 'x-user' is 8000 bytes; the limit is 256");
    assert.equal((await infer('/v2/models/sticky/infer', { inputs: [pixels] }, { 'x-user': 'u'.repeat(256) })).status, 200);
  });

  test('management strings: a deployment reason over 1024 bytes, a token name over 64 characters', async () => {
    const put = await fetch(`${server.url}/api/v1/deployments/sticky`, {
      method: 'PUT',
      body: JSON.stringify({ routes: { champion: 1 }, reason: 'r'.repeat(5000) }),
      headers: { 'content-type': 'application/json' },
    });
    await refused(put, '"reason" is 5000 bytes; the limit is 1024');
    const token = await fetch(`${server.url}/api/v1/tokens`, { method: 'POST', body: JSON.stringify({ name: 't'.repeat(100_000), scopes: ['infer'] }), headers: { 'content-type': 'application/json' } });
    await refused(token, "'name' is 100000 bytes; the limit is 64");
  });
});
