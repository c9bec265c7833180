/**
 * The soak's rate-controlled load: wrk keeps a fixed number of connections, but a Lua `delay()` hook
 * (called before every request) holds each request back until its slot on one schedule of
 * `1000 / rate` ms steps shared by all connections of the wrk thread. The rate is then set by the
 * schedule, not by the server's latency (a fixed per-connection delay gives connections / (delay +
 * latency), which moves with the latency). The clock is CLOCK_MONOTONIC read through LuaJIT's ffi
 * (wrk links LuaJIT; plain Lua has no wall clock finer than a second).
 */

/**
 * How far (ms) the schedule may fall behind the clock and still catch up; beyond, it restarts from
 * now. Generous: a stall of the server (a GC pause, a slow batch) is caught up afterwards, as an
 * open-loop client's queued requests would be, instead of lowering the window's rate for good.
 */
export const SCHEDULE_SLACK_MS = 2000;

/**
 * Lua to append to a wrk request script (see writePostScript): holds wrk's thread to `ratePerSecond`
 * requests per second. Use one wrk thread: every thread runs its own schedule.
 */
export function rateLimitLua(ratePerSecond: number): string {
  if (!(ratePerSecond > 0 && Number.isFinite(ratePerSecond)))
    throw new Error(`rate must be a positive number of requests per second, got ${ratePerSecond}`);
  const intervalMs = 1000 / ratePerSecond;
  return [
    'local ffi = require("ffi")',
    'ffi.cdef[[',
    'typedef struct { long tv_sec; long tv_nsec; } tend_soak_timespec;',
    'int clock_gettime(int clk_id, tend_soak_timespec *tp);',
    ']]',
    'local tend_soak_ts = ffi.new("tend_soak_timespec")',
    'local function tend_soak_now_ms()',
    '  ffi.C.clock_gettime(1, tend_soak_ts) -- CLOCK_MONOTONIC',
    '  return tonumber(tend_soak_ts.tv_sec) * 1000 + tonumber(tend_soak_ts.tv_nsec) / 1e6',
    'end',
    `local tend_soak_interval_ms = ${intervalMs.toPrecision(12)}`,
    'local tend_soak_next_ms = nil',
    'function delay()',
    '  local now = tend_soak_now_ms()',
    `  if tend_soak_next_ms == nil or tend_soak_next_ms < now - ${SCHEDULE_SLACK_MS} then tend_soak_next_ms = now end`,
    '  local wait = tend_soak_next_ms - now',
    '  tend_soak_next_ms = tend_soak_next_ms + tend_soak_interval_ms',
    // wrk reads the answer as an unsigned whole number of ms: never negative, and rounding down
    // only sends a request up to 1 ms early; the next slot still moves by a full interval.
    '  if wait < 1 then return 0 end',
    '  return math.floor(wait)',
    'end',
    '',
  ].join('\n');
}

/** The soak's load: this share of the measured capacity, and the band every window must stay in. */
export interface LoadBand {
  share: number;
  low: number;
  high: number;
}

export const SOAK_LOAD: LoadBand = { share: 0.8, low: 0.75, high: 0.85 };

/** The request rate to ask for: `share` of `capacityPerSecond`. */
export function targetRate(capacityPerSecond: number, band: LoadBand = SOAK_LOAD): number {
  if (!(capacityPerSecond > 0)) throw new Error(`capacity must be above 0 req/s, got ${capacityPerSecond}`);
  return capacityPerSecond * band.share;
}
