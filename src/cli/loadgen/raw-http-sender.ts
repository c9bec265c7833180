/**
 * A plain-HTTP/1.1 sender on raw sockets, for the load generator's hot path: the whole request
 * (request line, headers, body) is encoded once into one Buffer and written as is; the answer is
 * read just enough to know its status and where it ends (Content-Length or chunked). This is what
 * wrk does, and it costs a fraction of node:http's client per request (no ClientRequest,
 * IncomingMessage or header objects) — CPU that, on a small machine, the server under test needs.
 * HTTPS goes through node:https (http-sender.ts).
 */
import net from 'node:net';
import { ERROR_SAMPLE_CHARS, type RequestSender, type SendDone } from './sender.js';

export interface RawHttpOptions {
  host: string;
  port: number;
  /** The encoded request: request line, headers, blank line and body. */
  request: Buffer;
  /** Connections at most; requests beyond wait for a free one. */
  maxSockets: number;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');
const statusLabels: string[] = [];
const statusLabel = (code: number): string => (statusLabels[code] ??= String(code));

/** Encode a POST request once: `headers` names are sent as given, Host and Content-Length added. */
export function encodeHttpRequest(
  host: string,
  path: string,
  headers: Record<string, string>,
  body: Buffer,
): Buffer {
  const lines = [`POST ${path} HTTP/1.1`, `Host: ${host}`];
  for (const [name, value] of Object.entries(headers)) {
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) throw new Error(`header ${name} holds a line break`);
    if (name.toLowerCase() !== 'content-length' && name.toLowerCase() !== 'host')
      lines.push(`${name}: ${value}`);
  }
  lines.push(`Content-Length: ${body.byteLength}`, '', '');
  return Buffer.concat([Buffer.from(lines.join('\r\n'), 'latin1'), body]);
}

/** How the body of an answer ends, from its head. */
interface Head {
  status: number;
  /** Content-Length, -1 for chunked, -2 until the connection closes. */
  length: number;
  close: boolean;
}

/** Parse a response head (status line and headers, without the blank line). */
export function parseHead(text: string): Head | null {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  if (m === null) return null;
  const status = Number(m[1]);
  let length = status === 204 || status === 304 || (status >= 100 && status < 200) ? 0 : -2;
  let close = text.startsWith('HTTP/1.0');
  for (const line of text.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line
      .slice(colon + 1)
      .trim()
      .toLowerCase();
    if (name === 'content-length' && length !== -1) length = Number(value);
    else if (name === 'transfer-encoding' && value.includes('chunked')) length = -1;
    else if (name === 'connection')
      close = value.includes('close') ? true : value.includes('keep-alive') ? false : close;
  }
  if (!Number.isSafeInteger(length) || length < -2) return null;
  return { status, length, close };
}

/**
 * Where a chunked body that starts at `from` ends in `buf` (index after its last CRLF), or -1 when
 * more bytes are needed, or -2 when it is malformed.
 */
export function chunkedEnd(buf: Buffer, from: number): number {
  let at = from;
  for (;;) {
    const eol = buf.indexOf('\r\n', at, 'latin1');
    if (eol < 0) return -1;
    const size = Number.parseInt(buf.toString('latin1', at, eol).split(';')[0] ?? '', 16);
    if (!Number.isSafeInteger(size) || size < 0) return -2;
    if (size === 0) {
      // Trailers (usually none), then the blank line.
      const end = buf.indexOf('\r\n', eol + 2, 'latin1');
      if (end < 0) return -1;
      if (end === eol + 2) return end + 2;
      const blank = buf.indexOf(CRLFCRLF, eol + 2);
      return blank < 0 ? -1 : blank + 4;
    }
    const next = eol + 2 + size + 2;
    if (next > buf.length) return -1;
    at = next;
  }
}

