/**
 * Sending fuzz cases and judging what comes back: HTTP through node:http on keep-alive
 * connections, raw bytes on a fresh socket (with a small HTTP/1.1 response reader), gRPC through
 * @grpc/grpc-js with the message bytes passed through untouched.
 */
import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import type { Socket } from 'node:net';
import { describeCase, type GrpcCase, type HttpCase, type RawCase } from './fuzz-case.js';
import {
  judgeGrpc,
  judgeHttp,
  judgeHttpError,
  judgeRawAnswer,
  type HttpAnswer,
  type Verdict,
} from './verdict.js';

export interface Judged {
  verdict: Verdict;
  /** The answer, short, for the list of unexpected ones. */
  answer: string;
}

const ANSWER_TIMEOUT_MS = Number(process.env['FUZZ_TIMEOUT_MS'] ?? 10_000);

function shortAnswer(a: HttpAnswer): string {
  return `${a.status} ${a.body.subarray(0, 300).toString('utf8')}`;
}

/** Sends HTTP cases over a pool of keep-alive connections. */
export class HttpSender {
  private readonly agent: Agent;
  private readonly url: URL;
  /** The last request sent on each pooled connection: when one breaks, what came before it. */
  private readonly lastOnSocket = new WeakMap<Socket, string>();

  constructor(baseUrl: string, connections: number) {
    this.url = new URL(baseUrl);
    this.agent = new Agent({ keepAlive: true, maxSockets: connections });
  }

  send(c: HttpCase): Promise<Judged> {
    return new Promise((resolve) => {
      let settled = false;
      const timeout: { timer?: NodeJS.Timeout } = {};
      const done = (j: Judged): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timeout.timer);
        resolve(j);
      };
      const headers: Record<string, string | string[]> = { ...c.headers };
      if (c.body && !c.chunked) headers['content-length'] = String(c.body.length);
      let req;
      try {
        req = httpRequest({
          agent: c.fresh ? false : this.agent,
          host: this.url.hostname,
          port: this.url.port,
          method: c.method,
          path: c.path,
          headers,
        });
      } catch (err) {
        // node:http refuses some paths and header values itself: nothing was sent.
        done({ verdict: { cls: 'rejected', reason: 'client-refused' }, answer: (err as Error).message });
        return;
      }
      timeout.timer = setTimeout(() => {
        req.destroy(new Error(`no answer within ${ANSWER_TIMEOUT_MS} ms`));
      }, ANSWER_TIMEOUT_MS);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const answer: HttpAnswer = {
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          };
          done({
            verdict: judgeHttp(answer, {
              head: c.method === 'HEAD',
              ...(c.expectOk ? { expectOk: true } : {}),
              ...(c.expectRefused ? { expectRefused: true } : {}),
            }),
            answer: shortAnswer(answer),
          });
        });
        res.on('error', (err) =>
          done({ verdict: judgeHttpError(err, c), answer: `response error ${err.message}` }),
        );
      });
      let previous: string | undefined;
      req.on('socket', (socket: Socket) => {
        previous = this.lastOnSocket.get(socket);
        this.lastOnSocket.set(socket, describeCase(c).slice(0, 300));
      });
      req.on('error', (err: Error & { code?: string }) =>
        done({
          verdict: judgeHttpError(err, c),
          answer: `${err.code ?? ''} ${err.message}${previous ? ` (previous request on this connection: ${previous})` : ' (fresh connection)'}`,
        }),
      );
      if (c.body && c.chunked) {
        const step = 64 * 1024;
        for (let i = 0; i < c.body.length; i += step) req.write(c.body.subarray(i, i + step));
        req.end();
      } else {
        req.end(c.body);
      }
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

interface ParsedResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Complete HTTP/1.1 responses at the start of `data` (Content-Length or chunked bodies). */
export function parseResponses(data: Buffer): { responses: ParsedResponse[]; rest: number } {
  const responses: ParsedResponse[] = [];
  let offset = 0;
  for (;;) {
    const end = data.indexOf('\r\n\r\n', offset);
    if (end < 0) break;
    const head = data.subarray(offset, end).toString('latin1').split('\r\n');
    const statusLine = /^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? '');
    if (!statusLine) {
      responses.push({
        status: -1,
        headers: {},
        body: data.subarray(offset, Math.min(data.length, offset + 200)),
      });
      return { responses, rest: data.length };
    }
    const headers: Record<string, string> = {};
    for (const line of head.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    let cursor = end + 4;
    let body: Buffer;
    const status = Number(statusLine[1]);
    if (status === 100) {
      offset = cursor;
      continue;
    }
    if (headers['transfer-encoding']?.includes('chunked')) {
      const parts: Buffer[] = [];
      for (;;) {
        const lineEnd = data.indexOf('\r\n', cursor);
        if (lineEnd < 0) return { responses, rest: offset };
        const size = parseInt(data.subarray(cursor, lineEnd).toString('latin1'), 16);
        if (Number.isNaN(size) || lineEnd + 2 + size + 2 > data.length) return { responses, rest: offset };
        parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
        cursor = lineEnd + 2 + size + 2;
        if (size === 0) break;
      }
      body = Buffer.concat(parts);
    } else {
      const length = Number(headers['content-length'] ?? 0);
      if (cursor + length > data.length) break;
      body = data.subarray(cursor, cursor + length);
      cursor += length;
    }
    responses.push({ status, headers, body });
    offset = cursor;
  }
  return { responses, rest: offset };
}

/** How many requests the bytes hold, as far as the server will count them (pipelined ones). */
function requestCount(bytes: Buffer): number {
  const text = bytes.toString('latin1');
  return Math.max(1, (text.match(/ HTTP\/1\.[01]\r\n/g) ?? []).length);
}

