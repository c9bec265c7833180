/**
 * Sends one prepared KServe V2 `ModelInfer` call over gRPC. The request is encoded once and sent as
 * bytes; answers are not decoded, only their status is read (like wrk over HTTP, the client spends
 * as little CPU as it can).
 */
import http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { errors } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
// definition.js, not the gRPC index: the load generator needs the service, not the server and engine.
import { inferenceServiceDefinition } from '../../server/grpc/definition.js';
import { rawTensorBytes } from '../../server/protocol/raw-tensors.js';
import { ERROR_SAMPLE_CHARS, type RequestSender, type SendDone } from './sender.js';

export interface GrpcSenderOptions {
  /** host:port of the gRPC frontend. */
  address: string;
  /** One encoded ModelInferRequest (see {@link encodeModelInferRequest}). */
  request: Buffer;
  /** How long connect() waits for the channel (default 10 s). */
  connectTimeoutMs?: number;
}

function modelInfer(): grpc.MethodDefinition<unknown, unknown> {
  const method = inferenceServiceDefinition()['ModelInfer'];
  if (method === undefined) throw errors.internal('the gRPC service definition has no ModelInfer');
  return method;
}

/** The encoded ModelInferRequest for `model` (and `version`, '' for the default), every input in raw_input_contents. */
export function encodeModelInferRequest(model: string, version: string, inputs: readonly Tensor[]): Buffer {
  return modelInfer().requestSerialize({
    model_name: model,
    model_version: version,
    inputs: inputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape })),
    raw_input_contents: inputs.map((t) => rawTensorBytes(t)),
  });
}

/** host:port, checked: a port from 1 to 65535. */
export function parseGrpcAddress(text: string, flag: string): string {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^\s:/]+):(\d{1,5})$/.exec(text.trim());
  const port = Number(m?.[2]);
  if (!m || !(port >= 1 && port <= 65535))
    throw errors.invalidArgument(`${flag} '${text}' must look like HOST:PORT, e.g. 127.0.0.1:8001`);
  return `${m[1]}:${port}`;
}

/** The 5-byte gRPC message prefix (uncompressed, length big-endian) and the message. */
export function frameMessage(message: Buffer): Buffer {
  const framed = Buffer.allocUnsafe(5 + message.length);
  framed[0] = 0;
  framed.writeUInt32BE(message.length, 1);
  message.copy(framed, 5);
  return framed;
}

const statusNames: string[] = [];

/** "OK", "UNAVAILABLE", … for a grpc-status header value. */
function statusName(value: string | string[] | undefined): string {
  const code = Number(Array.isArray(value) ? value[0] : value);
  if (!Number.isInteger(code) || code < 0) return 'no grpc-status';
  return (statusNames[code] ??= grpc.status[code] ?? `status ${code}`);
}

function headerText(value: string | string[] | undefined): string {
  const text = Array.isArray(value) ? value.join(', ') : (value ?? '');
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * A gRPC client for one unary method written on `node:http2` directly: it sends the framed request
 * and reads nothing but the status. grpc-js does much more per call (interceptors, filters,
 * metadata objects) and cost about three times the CPU per call here; on two shared cores that
 * CPU is taken from the server under test. Plaintext only (h2c), like `tend serve` without TLS.
 */
export function createGrpcSender(options: GrpcSenderOptions): RequestSender {
  const requestHeaders: http2.OutgoingHttpHeaders = {
    ':method': 'POST',
    ':path': modelInfer().path,
    'content-type': 'application/grpc',
    te: 'trailers',
  };
  const framed = frameMessage(options.request);
  const authority = `http://${options.address}`;
  let session: http2.ClientHttp2Session | null = null;
  let closed = false;

  /** The open session, or a new one when the last has gone (GOAWAY, reset, error). */
  const current = (): http2.ClientHttp2Session => {
    if (session === null || session.closed || session.destroyed) {
      const opened = http2.connect(authority);
      // Errors reach every stream of the session as well; the session's own must not throw.
      opened.on('error', () => undefined);
      session = opened;
    }
    return session;
  };

  return {
    connect: () =>
      new Promise<void>((resolve, reject) => {
        const timeoutMs = options.connectTimeoutMs ?? 10_000;
        const s = current();
        if (!s.connecting && !s.destroyed) return resolve();
        const fail = (why: string): void =>
          reject(errors.unavailable(`cannot reach the gRPC server at ${options.address}: ${why}`));
        const timer = setTimeout(() => fail(`no connection within ${timeoutMs / 1000} s`), timeoutMs);
        s.once('connect', () => {
          clearTimeout(timer);
          resolve();
        });
        s.once('error', (err: Error) => {
          clearTimeout(timer);
          fail(err.message);
        });
      }),
    send(done: SendDone): void {
      if (closed) {
        done('socket error', false, 'the sender is closed');
        return;
      }
      let status: string | undefined;
      let detail = '';
      let ended = false;
      const stream = current().request(requestHeaders);
      stream.on('response', (headers) => {
        const code = headers[':status'];
        if (code !== 200) {
          status = `HTTP ${code}`;
          detail = `HTTP ${code} from the gRPC port`;
        } else if (headers['grpc-status'] !== undefined) {
          // Trailers-only answer: the status comes with the headers.
          status = statusName(headers['grpc-status']);
          detail = headerText(headers['grpc-message']);
        }
      });
      stream.on('trailers', (trailers) => {
        status = statusName(trailers['grpc-status']);
        detail = headerText(trailers['grpc-message']);
      });
      stream.on('error', (err: Error) => {
        if (ended) return;
        ended = true;
        done('socket error', false, `stream error: ${err.message}`.slice(0, ERROR_SAMPLE_CHARS));
      });
      stream.on('close', () => {
        if (ended) return;
        ended = true;
        const name = status ?? 'no grpc-status';
        if (name === 'OK') done(name, true);
        else done(name, false, `${name}: ${detail}`.slice(0, ERROR_SAMPLE_CHARS));
      });
      stream.resume();
      stream.end(framed);
    },
    close(): void {
      closed = true;
      session?.destroy();
    },
  };
}
