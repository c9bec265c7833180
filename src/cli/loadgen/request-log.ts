/**
 * The record of a load run, one entry per request: when it was sent, how long its answer took and
 * how it ended. Entries live in growable typed arrays, so recording allocates nothing per request;
 * the CSV writer and the summary read them back.
 */
import { nearestRank } from '../../core/percentile.js';

/** The status of a request that was sent but never answered (the run gave up waiting). */
export const NO_ANSWER = 'no answer';

export interface LatencySummaryMs {
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  mean: number;
  max: number;
}

/** One request as the CSV shows it. */
export interface RequestEntry {
  /** Milliseconds from the start of the run (warm-up included) to the send. */
  sendMs: number;
  /** Milliseconds from the send to the end of the answer; NaN when there was none. */
  latencyMs: number;
  status: string;
  ok: boolean;
}

const INITIAL_CAPACITY = 4096;

export class RequestLog {
  private sent = new Float64Array(INITIAL_CAPACITY);
  private latency = new Float64Array(INITIAL_CAPACITY);
  private outcome = new Uint16Array(INITIAL_CAPACITY);
  private readonly statuses: string[] = [NO_ANSWER];
  private readonly statusOk: boolean[] = [false];
  private readonly statusIndex = new Map<string, number>([[NO_ANSWER, 0]]);
  /** Entries so far. */
  length = 0;

  /** Open an entry for a request sent at `sendMs` (no answer yet); returns its index. */
  begin(sendMs: number): number {
    if (this.length === this.sent.length) this.grow();
    const i = this.length++;
    this.sent[i] = sendMs;
    this.latency[i] = Number.NaN;
    this.outcome[i] = 0;
    return i;
  }

  /** Close entry `i`: its answer came `latencyMs` after the send, with `status`. */
  finish(i: number, latencyMs: number, status: string, ok: boolean): void {
    this.latency[i] = latencyMs;
    this.outcome[i] = this.indexOf(status, ok);
  }

  /** Add an answered request in one step. */
  record(sendMs: number, latencyMs: number, status: string, ok: boolean): void {
    this.finish(this.begin(sendMs), latencyMs, status, ok);
  }

  entry(i: number): RequestEntry {
    const o = this.outcome[i] ?? 0;
    return {
      sendMs: this.sent[i] ?? Number.NaN,
      latencyMs: this.latency[i] ?? Number.NaN,
      status: this.statuses[o] ?? NO_ANSWER,
      ok: this.statusOk[o] ?? false,
    };
  }

  /** Send times in ms from the start of the run, in the order the requests were sent. */
  sendTimes(): Float64Array {
    return this.sent.slice(0, this.length);
  }

  /** Requests that failed (no answer included), by status. */
  errorsByStatus(): Record<string, number> {
    const counts = new Array<number>(this.statuses.length).fill(0);
    for (let i = 0; i < this.length; i++) counts[this.outcome[i] ?? 0]! += 1;
    const out: Record<string, number> = {};
    for (const [index, status] of this.statuses.entries()) {
      if (!this.statusOk[index] && (counts[index] ?? 0) > 0) out[status] = counts[index] ?? 0;
    }
    return out;
  }

  /** Requests that ended well. */
  succeeded(): number {
    let n = 0;
    for (let i = 0; i < this.length; i++) if (this.statusOk[this.outcome[i] ?? 0]) n += 1;
    return n;
  }

  /** Latency percentiles of the successful requests. */
  latencySummary(): LatencySummaryMs {
    const values = new Float64Array(this.length);
    let n = 0;
    for (let i = 0; i < this.length; i++) {
      if (this.statusOk[this.outcome[i] ?? 0]) values[n++] = this.latency[i] ?? 0;
    }
    return summarizeLatencies(values.subarray(0, n));
  }

  private indexOf(status: string, ok: boolean): number {
    let index = this.statusIndex.get(status);
    if (index === undefined) {
      index = this.statuses.length;
      this.statuses.push(status);
      this.statusOk.push(ok);
      this.statusIndex.set(status, index);
    }
    return index;
  }

  private grow(): void {
    const size = this.sent.length * 2;
    const sent = new Float64Array(size);
    sent.set(this.sent);
    this.sent = sent;
    const latency = new Float64Array(size);
    latency.set(this.latency);
    this.latency = latency;
    const outcome = new Uint16Array(size);
    outcome.set(this.outcome);
    this.outcome = outcome;
  }
}

/** Nearest-rank percentiles, mean and max of latencies in milliseconds (all zero when empty). */
export function summarizeLatencies(values: ArrayLike<number>): LatencySummaryMs {
  if (values.length === 0) return { p50: 0, p90: 0, p95: 0, p99: 0, mean: 0, max: 0 };
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  const at = (q: number): number => nearestRank(sorted, q) ?? 0;
  return {
    p50: at(0.5),
    p90: at(0.9),
    p95: at(0.95),
    p99: at(0.99),
    mean: sum / sorted.length,
    max: sorted[sorted.length - 1] ?? 0,
  };
}
