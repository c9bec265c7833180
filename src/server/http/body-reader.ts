/**
 * Reads request bodies for every route (Fastify's content-type parser). Small bodies are collected as
 * Fastify would. A body that is or becomes large (limits.large_body_bytes) must first get one of the
 * `limits.max_large_bodies` slots — else 503 + Retry-After before more of it is read — and a large
 * infer body is scanned while it arrives (json-infer-scanner.ts), so a `data` array longer than its
 * shape is refused at its first extra element instead of being read, parsed and materialized.
 */
import type { FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { TendError, errors } from '../../core/errors.js';
import { JsonInferScanner } from './json-infer-scanner.js';
import type { LargeBodies } from './json-body-pool.js';

/** The slot a request's large body holds (released at the end of the response, or earlier). */
export const LARGE_BODY_SLOT = Symbol('tend.largeBodySlot');
/** A body refused while it arrived: the route answers with this error (see `throwBodyRefusal`). */
export const BODY_REFUSAL = Symbol('tend.bodyRefusal');

export type RequestWithSlot = FastifyRequest & { [LARGE_BODY_SLOT]?: () => void; [BODY_REFUSAL]?: TendError };

/**
 * A preValidation hook: answer a request whose body was refused while it arrived. The refusal is
 * not a parser error, which Fastify answers with `Connection: close`: closing while the client still
 * sends makes the kernel reset the connection, and the client may lose the answer. Instead the rest
 * of the body is read and dropped (up to body_limit_bytes) and the connection stays usable.
 */
export function throwBodyRefusal(request: FastifyRequest): void {
  const refusal = (request as RequestWithSlot)[BODY_REFUSAL];
  if (refusal !== undefined) throw refusal;
}

export interface BodyReaderOptions {
  bodyLimitBytes: number;
  largeBodies: LargeBodies;
  maxTensorElements: number;
}

const EMPTY = Buffer.alloc(0);

function tooLarge(limit: number): TendError {
  return errors.payloadTooLarge(
    `request body is larger than the server accepts (body_limit_bytes = ${limit})`,
  );
}

function isInferRoute(request: FastifyRequest): boolean {
  const url = request.routeOptions.url;
  return url !== undefined && url.endsWith('/infer');
}

/** The content-type parser: `(request, payload, done)` with the raw request stream. */
export function bodyReader(options: BodyReaderOptions) {
  const { bodyLimitBytes, largeBodies, maxTensorElements } = options;
  const large = largeBodies.largeBodyBytes;
  return (
    request: FastifyRequest,
    payload: IncomingMessage,
    done: (err: Error | null, body?: Buffer) => void,
  ): void => {
    const req = request as RequestWithSlot;
    const lengthHeader = request.headers['content-length'];
    const declared = lengthHeader === undefined ? undefined : Number(lengthHeader);
    if (declared !== undefined && declared > bodyLimitBytes) {
      payload.resume();
      done(tooLarge(bodyLimitBytes));
      return;
    }
    const takeSlot = (): boolean => {
      if (req[LARGE_BODY_SLOT] !== undefined) return true;
      const release = largeBodies.tryAcquire();
      if (release === null) return false;
      req[LARGE_BODY_SLOT] = release;
      return true;
    };
    const infer = isInferRoute(request);
    const headerLength = request.headers['inference-header-content-length'];
    // Bytes of JSON to scan: the whole body, or its JSON header with the binary extension.
    const jsonBytes = typeof headerLength === 'string' ? Number(headerLength) : Number.POSITIVE_INFINITY;
    const chunks: Buffer[] = [];
    let received = 0;
    let scanner: JsonInferScanner | null = null;
    let scanned = 0;
    let finished = false;
    const scan = (chunk: Buffer): void => {
      if (scanner === null || scanned >= jsonBytes) return;
      const part = scanned + chunk.length > jsonBytes ? chunk.subarray(0, jsonBytes - scanned) : chunk;
      scanned += part.length;
      scanner.write(part);
    };
    const finish = (err: Error | null, body?: Buffer): void => {
      if (finished) return;
      finished = true;
      payload.removeListener('data', onData);
      payload.removeListener('end', onEnd);
      payload.removeListener('error', onError);
      if (err === null) {
        done(null, body);
      } else if (
        err instanceof TendError &&
        err.code !== 'TEND_PAYLOAD_TOO_LARGE' &&
        err.code !== 'TEND_BAD_REQUEST'
      ) {
        // Answer now; read and drop the rest of the body, cutting the connection past the body limit.
        chunks.length = 0;
        req[BODY_REFUSAL] = err;
        let dropped = received;
        payload.on('data', (chunk: Buffer) => {
          dropped += chunk.length;
          if (dropped > bodyLimitBytes) payload.destroy();
        });
        payload.on('error', () => undefined);
        done(null, EMPTY);
      } else {
        chunks.length = 0;
        payload.resume();
        done(err);
      }
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > bodyLimitBytes) return finish(tooLarge(bodyLimitBytes));
      if (received >= large) {
        if (!takeSlot()) return finish(largeBodies.busyError());
        if (infer && scanner === null && jsonBytes >= large) {
          scanner = new JsonInferScanner(maxTensorElements);
          try {
            for (const c of chunks) scan(c);
          } catch (err) {
            return finish(err as Error);
          }
        }
      }
      try {
        scan(chunk);
      } catch (err) {
        return finish(err as Error);
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      finish(null, chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received));
    };
    // A client that hangs up mid-body: a client error (logged at info), never a 500.
    const onError = (err: Error): void =>
      finish(errors.badRequest(`the request body ended early: ${err.message}`));
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onError);
    if (declared !== undefined && declared >= large && !takeSlot()) finish(largeBodies.busyError());
  };
}
