/**
 * The closed loop, as Triton's perf_analyzer runs its concurrency mode: N clients each send a
 * request, wait for its answer, and send the next one at once. The server's speed sets the rate.
 *
 * Counting rule: a request belongs to the measured window when its answer arrives inside it (after
 * the warm-up, before the end); those are the entries of the log.
 */
import { performance } from 'node:perf_hooks';
import { errors } from '../../core/errors.js';
import { RequestLog } from './request-log.js';
import { MAX_ERROR_SAMPLES, type RequestSender } from './sender.js';

export interface LoopTiming {
  durationMs: number;
  /** Time spent loading before the measured window starts (default 0). */
  warmupMs?: number;
  /** Aborting ends the run early; the result covers the part measured so far. */
  signal?: AbortSignal;
  /** Called about four times a second, and once at the end, with the requests counted so far. */
  onTick?: (done: number) => void;
  /** How long requests still in flight may take once sending is over (default {@link DRAIN_GRACE_MS}). */
  drainGraceMs?: number;
}

export interface LoopResult {
  log: RequestLog;
  /** Length of the measured window in seconds. */
  durationSeconds: number;
  /** The first few failures, in words. */
  errorSamples: string[];
}

export const TICK_INTERVAL_MS = 250;
/** How long in-flight requests may take to finish after the window closes before the run gives up on them. */
export const DRAIN_GRACE_MS = 10_000;

export function checkTiming(timing: LoopTiming): { durationMs: number; warmupMs: number } {
  const { durationMs } = timing;
  if (!Number.isFinite(durationMs) || durationMs <= 0)
    throw errors.invalidArgument(`durationMs must be greater than zero, got ${durationMs}`);
  const warmupMs = timing.warmupMs ?? 0;
  if (!Number.isFinite(warmupMs) || warmupMs < 0)
    throw errors.invalidArgument(`warmupMs must be ≥ 0, got ${warmupMs}`);
  return { durationMs, warmupMs };
}

/** Run `concurrency` closed-loop clients for `warmupMs + durationMs`. */
export async function runClosedLoop(
  sender: RequestSender,
  concurrency: number,
  timing: LoopTiming,
): Promise<LoopResult> {
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw errors.invalidArgument(`concurrency must be a positive integer, got ${concurrency}`);
  const { durationMs, warmupMs } = checkTiming(timing);
  const log = new RequestLog();
  const samples: string[] = [];
  const startedAt = performance.now();
  const windowStart = startedAt + warmupMs;
  let windowEnd = windowStart + durationMs;
  let stopped = false;
  let inFlight = 0;
  let drained: () => void = () => undefined;
  const allDone = new Promise<void>((resolve) => (drained = resolve));
  let announceStop: () => void = () => undefined;
  const stoppedSignal = new Promise<void>((resolve) => (announceStop = resolve));

  const stop = (at = performance.now()): void => {
    if (stopped) return;
    stopped = true;
    windowEnd = Math.min(windowEnd, Math.max(at, windowStart));
    announceStop();
    if (inFlight === 0) drained();
  };
  const onAbort = (): void => stop();
  const endTimer = setTimeout(() => stop(), warmupMs + durationMs);
  const tick = timing.onTick;
  const tickTimer = tick ? setInterval(() => tick(log.length), TICK_INTERVAL_MS) : undefined;

  const issue = (): void => {
    const sentAt = performance.now();
    inFlight += 1;
    sender.send((status, ok, detail) => {
      inFlight -= 1;
      const doneAt = performance.now();
      if (doneAt >= windowStart && doneAt <= windowEnd) {
        log.record(sentAt - startedAt, doneAt - sentAt, status, ok);
        if (!ok && detail !== undefined && samples.length < MAX_ERROR_SAMPLES) samples.push(detail);
      }
      // The end timer may fire late; the clock keeps clients from starting requests past the window.
      if (!stopped && performance.now() < windowEnd) issue();
      else if (inFlight === 0) drained();
    });
  };

  if (timing.signal?.aborted) stop(windowStart);
  timing.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (!stopped) for (let i = 0; i < concurrency; i++) issue();
    await waitForDrain(allDone, stoppedSignal, sender, timing.drainGraceMs ?? DRAIN_GRACE_MS);
  } finally {
    clearTimeout(endTimer);
    if (tickTimer) clearInterval(tickTimer);
    timing.signal?.removeEventListener('abort', onAbort);
  }
  tick?.(log.length);
  return { log, durationSeconds: Math.max(windowEnd - windowStart, 0) / 1000, errorSamples: samples };
}

/** Wait for the last answers; give up on a server that does not answer within the grace period. */
export async function waitForDrain(
  allDone: Promise<void>,
  stopped: Promise<void>,
  sender: RequestSender,
  graceMs: number,
): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const finished = await Promise.race([
    allDone.then(() => true),
    stopped.then(
      () =>
        new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), graceMs);
        }),
    ),
  ]);
  clearTimeout(timer);
  if (!finished) sender.close();
  return finished;
}
