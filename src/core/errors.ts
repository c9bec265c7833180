/**
 * The one errors module: every error tend raises has a stable code, an HTTP status and a message
 * that names the problem. Frontends map them (HTTP status, gRPC status, CLI exit code); nothing
 * else decides how an error is shown.
 */

export const ERROR_CODES = {
  TEND_BAD_REQUEST: 400,
  TEND_INVALID_JSON: 400,
  TEND_INVALID_INPUT: 400,
  TEND_INVALID_ARGUMENT: 400,
  TEND_INVALID_CONFIG: 400,
  TEND_INVALID_MODEL: 400,
  // A model archive (`tend import`) that is not a tar, is truncated, or whose manifest or files are wrong.
  TEND_INVALID_ARCHIVE: 400,
  TEND_INFERENCE_FAILED: 400,
  // A model file that onnxruntime refuses (explicit loads answer 400, as Triton's do).
  TEND_MODEL_LOAD_FAILED: 400,
  // No credentials, or credentials that match no token (a valid token without the scope gets 403).
  TEND_UNAUTHORIZED: 401,
  TEND_FORBIDDEN: 403,
  TEND_NOT_FOUND: 404,
  TEND_MODEL_NOT_FOUND: 404,
  TEND_VERSION_NOT_FOUND: 404,
  TEND_ALIAS_NOT_FOUND: 404,
  TEND_CONFLICT: 409,
  TEND_PAYLOAD_TOO_LARGE: 413,
  TEND_UNSUPPORTED_MEDIA_TYPE: 415,
  // A token over its request rate or concurrency limit (load shedding for everyone is 503 TEND_UNAVAILABLE).
  TEND_RATE_LIMITED: 429,
  TEND_INTERNAL: 500,
  TEND_WORKER_FAILED: 500,
  TEND_MODEL_NOT_READY: 503,
  TEND_QUEUE_FULL: 503,
  TEND_UNAVAILABLE: 503,
  TEND_QUEUE_TIMEOUT: 504,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface TendErrorOptions {
  cause?: unknown;
  /** Seconds a client should wait before retrying (sent as `Retry-After`). */
  retryAfterSeconds?: number;
  /** How to fix it, when this error knows better than its code's general hint (the CLI prints it). */
  hint?: string;
}

/** Base of every error tend throws on purpose. */
export class TendError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryAfterSeconds: number | undefined;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: TendErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TendError';
    this.code = code;
    this.status = ERROR_CODES[code];
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.hint = options.hint;
  }

  /** True when the caller, not tend, is at fault (HTTP 4xx; CLI exit code 1). */
  get isUserError(): boolean {
    return this.status < 500 || this.code === 'TEND_QUEUE_FULL' || this.code === 'TEND_QUEUE_TIMEOUT';
  }
}

export function isTendError(err: unknown): err is TendError {
  return err instanceof TendError;
}

/** Wrap anything thrown into a TendError; unknown errors become TEND_INTERNAL. */
export function toTendError(err: unknown): TendError {
  if (err instanceof TendError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new TendError('TEND_INTERNAL', message, { cause: err });
}

// Constructors for the errors raised from several places, so their wording stays the same.

export const errors = {
  modelNotFound: (name: string) =>
    new TendError('TEND_MODEL_NOT_FOUND', `model '${name}' not found`),
  versionNotFound: (name: string, version: string | number) =>
    new TendError('TEND_VERSION_NOT_FOUND', `model '${name}' has no version '${version}'`),
  aliasNotFound: (name: string, alias: string) =>
    new TendError('TEND_ALIAS_NOT_FOUND', `model '${name}' has no alias '${alias}'`),
  invalidInput: (message: string) => new TendError('TEND_INVALID_INPUT', message),
  invalidArgument: (message: string) => new TendError('TEND_INVALID_ARGUMENT', message),
  invalidConfig: (message: string) => new TendError('TEND_INVALID_CONFIG', message),
  invalidModel: (message: string, cause?: unknown) =>
    new TendError('TEND_INVALID_MODEL', message, cause === undefined ? {} : { cause }),
  queueFull: (model: string, size: number) =>
    new TendError(
      'TEND_QUEUE_FULL',
      `queue of model '${model}' is full (${size} requests waiting); retry later`,
      { retryAfterSeconds: 1 },
    ),
  queueTimeout: (model: string, timeoutUs: number) =>
    new TendError(
      'TEND_QUEUE_TIMEOUT',
      `request to model '${model}' timed out after ${timeoutUs / 1000} ms in the queue`,
    ),
} as const;
