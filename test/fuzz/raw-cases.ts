/**
 * Requests no well-behaved HTTP client can send, written as bytes on a fresh socket: CR/LF inside
 * header values, garbage request lines, smuggling shapes (Content-Length with Transfer-Encoding,
 * two lengths), bad chunk sizes, oversized headers, pipelined requests, bodies that stop early.
 */
import type { RawCase } from './fuzz-case.js';
import type { FuzzRandom } from './fuzz-random.js';

const VALID_BODY = '{"inputs":[{"name":"x","datatype":"INT64","shape":[1,1],"data":[3]}]}';

function request(method: string, target: string, headers: string[], body = '', version = 'HTTP/1.1'): string {
  return `${method} ${target} ${version}\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n${body}`;
}

function infer(extraHeaders: string[] = [], body = VALID_BODY): string {
  return request(
    'POST',
    '/v2/models/lookup/infer',
    [
      'Host: 127.0.0.1',
      'Content-Type: application/json',
      `Content-Length: ${Buffer.byteLength(body)}`,
      ...extraHeaders,
    ],
    body,
  );
}

export function rawCase(r: FuzzRandom): RawCase {
  const kind = r.int(0, 13);
  const host = 'Host: 127.0.0.1';
  const answer = (category: string, text: string | Buffer): RawCase => ({
    transport: 'raw',
    category: `raw/${category}`,
    bytes: Buffer.isBuffer(text) ? text : Buffer.from(text, 'latin1'),
    mode: 'answer',
  });
  switch (kind) {
    case 0: {
      // CR, LF or CRLF inside a header value: a client library would refuse it; the parser must.
      const sep = r.pick(['\r\n', '\n', '\r', '\r\n ', '\u0000', '\r\r\n']);
      const injected = r.pick([
        `Content-Length: 0`,
        `Transfer-Encoding: chunked`,
        `Inference-Header-Content-Length: 5`,
        `X-Injected: 1`,
        '',
        `HTTP/1.1 200 OK`,
      ]);
      return answer('crlf-header', infer([`X-Tend-Actor: a${sep}${injected}`]));
    }
    case 1:
      return answer(
        'smuggle-cl-te',
        request(
          'POST',
          '/v2/models/lookup/infer',
          [host, 'Content-Length: 4', 'Transfer-Encoding: chunked'],
          `0\r\n\r\n`,
        ),
      );
    case 2: {
      const lengths = r.pick([
        ['Content-Length: 5', 'Content-Length: 6'],
        ['Content-Length: 5, 6'],
        ['Content-Length: -1'],
        ['Content-Length: 1e3'],
        ['Content-Length: +5'],
        ['Content-Length: 0x10'],
        ['Content-Length: 99999999999999999999'],
      ]);
      return answer(
        'content-length',
        request('POST', '/v2/models/lookup/infer', [host, ...lengths], '{"a":'),
      );
    }
    case 3: {
      const chunk = r.pick([
        'zz\r\n{}\r\n0\r\n\r\n',
        'ffffffffffffffffff\r\n{}\r\n0\r\n\r\n',
        '-2\r\n{}\r\n0\r\n\r\n',
        '2;ext=1\r\n{}\r\n0\r\n\r\n',
        '2\r\n{}\r\n0\r\nX-Trailer: 1\r\n\r\n',
        '2\n{}\n0\n\n',
        '1\r\n{}\r\n0\r\n\r\n',
      ]);
      const te = r.pick([
        'Transfer-Encoding: chunked',
        'Transfer-Encoding: gzip, chunked',
        'Transfer-Encoding: chunked, identity',
        'Transfer-Encoding: xchunked',
        'Transfer-Encoding:  chunked',
      ]);
      return answer(
        'chunked',
        request('POST', '/v2/models/lookup/infer', [host, 'Content-Type: application/json', te], chunk),
      );
    }
    case 4: {
      const line = r.pick([
        'GET\r\n\r\n',
        'GET / HTTP/9.9\r\n\r\n',
        'get /v2 HTTP/1.1\r\nHost: x\r\n\r\n',
        'GET /v2 HTTP/1.1 extra\r\nHost: x\r\n\r\n',
        'GET  /v2  HTTP/1.1\r\nHost: x\r\n\r\n',
        `${'A'.repeat(5000)} / HTTP/1.1\r\n\r\n`,
        'GET http://evil.example/v2 HTTP/1.1\r\nHost: x\r\n\r\n',
        'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n',
        'GET /v2\u0000/models HTTP/1.1\r\nHost: x\r\n\r\n',
        'GET /v2 models HTTP/1.1\r\nHost: x\r\n\r\n',
        'GET /v2/models/\u00e9\u00e9 HTTP/1.1\r\nHost: x\r\n\r\n',
        'GET /v2 HTTP/1.1\r\n\r\n',
        'GET /v2 HTTP/1.0\r\n\r\n',
        'GET /v2\r\n\r\n',
        'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
        '\u0016\u0003\u0001\u0000\u00a5\u0001\u0000\u0000\u00a1\u0003\u0003',
      ]);
      if (r.chance(0.05)) {
        // Node closes a CONNECT (a proxy's method) when the server has no 'connect' listener.
        return {
          transport: 'raw',
          category: 'raw/connect',
          bytes: Buffer.from('CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: x\r\n\r\n'),
          mode: 'may-close',
        };
      }
      return answer('request-line', line);
    }
    case 5:
      return answer('random-bytes', Buffer.concat([r.bytes(r.int(1, 200)), Buffer.from('\r\n\r\n')]));
    case 6:
      return answer(
        'header-overflow',
        request('GET', '/v2', [host, `X-Big: ${'a'.repeat(r.pick([9000, 17000, 70000]))}`]),
      );
    case 7:
      return answer(
        'many-headers',
        request('GET', '/v2/health/ready', [
          host,
          ...Array.from({ length: r.pick([100, 2100]) }, (_, i) => `X-H${i}: ${i}`),
        ]),
      );
    case 8: {
      const bad = r.pick([
        'X Foo: 1',
        ': empty',
        'NoColon',
        'X-Foo : 1',
        ' folded: 1',
        'X-Foo: 1\r\n continued',
        'Content-Type: application/json\u0000',
        `X-\u00e9: 1`,
        'Host: a',
        'Host: a\r\nHost: b',
      ]);
      return answer('header-syntax', request('GET', '/v2/models', [host, bad]));
    }
    case 9: {
      // The body stops before its declared length: the server waits for the rest (silence is right).
      const body = VALID_BODY.slice(0, r.int(0, VALID_BODY.length - 1));
      const bytes = request(
        'POST',
        '/v2/models/lookup/infer',
        [host, 'Content-Type: application/json', `Content-Length: ${VALID_BODY.length + r.int(1, 1000)}`],
        body,
      );
      return {
        transport: 'raw',
        category: 'raw/incomplete-body',
        bytes: Buffer.from(bytes, 'latin1'),
        mode: 'incomplete',
      };
    }
    case 10: {
      const n = r.int(2, 5);
      const parts = Array.from({ length: n }, () => infer([], VALID_BODY.replace('[3]', `[${r.int(0, 9)}]`)));
      if (r.chance(0.3)) parts.splice(r.int(0, n - 1), 0, 'GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n');
      return answer('pipelined', parts.join(''));
    }
    case 11:
      return answer(
        'upgrade',
        request('GET', '/v2', [
          host,
          'Connection: Upgrade',
          r.pick(['Upgrade: websocket', 'Upgrade: h2c', 'Upgrade: x']),
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
          'Sec-WebSocket-Version: 13',
        ]),
      );
    case 12:
      return answer(
        'expect',
        request(
          'POST',
          '/v2/models/lookup/infer',
          [
            host,
            'Content-Type: application/json',
            `Content-Length: ${VALID_BODY.length}`,
            r.pick(['Expect: 100-continue', 'Expect: 200-ok', 'Expect: x']),
          ],
          VALID_BODY,
        ),
      );
    default: {
      // A header injection through the URL: CR/LF and a second request line inside the target.
      const target = r.pick([
        '/v2%0d%0aX-Injected:%201',
        '/v2\r\nX-Injected: 1',
        '/v2 HTTP/1.1\r\nHost: x\r\n\r\nGET /v2',
        '/v2/models/digits\tx',
      ]);
      return answer('crlf-url', `GET ${target} HTTP/1.1\r\n${host}\r\n\r\n`);
    }
  }
}
