import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { chunkedEnd, createRawHttpSender, dechunk, encodeHttpRequest, parseHead } from './raw-http-sender.js';
import type { RequestSender } from './sender.js';

function sendOnce(sender: RequestSender): Promise<[string, boolean, string | undefined]> {
  return new Promise((resolve) => sender.send((status, ok, detail) => resolve([status, ok, detail])));
}

/** A TCP server that answers every request with `answer`, written in pieces of `piece` bytes. */
async function rawServer(
  answer: string,
  piece = Infinity,
): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    let seen = '';
    socket.on('data', async (d: Buffer) => {
      seen += d.toString('latin1');
      // One request = head + Content-Length bytes; the client sends 2-byte bodies.
      while (seen.includes('\r\n\r\n') && seen.length >= seen.indexOf('\r\n\r\n') + 4 + 2) {
        seen = seen.slice(seen.indexOf('\r\n\r\n') + 6);
        const bytes = Buffer.from(answer, 'latin1');
        for (let at = 0; at < bytes.length; at += Math.min(piece, bytes.length)) {
          socket.write(bytes.subarray(at, at + Math.min(piece, bytes.length)));
          if (piece !== Infinity) await new Promise((r) => setImmediate(r));
        }
        if (/Connection: close/i.test(answer) || !/Content-Length|chunked/i.test(answer)) socket.end();
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

function senderFor(port: number, maxSockets = 1): RequestSender {
  return createRawHttpSender({
    host: '127.0.0.1',
    port,
    request: encodeHttpRequest(
      `127.0.0.1:${port}`,
      '/x',
      { 'content-type': 'application/json' },
      Buffer.from('{}'),
    ),
    maxSockets,
  });
}

test('the request is encoded once with Host and Content-Length, and a real HTTP server reads it', async () => {
  const seen: { method?: string; url?: string; headers?: http.IncomingHttpHeaders; body?: string } = {};
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      Object.assign(seen, { method: req.method, url: req.url, headers: req.headers, body });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const sender = createRawHttpSender({
    host: '127.0.0.1',
    port,
    request: encodeHttpRequest(
      `127.0.0.1:${port}`,
      '/v2/models/m/infer?x=1',
      { 'x-trace': 'yes', 'content-length': '99' },
      Buffer.from('{"a":1}'),
    ),
    maxSockets: 2,
  });
  try {
    assert.deepEqual(await sendOnce(sender), ['200', true, undefined]);
    assert.equal(seen.method, 'POST');
    assert.equal(seen.url, '/v2/models/m/infer?x=1');
    assert.equal(seen.headers?.['host'], `127.0.0.1:${port}`);
    assert.equal(seen.headers?.['x-trace'], 'yes');
    assert.equal(seen.headers?.['content-length'], '7');
    assert.equal(seen.body, '{"a":1}');
    assert.throws(() => encodeHttpRequest('h', '/', { 'x-evil': 'a\r\nb' }, Buffer.alloc(0)), /line break/);
  } finally {
    sender.close();
    server.closeAllConnections();
    server.close();
  }
});

test('answers delimited by Content-Length, chunks and the end of the connection, even a byte at a time', async () => {
  const cases: [string, string, boolean][] = [
    ['HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello', '200', true],
    ['HTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n', '201', true],
    [
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;x=y\r\nabc\r\n0\r\n\r\n',
      '200',
      true,
    ],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-Trailer: 1\r\n\r\n', '200', true],
    ['HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end', '200', true],
    ['HTTP/1.1 503 Service Unavailable\r\nContent-Length: 6\r\n\r\nbusy!!', '503', false],
  ];
  for (const piece of [Infinity, 1]) {
    for (const [answer, status, ok] of cases) {
      const server = await rawServer(answer, piece);
      const sender = senderFor(server.port);
      try {
        const first = await sendOnce(sender);
        const second = await sendOnce(sender);
        assert.deepEqual(
          [first[0], first[1]],
          [status, ok],
          `${JSON.stringify(answer)} in pieces of ${piece}`,
        );
        assert.deepEqual([second[0], second[1]], [status, ok], 'a second answer on the same sender');
        if (!ok) assert.equal(first[2], 'HTTP 503: busy!!');
        // Keep-alive answers reuse the connection; the others open a new one.
        const reused = !/close|^HTTP\/1\.1 200 OK\r\nConnection/.test(answer);
        assert.equal(server.connections(), reused ? 1 : 2, JSON.stringify(answer));
      } finally {
        sender.close();
        await server.close();
      }
    }
  }
});

test('garbage and refused connections are socket errors; close() fails the waiting requests', async () => {
  const garbage = await rawServer('SSH-2.0-OpenSSH\r\n\r\n');
  const sender = senderFor(garbage.port);
  try {
    assert.deepEqual(await sendOnce(sender), [
      'socket error',
      false,
      'response error: not an HTTP/1.1 answer',
    ]);
  } finally {
    sender.close();
    await garbage.close();
  }
  const refused = senderFor(garbage.port);
  const [status, ok, detail] = await sendOnce(refused);
  assert.deepEqual([status, ok], ['socket error', false]);
  assert.match(detail ?? '', /^request error: .*ECONNREFUSED/);
  refused.close();

  const silent = await rawServer(''); // reads, never answers
  const one = senderFor(silent.port, 1);
  const first = sendOnce(one);
  const second = sendOnce(one); // waits for the only connection
  one.close();
  assert.deepEqual(await second, ['socket error', false, 'the sender is closed']);
  assert.equal((await first)[0], 'socket error');
  assert.deepEqual(await sendOnce(one), ['socket error', false, 'the sender is closed']);
  await silent.close();
});

test('parseHead, chunkedEnd and dechunk', () => {
  assert.deepEqual(parseHead('HTTP/1.1 200 OK\r\nContent-Length: 12'), {
    status: 200,
    length: 12,
    close: false,
  });
  assert.deepEqual(parseHead('HTTP/1.0 200 OK\r\nContent-Length: 1'), {
    status: 200,
    length: 1,
    close: true,
  });
  assert.deepEqual(parseHead('HTTP/1.1 204 No Content'), { status: 204, length: 0, close: false });
  assert.deepEqual(parseHead('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 3'), {
    status: 200,
    length: -1,
    close: false,
  });
  assert.equal(parseHead('HTTP/1.1 200 OK\r\nContent-Length: -3'), null);
  assert.equal(parseHead('garbage'), null);
  const body = Buffer.from('xx4\r\nwiki\r\n0\r\n\r\n');
  assert.equal(chunkedEnd(body, 2), body.length);
  assert.equal(chunkedEnd(body.subarray(0, body.length - 1), 2), -1);
  assert.equal(chunkedEnd(Buffer.from('zz\r\n'), 0), -2);
  assert.equal(dechunk(body, 2).toString(), 'wiki');
});
