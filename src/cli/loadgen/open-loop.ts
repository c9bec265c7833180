/**
 * The open loop, as perf_analyzer runs its request-rate mode: request i is due at
 * `start + i / rate`, whether or not earlier ones have been answered, so a slow server shows up as
 * latency and requests in flight, never as a slower send rate (no coordinated omission).
 *
 * Timers wake the loop about once a millisecond; each wake sends every request that has come due,
 * so a late timer delays a few sends by a little but never stretches the schedule. The log holds
 * one entry per request due in the measured window (after the warm-up), with its actual send time.
 * In-flight requests are bounded by a cap: a request that comes due while the cap is reached is not
 * sent and is counted as dropped, so that the rest of the schedule still holds.
 */
import { performance } from 'node:perf_hooks';
import { errors } from '../../core/errors.js';
import {
  checkTiming,
  DRAIN_GRACE_MS,
  TICK_INTERVAL_MS,
  waitForDrain,
  type LoopResult,
  type LoopTiming,
} from './closed-loop.js';
import { RequestLog, summarizeLatencies, type LatencySummaryMs } from './request-log.js';
import { MAX_ERROR_SAMPLES, type RequestSender } from './sender.js';

export const DEFAULT_MAX_IN_FLIGHT = 10_000;

export interface OpenLoopOptions extends LoopTiming {
  /** Requests per second the schedule sends. */
  ratePerSecond: number;
  /** In-flight requests at most (default {@link DEFAULT_MAX_IN_FLIGHT}). */
  maxInFlight?: number;
}

export interface OpenLoopResult extends LoopResult {
  ratePerSecond: number;
  maxInFlight: number;
  /** The most requests in flight at once. */
  peakInFlight: number;
  /** Requests of the measured window not sent because `maxInFlight` were in flight. */
  droppedAtCap: number;
  /** How late sends left compared with their schedule (measured window). */
  scheduleLagMs: LatencySummaryMs;
}

/** Timers shorter than this are not worth setting: the loop sends what is due at the next wake. */
const MIN_TIMER_MS = 1;
/** Sends in one go at most, when the loop catches up after a stall. */
const MAX_BURST = 256;

export async function runOpenLoop(sender: RequestSender, options: OpenLoopOptions): Promise<OpenLoopResult> {
  const rate = options.ratePerSecond;
  if (!Number.isFinite(rate) || rate <= 0)
    throw errors.invalidArgument(`ratePerSecond must be greater than zero, got ${rate}`);
  const maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1)
    throw errors.invalidArgument(`maxInFlight must be a positive integer, got ${maxInFlight}`);
  const { durationMs, warmupMs } = checkTiming(options);
  const graceMs = options.drainGraceMs ?? DRAIN_GRACE_MS;
  const periodMs = 1000 / rate;
  const firstMeasured = Math.ceil((warmupMs * rate) / 1000);
  const total = Math.ceil(((warmupMs + durationMs) * rate) / 1000);

  const log = new RequestLog();
  const lags = new Float64Array(Math.max(total - firstMeasured, 0));
  const samples: string[] = [];
  let next = 0;
  let inFlight = 0;
  let peakInFlight = 0;
  let droppedAtCap = 0;
  let sendingDone = false;
  let timer: NodeJS.Timeout | undefined;
  let drained: () => void = () => undefined;
  const allDone = new Promise<void>((resolve) => (drained = resolve));
  let announceStop: () => void = () => undefined;
  const stoppedSignal = new Promise<void>((resolve) => (announceStop = resolve));
  const tick = options.onTick;
  const tickTimer = tick ? setInterval(() => tick(log.length), TICK_INTERVAL_MS) : undefined;

  const startedAt = performance.now();
  let lastDue = total; // lowered by an abort

  const finishSending = (): void => {
    if (sendingDone) return;
    sendingDone = true;
    clearTimeout(timer);
    announceStop();
    if (inFlight === 0) drained();
  };

  const sendOne = (measured: boolean, dueAt: number): void => {
    const sentAt = performance.now();
    const entry = measured ? log.begin(sentAt - startedAt) : -1;
    if (measured) lags[entry] = sentAt - dueAt;
    inFlight += 1;
    if (inFlight > peakInFlight) peakInFlight = inFlight;
    sender.send((status, ok, detail) => {
      inFlight -= 1;
      if (entry >= 0) {
        log.finish(entry, performance.now() - sentAt, status, ok);
        if (!ok && detail !== undefined && samples.length < MAX_ERROR_SAMPLES) samples.push(detail);
      }
      if (sendingDone && inFlight === 0) drained();
    });
  };

  const pump = (): void => {
    let now = performance.now();
    let burst = 0;
    while (next < lastDue) {
      // A loop that fell behind catches up in bursts, letting answers in between them.
      if (burst === MAX_BURST) {
        timer = setTimeout(pump, 0);
        return;
      }
      burst += 1;
      const dueAt = startedAt + next * periodMs;
      if (dueAt > now) break;
      const measured = next >= firstMeasured;
      if (inFlight >= maxInFlight) {
        if (measured) droppedAtCap += 1;
      } else {
        sendOne(measured, dueAt);
      }
      next += 1;
      now = performance.now();
    }
    if (next >= lastDue) return finishSending();
    const wait = startedAt + next * periodMs - performance.now();
    timer = setTimeout(pump, Math.max(wait, MIN_TIMER_MS));
  };

  const onAbort = (): void => {
    lastDue = Math.min(lastDue, next);
    finishSending();
  };
  if (options.signal?.aborted) lastDue = 0;
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let gaveUp = false;
  try {
    pump();
    gaveUp = !(await waitForDrain(allDone, stoppedSignal, sender, graceMs));
  } finally {
    clearTimeout(timer);
    if (tickTimer) clearInterval(tickTimer);
    options.signal?.removeEventListener('abort', onAbort);
  }
  if (gaveUp && samples.length < MAX_ERROR_SAMPLES)
    samples.push(`${inFlight} requests unanswered ${graceMs / 1000} s after the last send`);
  tick?.(log.length);
  const measuredDue = Math.max(Math.min(lastDue, total) - firstMeasured, 0);
  return {
    log,
    durationSeconds: measuredDue / rate,
    errorSamples: samples,
    ratePerSecond: rate,
    maxInFlight,
    peakInFlight,
    droppedAtCap,
    scheduleLagMs: summarizeLatencies(lags.subarray(0, log.length)),
  };
}
