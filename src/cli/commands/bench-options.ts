/**
 * The flags of `tend bench`, checked and turned into a plan before anything starts: every bad value
 * is a TEND_INVALID_ARGUMENT naming its flag (exit 1).
 */
import { errors } from '../../core/errors.js';
import { parseDuration } from '../../core/duration.js';
import { parseConcurrencyList } from '../loadgen/http-load.js';
import { DEFAULT_MAX_IN_FLIGHT } from '../loadgen/open-loop.js';
import { parseGrpcAddress } from '../loadgen/grpc-sender.js';

export interface BenchOptions {
  url?: string;
  protocol?: string;
  grpcAddress?: string;
  binary?: boolean;
  concurrency?: string;
  requestRate?: string;
  maxInFlight?: number;
  duration: string;
  warmup: string;
  batch: number;
  shape: string[];
  data?: string;
  csv?: string;
  home?: string;
  repo: string[];
  json?: boolean;
}

export type BenchProtocol = 'http' | 'grpc';

/** One load level: a closed loop of N clients, or an open loop at R requests/s. */
export type BenchLevel = { concurrency: number } | { requestRate: number };

export interface BenchPlan {
  protocol: BenchProtocol;
  binary: boolean;
  /** Base URL of a running server (no trailing slash), or null to start one. */
  url: string | null;
  /** host:port of the gRPC frontend when given (else derived from the server). */
  grpcAddress: string | null;
  levels: BenchLevel[];
  maxInFlight: number;
  durationMs: number;
  warmupMs: number;
  shapes: Map<string, number[]>;
}

export const DEFAULT_CONCURRENCY = '1,8,32';

/** Parse `name=1,128` flags into a map of input dimensions. */
export function parseShapes(flags: readonly string[]): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    const dims = flag
      .slice(eq + 1)
      .split(',')
      .map(Number);
    if (eq <= 0 || dims.some((d) => !Number.isInteger(d) || d < 1)) {
      throw errors.invalidArgument(`--shape '${flag}' must look like NAME=D1,D2,... with positive integers`);
    }
    shapes.set(flag.slice(0, eq), dims);
  }
  return shapes;
}

/** Parse `--request-rate 500,2000` (requests per second, positive numbers). */
export function parseRequestRates(text: string): number[] {
  const parts = text.split(',').map((p) => p.trim());
  if (parts.some((p) => !/^(\d+(\.\d+)?|\.\d+)$/.test(p) || !(Number(p) > 0))) {
    throw errors.invalidArgument(
      `--request-rate '${text}' must be requests per second, positive numbers separated by commas, e.g. 500 or 100,1000`,
    );
  }
  return parts.map(Number);
}

function parseBaseUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw errors.invalidArgument(
      `--url '${text}' is not a URL — give the server's, e.g. http://127.0.0.1:8000`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw errors.invalidArgument(`--url '${text}' must start with http:// or https://`);
  return text.replace(/\/+$/, '');
}

/** Check every flag; throws TEND_INVALID_ARGUMENT naming the first bad one. */
export function parseBenchOptions(opts: BenchOptions): BenchPlan {
  const protocol = opts.protocol ?? 'http';
  if (protocol !== 'http' && protocol !== 'grpc')
    throw errors.invalidArgument(`--protocol '${protocol}' is not one of http, grpc`);
  const binary = opts.binary === true;
  if (binary && protocol !== 'http')
    throw errors.invalidArgument('--binary is the HTTP binary tensor extension: use it with --protocol http');
  if (opts.grpcAddress !== undefined && protocol !== 'grpc')
    throw errors.invalidArgument('--grpc-address applies to --protocol grpc');
  if (opts.concurrency !== undefined && opts.requestRate !== undefined)
    throw errors.invalidArgument('give --concurrency (closed loop) or --request-rate (open loop), not both');
  if (opts.maxInFlight !== undefined && opts.requestRate === undefined)
    throw errors.invalidArgument('--max-in-flight bounds the open loop: use it with --request-rate');
  const maxInFlight = opts.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1)
    throw errors.invalidArgument(`--max-in-flight must be a positive integer, got ${maxInFlight}`);
  if (!Number.isInteger(opts.batch) || opts.batch < 1)
    throw errors.invalidArgument(`--batch must be a positive integer, got ${opts.batch}`);
  let levels: BenchLevel[];
  if (opts.requestRate !== undefined) {
    levels = parseRequestRates(opts.requestRate).map((requestRate) => ({ requestRate }));
  } else {
    let concurrencies: number[];
    try {
      concurrencies = parseConcurrencyList(opts.concurrency ?? DEFAULT_CONCURRENCY);
    } catch {
      throw errors.invalidArgument(
        `--concurrency '${opts.concurrency}' must be positive integers separated by commas, e.g. 1,8,32`,
      );
    }
    levels = concurrencies.map((concurrency) => ({ concurrency }));
  }
  return {
    protocol,
    binary,
    url: opts.url === undefined ? null : parseBaseUrl(opts.url),
    grpcAddress: opts.grpcAddress === undefined ? null : parseGrpcAddress(opts.grpcAddress, '--grpc-address'),
    levels,
    maxInFlight,
    durationMs: parseDuration(opts.duration, { what: '--duration', plainSeconds: true, minMs: 1 }),
    warmupMs: parseDuration(opts.warmup, { what: '--warmup', plainSeconds: true }),
    shapes: parseShapes(opts.shape),
  };
}

/** The gRPC address of a server given by its HTTP URL: same host, port 8001 (tend serve's default). */
export function defaultGrpcAddress(baseUrl: string): string {
  const host = new URL(baseUrl).hostname;
  return `${host.includes(':') ? `[${host.replace(/^\[|\]$/g, '')}]` : host}:8001`;
}
