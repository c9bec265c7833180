import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { TendError } from '../../core/errors.js';
import { createGrpcSender, frameMessage, parseGrpcAddress } from './grpc-sender.js';
import type { RequestSender } from './sender.js';

type Behaviour = 'ok' | 'trailers-only' | 'trailer-error' | 'http-500' | 'reset';

/** A gRPC-speaking HTTP/2 server whose answer depends on the request's first byte after the prefix. */
async function startServer(): Promise<{ address: string; bodies: Buffer[]; close: () => Promise<void> }> {
  const bodies: Buffer[] = [];
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', () => undefined);
    stream.on('end', () => {
      const body = Buffer.concat(chunks);
      bodies.push(body);
      assert.equal(headers['content-type'], 'application/grpc');
      assert.equal(headers['te'], 'trailers');
      const behaviour = body.subarray(5).toString('utf8') as Behaviour;
      if (behaviour === 'http-500') return stream.respond({ ':status': 500 }, { endStream: true });
      if (behaviour === 'reset') return stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      if (behaviour === 'trailers-only') {
        return stream.respond(
          {
            ':status': 200,
            'content-type': 'application/grpc',
            'grpc-status': '5',
            'grpc-message': 'no%20model',
          },
          { endStream: true },
        );
      }
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () =>
        stream.sendTrailers(
          behaviour === 'ok' ? { 'grpc-status': '0' } : { 'grpc-status': '14', 'grpc-message': 'queue full' },
        ),
      );
      stream.end(frameMessage(Buffer.from('answer')));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function sendOnce(sender: RequestSender): Promise<[string, boolean, string | undefined]> {
  return new Promise((resolve) => sender.send((status, ok, detail) => resolve([status, ok, detail])));
}

test('each way a call ends gets its status: OK, gRPC status names, HTTP errors, resets', async () => {
  const server = await startServer();
  try {
    const outcomes: [string, boolean, string | undefined][] = [];
    for (const behaviour of ['ok', 'trailers-only', 'trailer-error', 'http-500', 'reset'] as const) {
      const sender = createGrpcSender({ address: server.address, request: Buffer.from(behaviour) });
      await sender.connect();
      await sender.connect(); // connected already: resolves at once
      outcomes.push(await sendOnce(sender));
      sender.close();
    }
    assert.deepEqual(outcomes.slice(0, 4), [
      ['OK', true, undefined],
      ['NOT_FOUND', false, 'NOT_FOUND: no model'],
      ['UNAVAILABLE', false, 'UNAVAILABLE: queue full'],
      ['HTTP 500', false, 'HTTP 500: HTTP 500 from the gRPC port'],
    ]);
    assert.equal(outcomes[4]?.[0], 'socket error');
    assert.equal(outcomes[4]?.[1], false);
    // The message went framed: no compression, big-endian length, then the bytes.
    assert.deepEqual(server.bodies[0], Buffer.from([0, 0, 0, 0, 2, ...Buffer.from('ok')]));
  } finally {
    await server.close();
  }
});

test('a closed sender fails its sends at once', async () => {
  const server = await startServer();
  try {
    const sender = createGrpcSender({ address: server.address, request: Buffer.from('ok') });
    await sender.connect();
    assert.deepEqual(await sendOnce(sender), ['OK', true, undefined]);
    sender.close();
    assert.deepEqual(await sendOnce(sender), ['socket error', false, 'the sender is closed']);
  } finally {
    await server.close();
  }
});

test('connect() to a port nobody listens on is a clear error', async () => {
  const server = await startServer();
  const address = server.address;
  await server.close();
  const sender = createGrpcSender({ address, request: Buffer.from('ok'), connectTimeoutMs: 2000 });
  await assert.rejects(
    sender.connect(),
    (err: unknown) =>
      err instanceof TendError && err.message.startsWith(`cannot reach the gRPC server at ${address}: `),
  );
  sender.close();
});

test('parseGrpcAddress wants HOST:PORT', () => {
  assert.equal(parseGrpcAddress(' localhost:8001 ', '--grpc-address'), 'localhost:8001');
  assert.equal(parseGrpcAddress('[::1]:8001', '--grpc-address'), '[::1]:8001');
  for (const bad of ['localhost', '::1:8001', 'h:0', 'h:65536', 'http://h:1'])
    assert.throws(() => parseGrpcAddress(bad, '--grpc-address'), /^TendError: --grpc-address '/);
});
