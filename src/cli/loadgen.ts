/**
 * A closed-loop HTTP load generator, in the manner of Triton's perf_analyzer concurrency mode:
 * N clients each send a request, wait for its answer, and send the next one at once. Used by
 * `tend bench`; it needs nothing but `node:http`, so it runs anywhere tend runs.
 *
 * Counting rules: a request belongs to the measured window when its answer arrives inside it
 * (after the warm-up, before the end). `requests` counts every answer in the window, `errors` the
 * ones that were not 2xx or failed on the socket; throughput and latency use the successful ones.
 */
import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { errors } from '../core/errors.js';

export interface LoadLevelResult {
  concurrency: number;
  requests: number;
  errors: number;
  error_samples: string[];
  duration_seconds: number;
  throughput_rps: number;
  throughput_items_per_second: number;
  latency_ms: { p50: number; p90: number; p95: number; p99: number; mean: number; max: number };
}

export interface LoadOptions {
  /** Full URL of the endpoint, e.g. `http://127.0.0.1:8000/v2/models/digits/infer`. */
  url: string;
  /** Request body, sent as is with every request (POST). */
  body: string | Buffer;
  /** Extra headers; `content-type` defaults to `application/json`. */
  headers?: Record<string, string>;
  concurrency: number;
  durationMs: number;
  /** Time spent loading before the measured window starts (default 0). */
  warmupMs?: number;
  /** Items (batch rows) per request, to turn requests/s into items/s (default 1). */
  itemsPerRequest?: number;
  /** Aborting ends the run early; the result covers the part measured so far. */
  signal?: AbortSignal;
  /** Called about four times a second, and once at the end, with the answers counted so far. */
  onTick?: (done: number) => void;
}

export type SweepOptions = Omit<LoadOptions, 'concurrency'> & { concurrencies: number[] };

const MAX_ERROR_SAMPLES = 5;
const ERROR_SAMPLE_CHARS = 200;
const TICK_INTERVAL_MS = 250;
/** How long in-flight requests may take to finish after the window closes before sockets are cut. */
const DRAIN_GRACE_MS = 10_000;

/** Run one load level: `concurrency` closed-loop clients for `warmupMs + durationMs`. */
export async function runLoad(options: LoadOptions): Promise<LoadLevelResult> {
  const target = parseTarget(options.url);
  const concurrency = requirePositiveInt(options.concurrency, 'concurrency');
  const durationMs = requirePositive(options.durationMs, 'durationMs');
  const warmupMs = options.warmupMs ?? 0;
  if (!Number.isFinite(warmupMs) || warmupMs < 0)
    throw errors.invalidArgument(`warmupMs must be ≥ 0, got ${warmupMs}`);
  const itemsPerRequest = options.itemsPerRequest ?? 1;
  requirePositive(itemsPerRequest, 'itemsPerRequest');

  const body = typeof options.body === 'string' ? Buffer.from(options.body) : options.body;
  const headers: Record<string, string | number> = { 'content-type': 'application/json' };
  for (const [key, value] of Object.entries(options.headers ?? {})) headers[key.toLowerCase()] = value;
  headers['content-length'] = body.byteLength;

  const transport = target.protocol === 'https:' ? https : http;
  const agent = new transport.Agent({ keepAlive: true, maxSockets: concurrency });
  const requestOptions: http.RequestOptions = { method: 'POST', agent, headers };

  const startedAt = performance.now();
  const windowStart = startedAt + warmupMs;
  let windowEnd = windowStart + durationMs;
  let stopped = false;
  let announceStop: () => void = () => undefined;
  const stoppedSignal = new Promise<void>((resolve) => {
    announceStop = resolve;
  });
  const latencies: number[] = [];
  let answered = 0;
  let failed = 0;
  const samples: string[] = [];

  const stop = (at = performance.now()): void => {
    if (stopped) return;
    stopped = true;
    windowEnd = Math.min(windowEnd, Math.max(at, windowStart));
    announceStop();
  };
  const onAbort = (): void => stop();
  if (options.signal?.aborted) stop(windowStart);
  options.signal?.addEventListener('abort', onAbort, { once: true });

  const endTimer = setTimeout(() => stop(), warmupMs + durationMs);
  const tick = options.onTick;
  const tickTimer = tick ? setInterval(() => tick(answered), TICK_INTERVAL_MS) : undefined;

  const record = (sentAt: number, doneAt: number, error: string | null): void => {
    if (doneAt < windowStart || doneAt > windowEnd) return;
    answered += 1;
    if (error !== null) {
      failed += 1;
      if (samples.length < MAX_ERROR_SAMPLES) samples.push(error);
      return;
    }
    latencies.push(doneAt - sentAt);
  };

  const client = async (): Promise<void> => {
    // The end timer may fire late; checking the clock keeps clients from starting requests past the window.
    while (!stopped && performance.now() < windowEnd) {
      const sentAt = performance.now();
      const error = await sendOnce(transport, target, requestOptions, body);
      record(sentAt, performance.now(), error);
    }
  };

  try {
    const clients = Array.from({ length: concurrency }, () => client());
    await drain(Promise.all(clients), stoppedSignal, agent);
  } finally {
    clearTimeout(endTimer);
    if (tickTimer) clearInterval(tickTimer);
    options.signal?.removeEventListener('abort', onAbort);
    agent.destroy();
  }
  tick?.(answered);

  const durationSeconds = Math.max(windowEnd - windowStart, 0) / 1000;
  const succeeded = answered - failed;
  const throughput = durationSeconds > 0 ? succeeded / durationSeconds : 0;
  return {
    concurrency,
    requests: answered,
    errors: failed,
    error_samples: samples,
    duration_seconds: durationSeconds,
    throughput_rps: throughput,
    throughput_items_per_second: throughput * itemsPerRequest,
    latency_ms: summarizeLatencies(latencies),
  };
}

