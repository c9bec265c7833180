/** tend errors as gRPC statuses: the same errors HTTP maps to status codes, mapped once here. */
import * as grpc from '@grpc/grpc-js';
import { toTendError, type ErrorCode } from '../../core/errors.js';

const BY_CODE: Partial<Record<ErrorCode, grpc.status>> = {
  TEND_NOT_FOUND: grpc.status.NOT_FOUND,
  TEND_MODEL_NOT_FOUND: grpc.status.NOT_FOUND,
  TEND_VERSION_NOT_FOUND: grpc.status.NOT_FOUND,
  TEND_ALIAS_NOT_FOUND: grpc.status.NOT_FOUND,
  TEND_FORBIDDEN: grpc.status.PERMISSION_DENIED,
  TEND_UNAUTHORIZED: grpc.status.UNAUTHENTICATED,
  TEND_RATE_LIMITED: grpc.status.RESOURCE_EXHAUSTED,
  TEND_CONFLICT: grpc.status.ALREADY_EXISTS,
  TEND_PAYLOAD_TOO_LARGE: grpc.status.RESOURCE_EXHAUSTED,
  TEND_QUEUE_FULL: grpc.status.RESOURCE_EXHAUSTED,
  TEND_MODEL_NOT_READY: grpc.status.UNAVAILABLE,
  TEND_UNAVAILABLE: grpc.status.UNAVAILABLE,
  TEND_QUEUE_TIMEOUT: grpc.status.DEADLINE_EXCEEDED,
  TEND_INTERNAL: grpc.status.INTERNAL,
  TEND_WORKER_FAILED: grpc.status.INTERNAL,
};

/** The status to send for anything thrown by a handler; the tend code travels as `tend-error-code` trailer. */
const MAX_DETAILS_CHARS = 512;

export function grpcError(err: unknown): grpc.ServiceError {
  const e = toTendError(err);
  const code = BY_CODE[e.code] ?? (e.status >= 400 && e.status < 500 ? grpc.status.INVALID_ARGUMENT : grpc.status.INTERNAL);
  const metadata = new grpc.Metadata();
  metadata.set('tend-error-code', e.code);
  if (e.retryAfterSeconds !== undefined) metadata.set('retry-after', String(e.retryAfterSeconds));
  // grpc-message travels as an HTTP/2 header: a message echoing a long client string must stay short,
  // or the status never reaches the client (seen: a deadline instead of NOT_FOUND for a 1.7 kB name).
  const message = e.message.length > MAX_DETAILS_CHARS ? `${e.message.slice(0, MAX_DETAILS_CHARS)}…` : e.message;
  const details = e.code === 'TEND_INTERNAL' ? 'internal error; see the server log' : message;
  return Object.assign(new Error(details), { code, details, metadata });
}

/** True when the status is the caller's doing (logged at info, not error). */
export function isClientStatus(code: grpc.status): boolean {
  return code !== grpc.status.INTERNAL && code !== grpc.status.UNKNOWN;
}
