/**
 * Edges of the HTTP frontend found by the fuzzer that need a raw socket: requests Node's parser
 * refuses, URLs Fastify cannot decode. Long model names and the limits on client strings are route
 * tests in src/server/http/app.test.ts (inject).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startTestServer, type TestServer } from './helpers.js';

let server: TestServer;

before(async () => {
  server = await startTestServer();
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

test("an unknown HTTP method gets one 400 in tend's format, and the connection closes", async () => {
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