/** The data of a complete chunked body in `buf` from `from` (for error samples only). */
export function dechunk(buf: Buffer, from: number): Buffer {
  const parts: Buffer[] = [];
  let at = from;
  for (;;) {
    const eol = buf.indexOf('\r\n', at, 'latin1');
    const size = eol < 0 ? 0 : Number.parseInt(buf.toString('latin1', at, eol).split(';')[0] ?? '', 16);
    if (!(size > 0) || eol + 2 + size > buf.length) return Buffer.concat(parts);
    parts.push(buf.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

class Connection {
  private readonly socket: net.Socket;
  private pending: Buffer | null = null;
  private done: SendDone | null = null;
  private head: Head | null = null;
  private bodyStart = 0;
  alive = true;

  constructor(
    options: RawHttpOptions,
    private readonly onIdle: (c: Connection) => void,
    private readonly onGone: (c: Connection) => void,
  ) {
    this.socket = net.connect({ host: options.host, port: options.port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => this.read(chunk));
    this.socket.on('error', (err) => this.fail(`request error: ${err.message}`));
    this.socket.on('close', () => {
      // A body delimited by the end of the connection ends here.
      if (this.done !== null && this.head?.length === -2) this.complete(this.buffered().length);
      this.fail('request error: the server closed the connection');
    });
  }

  send(request: Buffer, done: SendDone): void {
    this.done = done;
    this.socket.write(request);
  }

  destroy(): void {
    this.socket.destroy();
  }

  private buffered(): Buffer {
    return this.pending ?? Buffer.alloc(0);
  }

  private read(chunk: Buffer): void {
    const buf = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = buf;
    if (this.done === null) return; // bytes nobody asked for: dropped with the connection later
    if (this.head === null) {
      const end = buf.indexOf(CRLFCRLF);
      if (end < 0) return;
      this.head = parseHead(buf.toString('latin1', 0, end));
      if (this.head === null) return this.fail('response error: not an HTTP/1.1 answer');
      this.bodyStart = end + 4;
    }
    const { length } = this.head;
    if (length >= 0) {
      if (buf.length - this.bodyStart >= length) this.complete(this.bodyStart + length);
    } else if (length === -1) {
      const end = chunkedEnd(buf, this.bodyStart);
      if (end === -2) this.fail('response error: malformed chunked body');
      else if (end >= 0) this.complete(end);
    }
  }

  /** The answer ends at `end` in the buffer: report it and get ready for the next one. */
  private complete(end: number): void {
    const head = this.head as Head;
    const done = this.done as SendDone;
    const buf = this.buffered();
    this.done = null;
    this.head = null;
    this.pending = end < buf.length ? buf.subarray(end) : null;
    const ok = head.status >= 200 && head.status < 300;
    const label = statusLabel(head.status);
    if (ok) done(label, true);
    else {
      const body = head.length === -1 ? dechunk(buf, this.bodyStart) : buf.subarray(this.bodyStart, end);
      const text = body.toString('utf8', 0, Math.min(body.length, ERROR_SAMPLE_CHARS));
      done(label, false, `HTTP ${head.status}: ${text}`);
    }
    if (head.close || head.length === -2) this.gone();
    else this.onIdle(this);
  }

  private fail(detail: string): void {
    const done = this.done;
    this.done = null;
    this.gone();
    done?.('socket error', false, detail);
  }

  private gone(): void {
    if (!this.alive) return;
    this.alive = false;
    this.socket.destroy();
    this.onGone(this);
  }
}

export function createRawHttpSender(options: RawHttpOptions): RequestSender {
  const idle: Connection[] = [];
  const all = new Set<Connection>();
  const waiting: SendDone[] = [];
  let closed = false;

  const onIdle = (c: Connection): void => {
    const next = waiting.shift();
    if (next !== undefined) c.send(options.request, next);
    else idle.push(c);
  };
  const onGone = (c: Connection): void => {
    all.delete(c);
    const at = idle.indexOf(c);
    if (at >= 0) idle.splice(at, 1);
    // A request waiting for a connection gets a new one in place of the lost one.
    const next = closed ? undefined : waiting.shift();
    if (next !== undefined) open().send(options.request, next);
  };
  const open = (): Connection => {
    const c = new Connection(options, onIdle, onGone);
    all.add(c);
    return c;
  };

  return {
    connect: async () => undefined,
    send(done: SendDone): void {
      if (closed) return done('socket error', false, 'the sender is closed');
      const c = idle.pop();
      if (c !== undefined) c.send(options.request, done);
      else if (all.size < options.maxSockets) open().send(options.request, done);
      else waiting.push(done);
    },
    close(): void {
      closed = true;
      for (const done of waiting.splice(0)) done('socket error', false, 'the sender is closed');
      for (const c of [...all]) c.destroy();
    },
  };
}
