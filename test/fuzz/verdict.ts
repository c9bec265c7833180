/**
 * What counts as a right answer to a hostile request. Expected: a 2xx (the request happened to be
 * valid), any 4xx with a JSON body holding `error`, 503 only with TEND_QUEUE_FULL or
 * TEND_MODEL_NOT_READY, 504 only with TEND_QUEUE_TIMEOUT; for gRPC the same tend codes in the
 * `tend-error-code` trailer. Everything else — a 500, another 5xx, a body that is not JSON, a reset
 * we did not provoke, no answer — is unexpected.
 */

export type VerdictClass =
  | 'ok'
  | 'rejected'
  | 'overload'
  | 'too-large'
  | 'grpc-undecodable'
  | 'refused-by-node'
  | 'incomplete-unanswered'
  | 'unexpected';

export interface Verdict {
  cls: VerdictClass;
  /** Why it is unexpected (or a detail worth counting). */
  reason?: string;
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

const OVERLOAD_503 = new Set(['TEND_QUEUE_FULL', 'TEND_MODEL_NOT_READY']);

function jsonObject(body: Buffer): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(body.toString('utf8')) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function clip(body: Buffer): string {
  const text = body.subarray(0, 300).toString('utf8');
  return body.length > 300 ? `${text}…` : text;
}

/** Judge one HTTP answer. `head`: the request was HEAD (answers carry no body). */
export function judgeHttp(
  answer: HttpAnswer,
  request: { head?: boolean; expectOk?: boolean; expectRefused?: boolean },
): Verdict {
  const { status, body } = answer;
  if (request.expectRefused && (status < 400 || status >= 500))
    return { cls: 'unexpected', reason: `a string over its limit answered ${status}: ${clip(body)}` };
  if (status >= 200 && status < 300) {
    const type = String(answer.headers['content-type'] ?? '');
    if (
      !request.head &&
      type.startsWith('application/json') &&
      jsonObject(body) === undefined &&
      body.length > 0
    ) {
      // Arrays are valid JSON too; only text that does not parse is wrong.
      try {
        JSON.parse(body.toString('utf8'));
      } catch {
        return {
          cls: 'unexpected',
          reason: `${status} with a JSON content type but a body that does not parse: ${clip(body)}`,
        };
      }
    }
    return { cls: 'ok' };
  }
  if (status === 304) return { cls: 'ok' };
  if (request.head && status >= 400 && status < 500)
    return request.expectOk
      ? { cls: 'unexpected', reason: `valid request answered ${status}` }
      : { cls: 'rejected' };
  // An answer to HEAD has no body to carry the code: a 503 or 504 there is taken as the GET's would be.
  if (request.head && (status === 503 || status === 504))
    return { cls: 'overload', reason: `HEAD ${status}` };
  const json = jsonObject(body);
  const code = typeof json?.['code'] === 'string' ? (json['code'] as string) : undefined;
  if (status >= 400 && status < 500) {
    if (typeof json?.['error'] !== 'string')
      return { cls: 'unexpected', reason: `${status} without a JSON {"error"} body: ${clip(body)}` };
    if (request.expectOk && status !== 429)
      return { cls: 'unexpected', reason: `valid request answered ${status}: ${clip(body)}` };
    if (request.expectRefused && code === undefined)
      return { cls: 'unexpected', reason: `${status} without a "code": ${clip(body)}` };
    return { cls: 'rejected', reason: code ?? `http-${status}` };
  }
  if (status === 503 && code !== undefined && OVERLOAD_503.has(code))
    return { cls: 'overload', reason: code };
  if (status === 504 && code === 'TEND_QUEUE_TIMEOUT') return { cls: 'overload', reason: code };
  return { cls: 'unexpected', reason: `${status}${code ? ` ${code}` : ''}: ${clip(body)}` };
}

/**
 * Judge an answer to raw bytes. Node's HTTP server itself answers some malformed framing before
 * any route runs — 400 without a Host header, 417 for an Expect it does not know — with an empty
 * body; that is the transport refusing the request, like the parser's 400 for a garbage line.
 */
export function judgeRawAnswer(answer: HttpAnswer): Verdict {
  if (
    answer.body.length === 0 &&
    answer.headers['content-type'] === undefined &&
    [400, 417, 431, 505].includes(answer.status)
  ) {
    return { cls: 'refused-by-node', reason: `node-${answer.status}` };
  }
  return judgeHttp(answer, {});
}

/** gRPC status codes used below (from @grpc/grpc-js's `status`). */
const GRPC = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  DEADLINE_EXCEEDED: 4,
  RESOURCE_EXHAUSTED: 8,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;
const GRPC_OVERLOAD = new Set(['TEND_QUEUE_FULL', 'TEND_MODEL_NOT_READY', 'TEND_QUEUE_TIMEOUT']);
const GRPC_FAULTS = new Set(['TEND_INTERNAL', 'TEND_WORKER_FAILED', 'TEND_UNAVAILABLE']);

/** Judge one gRPC status (code, details, the tend-error-code trailer when tend set one). */
export function judgeGrpc(
  status: { code: number; details: string; tendCode: string | undefined },
  request: { expectOk?: boolean; expectRefused?: boolean },
): Verdict {
  const { code, details, tendCode } = status;
  if (code === GRPC.OK)
    return request.expectRefused
      ? { cls: 'unexpected', reason: 'a string over its limit answered OK' }
      : { cls: 'ok' };
  if (request.expectRefused && (tendCode === undefined || GRPC_OVERLOAD.has(tendCode))) {
    return {
      cls: 'unexpected',
      reason: `a string over its limit answered ${code} ${tendCode ?? 'without a tend code'}: ${details}`,
    };
  }
  if (tendCode !== undefined) {
    if (GRPC_FAULTS.has(tendCode))
      return { cls: 'unexpected', reason: `gRPC ${code} ${tendCode}: ${details}` };
    if (GRPC_OVERLOAD.has(tendCode)) return { cls: 'overload', reason: tendCode };
    if (request.expectOk)
      return { cls: 'unexpected', reason: `valid gRPC request failed: ${code} ${tendCode}: ${details}` };
    return { cls: 'rejected', reason: tendCode };
  }
  // Refused by @grpc/grpc-js before tend's handler ran: a message protobuf cannot decode.
  if (code === GRPC.INTERNAL && /deserializ/i.test(details)) return { cls: 'grpc-undecodable' };
  if (code === GRPC.RESOURCE_EXHAUSTED && /larger than max/i.test(details)) return { cls: 'too-large' };
  return { cls: 'unexpected', reason: `gRPC status ${code} without a tend code: ${details}` };
}

/** Judge a network error on an HTTP request (no answer at all). */
export function judgeHttpError(error: Error & { code?: string }, request: { oversize?: boolean }): Verdict {
  const code = error.code ?? error.message;
  // An over-limit body is answered 413 and the connection closed while we may still be sending it.
  if (request.oversize && /ECONNRESET|EPIPE|socket hang up/i.test(`${code} ${error.message}`))
    return { cls: 'too-large', reason: code };
  return { cls: 'unexpected', reason: `no answer: ${code} ${error.message}` };
}
