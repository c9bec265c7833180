/**
 * One load level as `tend bench` reports it (--json keys in snake_case): what was sent, how fast,
 * the latency percentiles of the successful requests, the failures by status, and the server's own
 * queue and compute times from the statistics extension.
 */
import type { LoopResult } from './closed-loop.js';
import type { OpenLoopResult } from './open-loop.js';
import type { LatencySummaryMs } from './request-log.js';
import type { ServerSideTimes } from './stats-extension.js';

/** The status under which requests the in-flight cap kept from being sent are counted. */
export const NOT_SENT_AT_CAP = 'not sent (in-flight cap)';

export interface LevelSummary {
  /** Closed loop: clients; null in open loop. */
  concurrency: number | null;
  /** Open loop: the scheduled rate; null in closed loop. */
  request_rate: number | null;
  /** Requests of the measured window (answered, failed or unanswered). */
  requests: number;
  /** Requests that did not succeed (not sent at the cap included). */
  errors: number;
  errors_by_status: Record<string, number>;
  error_samples: string[];
  duration_seconds: number;
  /** Requests sent per second, from the first and last send times of the window. */
  send_rate_rps: number;
  /** Successful answers per second of the window. */
  throughput_rps: number;
  throughput_items_per_second: number;
  latency_ms: LatencySummaryMs;
  /** Open loop only: the in-flight cap, the peak, and how far sends lagged their schedule. */
  max_in_flight: number | null;
  peak_in_flight: number | null;
  schedule_lag_ms: LatencySummaryMs | null;
  /** Averages per request from the server's statistics (null when it does not give them). */
  server: ServerSideTimes | null;
  /**
   * CPU the bench process used over the level, in cores (1 = one core busy throughout): a load
   * generator short of CPU inflates the latencies it measures.
   */
  client_cpu_cores: number | null;
}

/** Requests per second from sorted-or-not send times: (n − 1) sends over the span of the first to the last. */
export function sendRate(sendTimesMs: Float64Array): number {
  if (sendTimesMs.length < 2) return 0;
  let first = Infinity;
  let last = -Infinity;
  for (const t of sendTimesMs) {
    if (t < first) first = t;
    if (t > last) last = t;
  }
  return last > first ? ((sendTimesMs.length - 1) * 1000) / (last - first) : 0;
}

function isOpenLoop(result: LoopResult | OpenLoopResult): result is OpenLoopResult {
  return 'ratePerSecond' in result;
}

export function summarizeLevel(
  result: LoopResult | OpenLoopResult,
  concurrency: number | null,
  itemsPerRequest: number,
  server: ServerSideTimes | null,
  clientCpuCores: number | null = null,
): LevelSummary {
  const { log } = result;
  const open = isOpenLoop(result) ? result : null;
  const errorsByStatus = log.errorsByStatus();
  if (open !== null && open.droppedAtCap > 0) errorsByStatus[NOT_SENT_AT_CAP] = open.droppedAtCap;
  const succeeded = log.succeeded();
  const requests = log.length + (open?.droppedAtCap ?? 0);
  const throughput = result.durationSeconds > 0 ? succeeded / result.durationSeconds : 0;
  return {
    concurrency,
    request_rate: open?.ratePerSecond ?? null,
    requests,
    errors: requests - succeeded,
    errors_by_status: errorsByStatus,
    error_samples: result.errorSamples,
    duration_seconds: result.durationSeconds,
    send_rate_rps: sendRate(log.sendTimes()),
    throughput_rps: throughput,
    throughput_items_per_second: throughput * itemsPerRequest,
    latency_ms: log.latencySummary(),
    max_in_flight: open?.maxInFlight ?? null,
    peak_in_flight: open?.peakInFlight ?? null,
    schedule_lag_ms: open?.scheduleLagMs ?? null,
    server,
    client_cpu_cores: clientCpuCores,
  };
}
