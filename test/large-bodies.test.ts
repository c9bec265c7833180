/**
 * Large request bodies (Security II): a `data` array longer than its shape is refused while the body
 * arrives, large bodies beyond `limits.max_large_bodies` get 503 + Retry-After before they are read,
 * large valid bodies are decoded off the main thread with the same result as small ones, and health
 * keeps answering throughout.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { FIXTURE_MODELS, makeRepo, startTestServer, type TestServer } from './helpers.js';

const LARGE = 4096;
let server: TestServer;

before(async () => {
  const repo = makeRepo([{ name: 'digits', model: join(FIXTURE_MODELS, 'digits_mlp.onnx') }]);
  server = await startTestServer({
    repos: [repo],
    config: { limits: { large_body_bytes: LARGE, max_large_bodies: 1 } },
  });
});
after(() => server.close());

/** A raw HTTP request that reads the answer even when the server answers before the body is sent. */
function send(
  path: string,
  body: Buffer | (() => AsyncIterable<Buffer>),
  headers: Record<string, string> = {},
): Promise<{
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(Buffer.isBuffer(body) ? { 'content-length': String(body.length) } : {}),
          ...headers,
        },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: JSON.parse(text) as Record<string, unknown>,
          }),
        );
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET') reject(err);
    });
    if (Buffer.isBuffer(body)) req.end(body);
    else
      void (async () => {
        for await (const chunk of body())
          if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
        req.end();
      })().catch(() => undefined);
  });
}

function inferBody(rows: number, pixels: (i: number) => number = (i) => i % 16): Buffer {
  const data = Array.from({ length: rows * 64 }, (_, i) => pixels(i));
  return Buffer.from(
    JSON.stringify({ id: 'big', inputs: [{ name: 'pixels', shape: [rows, 64], datatype: 'FP32', data }] }),
  );
}

describe('large request bodies', () => {
  test('a large valid body is decoded off the main thread with the same answer as a small one', async () => {
    const big = inferBody(32);
    assert.ok(big.length > LARGE);
    const bigAnswer = await send('/v2/models/digits/infer', big);
    assert.equal(bigAnswer.status, 200, JSON.stringify(bigAnswer.body));
    const outputs = bigAnswer.body['outputs'] as { name: string; shape: number[]; data: number[] }[];
    // Row by row, the small path gives the same numbers.
    for (const row of [0, 7, 31]) {
      const small = inferBody(1, (i) => (row * 64 + i) % 16);
      assert.ok(small.length < LARGE);
      const answer = await send('/v2/models/digits/infer', small);
      const smallOut = answer.body['outputs'] as { name: string; data: number[] }[];
      for (const o of smallOut) {
        const full = outputs.find((x) => x.name === o.name);
        assert.ok(full);
        const width = o.data.length;
        assert.deepEqual(full.data.slice(row * width, (row + 1) * width), o.data);
      }
    }
    // A bad element in a large body gets the real decoder's precise message.
    const bad = Buffer.from(big.toString().replace('"data":[0,', '"data":["x",'));
    const refused = await send('/v2/models/digits/infer', bad);
    assert.equal(refused.status, 400);
    assert.match(String(refused.body['error']), /input 'pixels': element 0 is "x", expected a number/);
  });

  test('data longer than its shape is refused while the body arrives, before the rest is read', async () => {
    let sent = 0;
    const chunks = async function* () {
      yield Buffer.from('{"inputs":[{"name":"pixels","shape":[1,64],"datatype":"FP32","data":[0');
      // Up to 64 MiB of numbers, 64 KiB at a time; the server answers long before the end.
      const piece = Buffer.from(',1'.repeat(32 * 1024));
      for (let i = 0; i < 1024; i++) {
        sent += piece.length;
        yield piece;
      }
      yield Buffer.from(']}]}');
    };
    const answer = await send('/v2/models/digits/infer', chunks);
    assert.equal(answer.status, 400, JSON.stringify(answer.body));
    assert.equal(answer.body['code'], 'TEND_INVALID_INPUT');
    assert.match(
      String(answer.body['error']),
      /input 'pixels': 'data' has more than the 64 elements its shape \[1,64\] declares/,
    );
    assert.ok(sent < 64 * 1024 * 1024, `the answer came after ${sent} bytes`);
    assert.equal((await fetch(`${server.url}/v2/health/live`)).status, 200);
  });

  test('beyond max_large_bodies: 503 + Retry-After before the body is read; the slot frees afterwards', async () => {
    // Hold the one slot with a large body that arrives slowly.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const slow = send(
      '/v2/models/digits/infer',
      async function* () {
        yield inferBody(32).subarray(0, LARGE + 10);
        await held;
        yield inferBody(32).subarray(LARGE + 10);
      },
      { 'content-length': String(inferBody(32).length) },
    );
    await new Promise((r) => setTimeout(r, 200));
    const second = await send('/v2/models/digits/infer', inferBody(32));
    assert.equal(second.status, 503, JSON.stringify(second.body));
    assert.equal(second.headers['retry-after'], '1');
    assert.match(String(second.body['error']), /limits\.max_large_bodies/);
    // Small bodies and health are not affected.
    assert.equal((await send('/v2/models/digits/infer', inferBody(1))).status, 200);
    assert.equal((await fetch(`${server.url}/v2/health/live`)).status, 200);
    release();
    const first = await slow;
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal((await send('/v2/models/digits/infer', inferBody(32))).status, 200, 'the slot was released');
  });

  test('a declared length over body_limit_bytes is refused at once with 413', async () => {
    const answer = await send(
      '/v2/models/digits/infer',
      async function* () {
        yield Buffer.from('{');
      },
      { 'content-length': String(65 * 1024 * 1024) },
    );
    assert.equal(answer.status, 413);
    assert.equal(answer.body['code'], 'TEND_PAYLOAD_TOO_LARGE');
  });
});
