/** What one fuzz request is, whatever carries it: HTTP through a client, raw bytes on a socket, gRPC. */

export interface HttpCase {
  transport: 'http';
  /** Generator and mutation that produced it, for the per-category counts (e.g. `v2-json/shape`). */
  category: string;
  method: string;
  path: string;
  headers: Record<string, string | string[]>;
  body?: Buffer;
  /** A valid request to a model where nothing else can fail it: only a 2xx is a right answer. */
  expectOk?: boolean;
  /** One string in it is over its limit (src/core/input-limits.ts): only a 4xx with {"error","code"} is right. */
  expectRefused?: boolean;
  /** The body is over the server's limit: the server may answer 413 and drop the rest unread. */
  oversize?: boolean;
  /** Send the body with chunked transfer encoding instead of a Content-Length. */
  chunked?: boolean;
  /**
   * Send on a connection of its own: the server's parser refuses the request (a method it does not
   * know) or stops reading it (over the limit) and closes the connection after answering, which
   * would break the next request of a shared keep-alive connection.
   */
  fresh?: boolean;
}

export interface RawCase {
  transport: 'raw';
  category: string;
  bytes: Buffer;
  /**
   * `answer`: a complete request; the server must answer each request it holds with a status line.
   * `incomplete`: the bytes stop mid-request; silence until our timeout is right, an answer too.
   * `may-close`: a request Node's server drops by design (CONNECT when nothing listens for it).
   */
  mode: 'answer' | 'incomplete' | 'may-close';
}

export interface GrpcCase {
  transport: 'grpc';
  category: string;
  /** Method of inference.GRPCInferenceService, e.g. ModelInfer. */
  method: string;
  /** Encoded request messages: one for unary calls, one or more for ModelStreamInfer. */
  messages: Buffer[];
  /** Encoded with the model's valid inputs: only OK is a right answer. */
  expectOk?: boolean;
  /** One string in it is over its limit: only a refusal with a tend code is right. */
  expectRefused?: boolean;
  /** Call metadata (a sticky routing header, authorization). */
  metadata?: Record<string, string>;
}

export type FuzzCase = HttpCase | RawCase | GrpcCase;

/** A short printable description of a case's request, for the list of unexpected answers. */
export function describeCase(c: FuzzCase): string {
  const clip = (b: Buffer | undefined, n = 300): string => {
    if (!b) return '';
    const text = b
      .subarray(0, n)
      .toString('latin1')
      .replace(/[^\x20-\x7e]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
    return b.length > n ? `${text}… (${b.length} bytes)` : text;
  };
  if (c.transport === 'http') {
    return `${c.method} ${c.path.slice(0, 200)} headers=${JSON.stringify(c.headers).slice(0, 200)} body=${clip(c.body)}`;
  }
  if (c.transport === 'raw') return `raw(${c.mode}) ${clip(c.bytes, 400)}`;
  const metadata = c.metadata
    ? ` metadata=${Object.entries(c.metadata)
        .map(([k, v]) => `${k}:${v.length}ch`)
        .join(',')}`
    : '';
  return `grpc ${c.method}${metadata} ${c.messages.map((m) => m.toString('hex').slice(0, 160)).join(' | ')}`;
}
