/**
 * Sends one prepared V2 HTTP request (JSON or binary tensor body) over keep-alive connections: plain
 * HTTP on raw sockets with the request encoded once (raw-http-sender.ts), HTTPS with node:https and
 * the body, headers and options built once (no promise, no body copy per request).
 */
import type http from 'node:http';
import https from 'node:https';
import { errors } from '../../core/errors.js';
import { createRawHttpSender, encodeHttpRequest } from './raw-http-sender.js';
import { ERROR_SAMPLE_CHARS, type RequestSender, type SendDone } from './sender.js';

export interface HttpSenderOptions {
  /** Full URL of the endpoint, e.g. `http://127.0.0.1:8000/v2/models/digits/infer`. */
  url: string;
  body: Buffer;
  /** Extra headers; `content-type` defaults to `application/json`. */
  headers?: Record<string, string>;
  /** Connections the agent may open (closed loop: the concurrency; open loop: the in-flight cap). */
  maxSockets: number;
}

const statusLabels: string[] = [];

/** "200", "503": built once per status code. */
function statusLabel(code: number): string {
  return (statusLabels[code] ??= String(code));
}

export function parseHttpTarget(url: string): URL {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw errors.invalidArgument(
      `invalid URL '${url}' — give the full infer URL, e.g. http://127.0.0.1:8000/v2/models/NAME/infer`,
    );
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    throw errors.invalidArgument(
      `unsupported URL scheme '${target.protocol}' in '${url}' — use http or https`,
    );
  }
  return target;
}

export function createHttpSender(options: HttpSenderOptions): RequestSender {
  const target = parseHttpTarget(options.url);
  const given: Record<string, string> = { 'content-type': 'application/json' };
  for (const [key, value] of Object.entries(options.headers ?? {})) given[key.toLowerCase()] = value;
  if (target.protocol === 'http:') {
    return createRawHttpSender({
      host: target.hostname.replace(/^\[|\]$/g, ''),
      port: Number(target.port || 80),
      request: encodeHttpRequest(target.host, `${target.pathname}${target.search}`, given, options.body),
      maxSockets: options.maxSockets,
    });
  }
  const transport = https;
  const agent = new transport.Agent({
    keepAlive: true,
    maxSockets: options.maxSockets,
    maxFreeSockets: options.maxSockets,
  });
  const headers: Record<string, string | number> = { ...given, 'content-length': options.body.byteLength };
  const requestOptions: http.RequestOptions = {
    protocol: target.protocol,
    hostname: target.hostname,
    port: target.port,
    path: `${target.pathname}${target.search}`,
    method: 'POST',
    agent,
    headers,
  };
  const body = options.body;

  return {
    connect: async () => undefined,
    send(done: SendDone): void {
      let ended = false;
      const end: SendDone = (status, ok, detail) => {
        if (ended) return;
        ended = true;
        done(status, ok, detail);
      };
      const req = transport.request(requestOptions, (res) => {
        const code = res.statusCode ?? 0;
        if (code >= 200 && code < 300) {
          res.on('end', () => end(statusLabel(code), true));
          res.on('error', (err) => end('socket error', false, `response error: ${err.message}`));
          res.resume();
          return;
        }
        const chunks: Buffer[] = [];
        let kept = 0;
        res.on('data', (chunk: Buffer) => {
          if (kept < ERROR_SAMPLE_CHARS) {
            chunks.push(chunk);
            kept += chunk.byteLength;
          }
        });
        const finish = (): void => {
          const text = Buffer.concat(chunks).toString('utf8').slice(0, ERROR_SAMPLE_CHARS);
          end(statusLabel(code), false, `HTTP ${code}: ${text}`);
        };
        res.on('end', finish);
        res.on('error', finish);
      });
      req.on('error', (err) => end('socket error', false, `request error: ${err.message}`));
      req.end(body);
    },
    close: () => agent.destroy(),
  };
}
