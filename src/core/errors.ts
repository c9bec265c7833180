/**
 * The one errors module and its catalogue: every error tend raises has a stable code, one HTTP
 * status, one gRPC status, a hint that says how to fix it, and a factory below that writes its
 * message. Frontends map them (HTTP status, gRPC status, CLI exit code and hint); nothing else
 * decides how an error is shown, and nothing outside this file writes `new TendError(`.
 */

/** gRPC status names (grpc.status keys); core stays free of @grpc/grpc-js, server/grpc maps names to numbers. */
export type GrpcStatusName =
  | 'INVALID_ARGUMENT'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'RESOURCE_EXHAUSTED'
  | 'UNAVAILABLE'
  | 'DEADLINE_EXCEEDED'
  | 'INTERNAL';

/** What the catalogue knows about one code. */
export interface ErrorEntry {
  /** The HTTP status of the answer. */
  readonly http: number;
  /** The gRPC status of the answer. */
  readonly grpc: GrpcStatusName;
  /** How to fix it, in general (the CLI prints it after the message; an error's own `hint` wins). */
  readonly hint: string;
}

export const ERROR_CATALOGUE = {
  TEND_BAD_REQUEST: {
    http: 400,
    grpc: 'INVALID_ARGUMENT',
    hint: 'check the request against the HTTP API section of the README',
  },
  TEND_INVALID_JSON: {
    http: 400,
    grpc: 'INVALID_ARGUMENT',
    hint: 'send one JSON object as the request body',
  },
  TEND_INVALID_INPUT: {
    http: 400,
    grpc: 'INVALID_ARGUMENT',
    hint: "compare the inputs with the model's signature (`tend models show NAME` or GET /v2/models/NAME)",
  },
  TEND_INVALID_ARGUMENT: {
    http: 400,
    grpc: 'INVALID_ARGUMENT',
    hint: 'fix the value the message names; `tend COMMAND --help` lists what each option takes',
  },
  TEND_INVALID_CONFIG: {
    http: 400,
    grpc: 'INVALID_ARGUMENT',
    hint: 'see the configuration table in the README',
  },
  // Only for problems of an ONNX file itself; archive problems are TEND_INVALID_ARCHIVE with their own hints.
  TEND_INVALID_MODEL: {
    http: 400,
    grpc: 'INVALID_ARGUMENT',
    hint: 'check that the file is an ONNX model (exported with torch.onnx.export, tf2onnx, ...)',
  },
  // A model archive (`tend import`) that is not a tar, is truncated, or whose manifest or files are wrong.
  TEND_INVALID_ARCHIVE: {
    http: 400,
    grpc: 'INVALID_ARGUMENT',
    hint: '`tend import` takes the tar archive `tend export` writes; export the model again',
  },
  TEND_INFERENCE_FAILED: {
    http: 400,
    grpc: 'INVALID_ARGUMENT',
    hint: "onnxruntime refused these values; check them against the model's signature (`tend models show NAME`)",
  },
  // A model file that onnxruntime refuses (explicit loads answer 400, as Triton's do).
  TEND_MODEL_LOAD_FAILED: {
    http: 400,
    grpc: 'INVALID_ARGUMENT',
    hint: 'the versions serving before keep serving; fix the model file or its version policy and load it again',
  },
  // No credentials, or credentials that match no token (a valid token without the scope gets 403).
  TEND_UNAUTHORIZED: {
    http: 401,
    grpc: 'UNAUTHENTICATED',
    hint: 'send a valid token (Authorization: Bearer TOKEN); `tend token create` makes one',
  },
  TEND_FORBIDDEN: {
    http: 403,
    grpc: 'PERMISSION_DENIED',
    hint: 'use a token with the scope this needs (`tend token list`), or change the server setting the message names',
  },
  TEND_NOT_FOUND: {
    http: 404,
    grpc: 'NOT_FOUND',
    hint: 'check the name or path the message gives',
  },
  TEND_MODEL_NOT_FOUND: {
    http: 404,
    grpc: 'NOT_FOUND',
    hint: 'run `tend models list` to see the registry',
  },
  TEND_VERSION_NOT_FOUND: {
    http: 404,
    grpc: 'NOT_FOUND',
    hint: 'run `tend models versions NAME` to see its versions',
  },
  TEND_ALIAS_NOT_FOUND: {
    http: 404,
    grpc: 'NOT_FOUND',
    hint: 'run `tend models show NAME` to see its aliases',
  },
  TEND_CONFLICT: {
    http: 409,
    grpc: 'ALREADY_EXISTS',
    hint: 'look at the current state, deal with what is in the way, then retry',
  },
  TEND_PAYLOAD_TOO_LARGE: {
    http: 413,
    grpc: 'RESOURCE_EXHAUSTED',
    hint: 'send a smaller request, or raise body_limit_bytes in the server config',
  },
  TEND_UNSUPPORTED_MEDIA_TYPE: {
    http: 415,
    grpc: 'INVALID_ARGUMENT',
    hint: 'send Content-Type: application/json, or application/octet-stream with Inference-Header-Content-Length for binary data',
  },
  // A token over its request rate or concurrency limit (load shedding for everyone is 503 TEND_UNAVAILABLE).
  TEND_RATE_LIMITED: {
    http: 429,
    grpc: 'RESOURCE_EXHAUSTED',
    hint: "wait the Retry-After seconds before the next request, or raise the token's limits",
  },
  TEND_INTERNAL: {
    http: 500,
    grpc: 'INTERNAL',
    hint: 'run again with TEND_DEBUG=1 to print the stack trace (a server writes it to its log)',
  },
  TEND_WORKER_FAILED: {
    http: 500,
    grpc: 'INTERNAL',
    hint: 'retry: the worker is replaced; if it keeps failing, the server log says why',
  },
  TEND_MODEL_NOT_READY: {
    http: 503,
    grpc: 'UNAVAILABLE',
    hint: 'wait until the version is loaded (GET /v2/models/NAME/ready), then retry',
  },
  TEND_QUEUE_FULL: {
    http: 503,
    grpc: 'RESOURCE_EXHAUSTED',
    hint: "retry after the Retry-After seconds, or raise the model's max_queue_size or instance count",
  },
  TEND_UNAVAILABLE: {
    http: 503,
    grpc: 'UNAVAILABLE',
    hint: 'retry in a moment, or send the request to another replica',
  },
  TEND_QUEUE_TIMEOUT: {
    http: 504,
    grpc: 'DEADLINE_EXCEEDED',
    hint: 'retry with a longer timeout, or lower the load on the model',
  },
} as const satisfies Record<string, ErrorEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** Every code with its HTTP status (the catalogue's `http`, kept as its own map for callers that want only that). */
export const ERROR_CODES = Object.fromEntries(
  Object.entries(ERROR_CATALOGUE).map(([code, entry]) => [code, entry.http]),
) as { readonly [C in ErrorCode]: (typeof ERROR_CATALOGUE)[C]['http'] };

export interface TendErrorOptions {
  cause?: unknown;
  /** Seconds a client should wait before retrying (sent as `Retry-After`). */
  retryAfterSeconds?: number;
  /**
   * How to fix it, when this error knows better than its code's general hint (the CLI prints it); '' when the
   * message says it.
   */
  hint?: string;
}

/** Options for an error whose message already ends with how to fix it: the CLI adds no hint after it. */
export const FIX_IN_MESSAGE: TendErrorOptions = { hint: '' };

/** Base of every error tend throws on purpose; make one with a factory of `errors`. */
export class TendError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryAfterSeconds: number | undefined;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: TendErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TendError';
    this.code = code;
    this.status = ERROR_CATALOGUE[code].http;
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

/** How to fix an error: its own hint, else its code's hint from the catalogue. */
export function hintFor(err: TendError): string {
  return err.hint ?? ERROR_CATALOGUE[err.code].hint;
}

const retryAfter = (retryAfterSeconds: number | undefined): TendErrorOptions =>
  retryAfterSeconds === undefined ? {} : { retryAfterSeconds };

/**
 * The factories, grouped by code in catalogue order. A message with a fixed shape takes typed
 * parameters (`queueFull(model, size)`); where callers give the detail, the factory takes the message.
 * @example throw errors.versionNotFound('iris', 3); // TEND_VERSION_NOT_FOUND: model 'iris' has no version '3'
 */
export const errors = {
  // TEND_BAD_REQUEST
  badRequest: (message: string) => new TendError('TEND_BAD_REQUEST', message),
  // TEND_INVALID_JSON
  invalidJson: (message: string) => new TendError('TEND_INVALID_JSON', message),
  // TEND_INVALID_INPUT
  invalidInput: (message: string) => new TendError('TEND_INVALID_INPUT', message),
  // TEND_INVALID_ARGUMENT
  invalidArgument: (message: string, options?: TendErrorOptions) =>
    new TendError('TEND_INVALID_ARGUMENT', message, options),
  // TEND_INVALID_CONFIG
  invalidConfig: (message: string, options?: TendErrorOptions) =>
    new TendError('TEND_INVALID_CONFIG', message, options),
  // TEND_INVALID_MODEL
  invalidModel: (message: string, cause?: unknown) =>
    new TendError('TEND_INVALID_MODEL', message, cause === undefined ? {} : { cause }),
  // TEND_INVALID_ARCHIVE
  invalidArchive: (message: string, options?: TendErrorOptions) =>
    new TendError('TEND_INVALID_ARCHIVE', message, options),
  // TEND_INFERENCE_FAILED
  inferenceFailed: (model: string, reason: string) =>
    new TendError('TEND_INFERENCE_FAILED', `inference on model '${model}' failed: ${reason}`),
  // TEND_MODEL_LOAD_FAILED
  modelLoadFailed: (message: string, options?: TendErrorOptions) =>
    new TendError('TEND_MODEL_LOAD_FAILED', message, options),
  // TEND_UNAUTHORIZED
  unauthorized: (message: string) => new TendError('TEND_UNAUTHORIZED', message),
  // TEND_FORBIDDEN
  forbidden: (message: string) => new TendError('TEND_FORBIDDEN', message),
  // TEND_NOT_FOUND
  notFound: (message: string, options?: TendErrorOptions) =>
    new TendError('TEND_NOT_FOUND', message, options),
  deploymentNotFound: (endpoint: string) =>
    new TendError('TEND_NOT_FOUND', `'${endpoint}' has no deployment`),
  // TEND_MODEL_NOT_FOUND
  modelNotFound: (name: string) => new TendError('TEND_MODEL_NOT_FOUND', `model '${name}' not found`),
  // TEND_VERSION_NOT_FOUND
  versionNotFound: (name: string, version: string | number) =>
    new TendError('TEND_VERSION_NOT_FOUND', `model '${name}' has no version '${version}'`),
  /** No version to serve for another reason than a wrong number (none yet, archived, left out by policy). */
  noServableVersion: (message: string) => new TendError('TEND_VERSION_NOT_FOUND', message),
  // TEND_ALIAS_NOT_FOUND
  /** `where` prefixes the message with the place that named the alias (`routes[0]`). */
  aliasNotFound: (name: string, alias: string, where?: string) =>
    new TendError(
      'TEND_ALIAS_NOT_FOUND',
      `${where === undefined ? '' : `${where}: `}model '${name}' has no alias '${alias}'`,
    ),
  // TEND_CONFLICT
  conflict: (message: string, options?: TendErrorOptions) => new TendError('TEND_CONFLICT', message, options),
  // TEND_PAYLOAD_TOO_LARGE
  payloadTooLarge: (message: string) => new TendError('TEND_PAYLOAD_TOO_LARGE', message),
  // TEND_UNSUPPORTED_MEDIA_TYPE
  unsupportedMediaType: (message: string) => new TendError('TEND_UNSUPPORTED_MEDIA_TYPE', message),
  // TEND_RATE_LIMITED
  rateLimited: (message: string, retryAfterSeconds: number) =>
    new TendError('TEND_RATE_LIMITED', message, { retryAfterSeconds }),
  // TEND_INTERNAL
  internal: (message: string, options?: TendErrorOptions) => new TendError('TEND_INTERNAL', message, options),
  // TEND_WORKER_FAILED
  workerFailed: (message: string) => new TendError('TEND_WORKER_FAILED', message),
  // TEND_MODEL_NOT_READY
  modelNotReady: (message: string, retryAfterSeconds?: number) =>
    new TendError('TEND_MODEL_NOT_READY', message, retryAfter(retryAfterSeconds)),
  // TEND_QUEUE_FULL
  queueFull: (model: string, size: number) =>
    new TendError(
      'TEND_QUEUE_FULL',
      `queue of model '${model}' is full (${size} requests waiting); retry later`,
      { retryAfterSeconds: 1 },
    ),
  // TEND_UNAVAILABLE
  unavailable: (message: string, retryAfterSeconds?: number) =>
    new TendError('TEND_UNAVAILABLE', message, retryAfter(retryAfterSeconds)),
  // TEND_QUEUE_TIMEOUT
  queueTimeout: (model: string, timeoutUs: number) =>
    new TendError(
      'TEND_QUEUE_TIMEOUT',
      `request to model '${model}' timed out after ${timeoutUs / 1000} ms in the queue`,
    ),
  // Any code
  /** An error whose code comes from elsewhere: a server's answer, or an error rewrapped with more context. */
  withCode: (code: ErrorCode, message: string, options?: TendErrorOptions) =>
    new TendError(code, message, options),
} as const;
