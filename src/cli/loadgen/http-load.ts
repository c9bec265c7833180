/**
 * The HTTP closed loop in one call: `runLoad` sends one V2 body from `concurrency` clients for a
 * duration and summarizes the level (see closed-loop.ts for the counting rule). Used by tests and
 * scripts; `tend bench` composes the same parts itself to pick the protocol and the loop.
 */
import { errors } from '../../core/errors.js';
import { runClosedLoop } from './closed-loop.js';
import { createHttpSender } from './http-sender.js';
import { summarizeLevel, type LevelSummary } from './level-summary.js';

export { summarizeLatencies } from './request-log.js';

export type LoadLevelResult = LevelSummary;

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

/** Run one load level: `concurrency` closed-loop clients for `warmupMs + durationMs`. */
export async function runLoad(options: LoadOptions): Promise<LoadLevelResult> {
  const itemsPerRequest = options.itemsPerRequest ?? 1;
  if (!Number.isFinite(itemsPerRequest) || itemsPerRequest <= 0)
    throw errors.invalidArgument(`itemsPerRequest must be greater than zero, got ${itemsPerRequest}`);
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1)
    throw errors.invalidArgument(`concurrency must be a positive integer, got ${options.concurrency}`);
  const sender = createHttpSender({
    url: options.url,
    body: typeof options.body === 'string' ? Buffer.from(options.body) : options.body,
    ...(options.headers !== undefined ? { headers: options.headers } : {}),
    maxSockets: options.concurrency,
  });
  try {
    const result = await runClosedLoop(sender, options.concurrency, {
      durationMs: options.durationMs,
      ...(options.warmupMs !== undefined ? { warmupMs: options.warmupMs } : {}),
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
      ...(options.onTick !== undefined ? { onTick: options.onTick } : {}),
    });
    return summarizeLevel(result, options.concurrency, itemsPerRequest, null);
  } finally {
    sender.close();
  }
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