/** Run one load level per concurrency, one after the other; an abort ends the sweep after the current level. */
export async function runSweep(options: SweepOptions): Promise<LoadLevelResult[]> {
  const { concurrencies, ...rest } = options;
  if (concurrencies.length === 0) throw errors.invalidArgument('give at least one concurrency level');
  const results: LoadLevelResult[] = [];
  for (const concurrency of concurrencies) {
    if (options.signal?.aborted) break;
    results.push(await runLoad({ ...rest, concurrency }));
  }
  return results;
}

/** Nearest-rank percentiles, mean and max of latencies in milliseconds (all zero when empty). */
export function summarizeLatencies(values: readonly number[]): LoadLevelResult['latency_ms'] {
  if (values.length === 0) return { p50: 0, p90: 0, p95: 0, p99: 0, mean: 0, max: 0 };
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  const at = (q: number): number =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
  return {
    p50: at(0.5),
    p90: at(0.9),
    p95: at(0.95),
    p99: at(0.99),
    mean: sum / sorted.length,
    max: sorted[sorted.length - 1] ?? 0,
  };
}

/** Parse a comma-separated list of positive integers, e.g. `'1,8,32'` → `[1, 8, 32]`. */
export function parseConcurrencyList(text: string): number[] {
  const parts = text.split(',').map((p) => p.trim());
  if (parts.length === 0 || parts.some((p) => !/^\d+$/.test(p) || Number(p) < 1)) {
    throw errors.invalidArgument(
      `invalid concurrency list '${text}' — use positive integers separated by commas, e.g. 1,8,32`,
    );
  }
  return parts.map(Number);
}

function parseTarget(url: string): URL {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw errors.invalidArgument(
      `invalid URL '${url}' — give the full infer URL, e.g. http://127.0.0.1:8000/v2/models/NAME/infer`,
    );
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    throw errors.invalidArgument(
      `unsupported URL scheme '${target.protocol}' in '${url}' — use http or https`,
    );
  }
  return target;
}

function requirePositiveInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1)
    throw errors.invalidArgument(`${name} must be a positive integer, got ${value}`);
  return value;
}

function requirePositive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0)
    throw errors.invalidArgument(`${name} must be greater than zero, got ${value}`);
  return value;
}

/** Send one request; resolve with null on a 2xx answer, or a short description of the failure. */
function sendOnce(
  transport: typeof http | typeof https,
  target: URL,
  options: http.RequestOptions,
  body: Buffer,
): Promise<string | null> {
  return new Promise((resolve) => {
    const req = transport.request(target, options, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) {
        res.on('end', () => resolve(null));
        res.on('error', (err) => resolve(`response error: ${err.message}`));
        res.resume();
        return;
      }
      const chunks: Buffer[] = [];
      let kept = 0;
      res.on('data', (chunk: Buffer) => {
        if (kept < ERROR_SAMPLE_CHARS) {
          chunks.push(chunk);
          kept += chunk.byteLength;
        }
      });
      const finish = (): void => {
        const text = Buffer.concat(chunks).toString('utf8').slice(0, ERROR_SAMPLE_CHARS);
        resolve(`HTTP ${status}: ${text}`);
      };
      res.on('end', finish);
      res.on('error', finish);
    });
    req.on('error', (err) => resolve(`request error: ${err.message}`));
    req.end(body);
  });
}

/** Wait for the clients to finish their last request; cut the sockets of a server that does not answer. */
async function drain(clients: Promise<unknown>, stopped: Promise<void>, agent: http.Agent): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const finished = await Promise.race([
    clients.then(() => true),
    stopped.then(
      () =>
        new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), DRAIN_GRACE_MS);
        }),
    ),
  ]);
  clearTimeout(timer);
  if (!finished) {
    agent.destroy();
    await clients;
  }
}
