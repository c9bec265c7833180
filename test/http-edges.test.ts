/** Edges of the HTTP frontend found by the fuzzer: long model names, requests Node's parser refuses, URLs Fastify cannot decode. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { join } from 'node:path';
import { FIXTURE_MODELS, startTestServer, type TestServer } from './helpers.js';

let server: TestServer;
const LONG = 'a'.repeat(120);

before(async () => {
  server = await startTestServer();
  await server.engine.registry.push(join(FIXTURE_MODELS, 'digits_mlp.onnx'), { name: LONG });
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