/** Write the bytes on a fresh connection; read answers until the server closes or has answered them all. */
export function sendRaw(address: { host: string; port: number }, c: RawCase): Promise<Judged> {
  return new Promise((resolve) => {
    const socket = connect(address.port, address.host);
    const chunks: Buffer[] = [];
    let closed = false;
    let settled = false;
    const expected = requestCount(c.bytes);
    const finish = (why: 'closed' | 'answered' | 'timeout' | 'error', err?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const data = Buffer.concat(chunks);
      const { responses } = parseResponses(data);
      for (const r of responses) {
        if (r.status < 0)
          return resolve({
            verdict: { cls: 'unexpected', reason: 'answer is not HTTP/1.1' },
            answer: r.body.toString('latin1'),
          });
        const verdict = judgeRawAnswer(r);
        if (verdict.cls === 'unexpected')
          return resolve({ verdict, answer: `${r.status} ${r.body.subarray(0, 300).toString('utf8')}` });
      }
      const first = responses[0];
      if (first)
        return resolve({
          verdict: judgeRawAnswer(first),
          answer: `${responses.length} answer(s), first ${first.status}`,
        });
      if (c.mode === 'incomplete') return resolve({ verdict: { cls: 'incomplete-unanswered' }, answer: why });
      if (c.mode === 'may-close' && why === 'closed')
        return resolve({ verdict: { cls: 'refused-by-node', reason: 'node-closed' }, answer: why });
      const detail =
        why === 'error' ? `${(err as Error & { code?: string }).code ?? ''} ${err?.message ?? ''}` : why;
      resolve({
        verdict: { cls: 'unexpected', reason: `no HTTP answer (${detail})` },
        answer: data.subarray(0, 200).toString('latin1'),
      });
    };
    const timer = setTimeout(() => finish('timeout'), c.mode === 'incomplete' ? 300 : ANSWER_TIMEOUT_MS);
    socket.on('connect', () => socket.write(c.bytes));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (parseResponses(Buffer.concat(chunks)).responses.length >= expected) finish('answered');
    });
    socket.on('end', () => {
      closed = true;
      finish('closed');
    });
    socket.on('close', () => finish(closed ? 'closed' : 'closed'));
    socket.on('error', (err) => finish('error', err));
  });
}

const passThrough = (b: Buffer): Buffer => b;

/** Sends gRPC cases with the bytes of each message exactly as generated. */
export class GrpcSender {
  private readonly client: grpc.Client;

  constructor(
    address: string,
    private readonly timeoutMs = ANSWER_TIMEOUT_MS,
  ) {
    this.client = new grpc.Client(address, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': -1,
    });
  }

  send(c: GrpcCase): Promise<Judged> {
    const path = `/inference.GRPCInferenceService/${c.method}`;
    const deadline = Date.now() + this.timeoutMs;
    const judge = (err: grpc.ServiceError | null): Verdict => {
      if (err === null) return { cls: 'ok' };
      const tendCode = err.metadata?.get('tend-error-code')[0];
      return judgeGrpc(
        {
          code: err.code,
          details: err.details,
          tendCode: typeof tendCode === 'string' ? tendCode : undefined,
        },
        c,
      );
    };
    const metadata = new grpc.Metadata();
    for (const [key, value] of Object.entries(c.metadata ?? {})) metadata.set(key, value);
    if (c.method !== 'ModelStreamInfer') {
      return new Promise((resolve) => {
        this.client.makeUnaryRequest(
          path,
          passThrough,
          passThrough,
          c.messages[0] ?? Buffer.alloc(0),
          metadata,
          { deadline },
          (err) => {
            resolve({ verdict: judge(err), answer: err ? `${err.code} ${err.details}` : 'OK' });
          },
        );
      });
    }
    return new Promise((resolve) => {
      const call = this.client.makeBidiStreamRequest(path, passThrough, passThrough, metadata, { deadline });
      let internal: string | undefined;
      let answers = 0;
      call.on('data', (message: Buffer) => {
        answers++;
        const error = streamErrorMessage(message);
        if (error === 'internal error; see the server log') internal = error;
      });
      call.on('error', (err: grpc.ServiceError) =>
        resolve({ verdict: judge(err), answer: `${err.code} ${err.details} after ${answers} answer(s)` }),
      );
      call.on('status', (status: grpc.StatusObject) => {
        if (status.code !== grpc.status.OK) return; // 'error' reports it
        if (internal)
          resolve({ verdict: { cls: 'unexpected', reason: `stream answer: ${internal}` }, answer: internal });
        else if (answers !== c.messages.length)
          resolve({
            verdict: {
              cls: 'unexpected',
              reason: `${c.messages.length} stream requests, ${answers} answers`,
            },
            answer: `${answers} answers`,
          });
        else resolve({ verdict: { cls: 'ok' }, answer: `${answers} answers` });
      });
      for (const m of c.messages) call.write(m);
      call.end();
    });
  }

  close(): void {
    this.client.close();
  }
}

/** Field 1 (error_message) of a ModelStreamInferResponse, read off the wire. */
function streamErrorMessage(message: Buffer): string {
  let offset = 0;
  const readVarint = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const byte = message[offset++] ?? 0;
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0 || offset >= message.length) return result;
      shift += 7;
    }
  };
  while (offset < message.length) {
    const key = readVarint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (wire !== 2) return '';
    const length = readVarint();
    if (field === 1) return message.toString('utf8', offset, offset + length);
    offset += length;
  }
  return '';
}
