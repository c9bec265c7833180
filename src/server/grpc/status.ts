/** tend errors as gRPC statuses: each code's status comes from the errors catalogue, as its HTTP status does. */
import * as grpc from '@grpc/grpc-js';
import { ERROR_CATALOGUE, toTendError, type ErrorCode } from '../../core/errors.js';

/** The gRPC status of a code, from the catalogue in core/errors.ts (which stores its name). */
export function grpcStatusOf(code: ErrorCode): grpc.status {
  return grpc.status[ERROR_CATALOGUE[code].grpc];
}

/** The status to send for anything thrown by a handler; the tend code travels as `tend-error-code` trailer. */
const MAX_DETAILS_CHARS = 512;

export function grpcError(err: unknown): grpc.ServiceError {
  const e = toTendError(err);
  const code = grpcStatusOf(e.code);
  const metadata = new grpc.Metadata();
  metadata.set('tend-error-code', e.code);
  if (e.retryAfterSeconds !== undefined) metadata.set('retry-after', String(e.retryAfterSeconds));
  // grpc-message travels as an HTTP/2 header: a message echoing a long client string must stay short,
  // or the status never reaches the client (seen: a deadline instead of NOT_FOUND for a 1.7 kB name).
  const message =
    e.message.length > MAX_DETAILS_CHARS ? `${e.message.slice(0, MAX_DETAILS_CHARS)}…` : e.message;
  const details = e.code === 'TEND_INTERNAL' ? 'internal error; see the server log' : message;
  return Object.assign(new Error(details), { code, details, metadata });
}

/** True when the status is the caller's doing (logged at info, not error). */
export function isClientStatus(code: grpc.status): boolean {
  return code !== grpc.status.INTERNAL && code !== grpc.status.UNKNOWN;
}
