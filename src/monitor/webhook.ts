/**
 * Webhook delivery of alert events: each event is POSTed as JSON to each webhook named, in the
 * background (the caller never waits), with a timeout per attempt and retries with exponential
 * backoff and jitter.
 *
 * Retried: network errors, timeouts, 5xx, 408 and 429 (waiting what Retry-After asks, capped).
 * Not retried: any other status below 500 (the receiver refuses the event; retrying will not help).
 * Every delivery ends in one outcome — delivered, failed (retries spent or refused), dropped
 * (too many in flight, unknown webhook, notifier closed) or abandoned (close deadline) — logged
 * and counted. Header values are never logged (they may hold tokens).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../core/logger.js';
import { silentLogger } from '../core/logger.js';
import { TEND_VERSION } from '../core/version.js';
import type { WebhookConfig } from '../core/alert-rules.js';

export type DeliveryOutcome = 'delivered' | 'failed' | 'dropped' | 'abandoned';

/** Where delivery outcomes are counted: MonitorMetrics fits. */
export interface WebhookDeliveryCounter {
  webhookDelivery(webhook: string, outcome: DeliveryOutcome): void;
}

export interface WebhookNotifierOptions {
  webhooks: readonly WebhookConfig[];
  logger?: Logger;
  metrics?: WebhookDeliveryCounter;
  /** Wait before the first retry; doubles each retry (default 500 ms). */
  initialBackoffMs?: number;
  /** Longest wait between attempts, Retry-After included (default 30 s). */
  maxBackoffMs?: number;
  /** Deliveries in flight beyond which new ones are dropped (default 1000). */
  maxInFlight?: number;
  /** Uniform in [0, 1), for the jitter (default Math.random). */
  random?: () => number;
}

export interface DeliveryStats {
  delivered: number;
  failed: number;
  dropped: number;
  abandoned: number;
  /** Attempts after the first. */
  retries: number;
  inFlight: number;
}

class RetryableError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
  }
}

/** Milliseconds a Retry-After header asks for (seconds or an HTTP date), or null. */
export function parseRetryAfterMs(header: string | null, nowMs = Date.now()): number | null {
  if (header === null || header.trim() === '') return null;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? null : Math.max(0, date - nowMs);
}

/** Sends alert events to webhooks; `notify` returns at once. */
export class WebhookNotifier {
  private readonly hooks: Map<string, WebhookConfig>;
  private readonly logger: Logger;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxInFlight: number;
  private readonly random: () => number;
  private readonly inFlight = new Set<Promise<void>>();
  /** Aborted at the close deadline: stops attempts and backoff waits still running. */
  private readonly abandon = new AbortController();
  private closed = false;
  private readonly counts = { delivered: 0, failed: 0, dropped: 0, abandoned: 0, retries: 0 };

  constructor(private readonly options: WebhookNotifierOptions) {
    this.hooks = new Map(options.webhooks.map((h) => [h.name, h]));
    this.logger = options.logger ?? silentLogger;
    this.initialBackoffMs = options.initialBackoffMs ?? 500;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.maxInFlight = options.maxInFlight ?? 1000;
    this.random = options.random ?? Math.random;
  }

  /** Queue `payload` for each named webhook (all of them when `webhooks` is omitted); never throws, never waits. */
  notify(payload: object, webhooks: readonly string[] = [...this.hooks.keys()]): void {
    for (const name of webhooks) {
      const hook = this.hooks.get(name);
      if (hook === undefined) {
        this.finish(name, 'dropped', { reason: 'unknown webhook' });
        continue;
      }
      if (this.closed || this.inFlight.size >= this.maxInFlight) {
        this.finish(name, 'dropped', {
          reason: this.closed ? 'notifier closed' : `${this.maxInFlight} deliveries already in flight`,
        });
        continue;
      }
      const delivery = this.deliver(hook, JSON.stringify(payload)).finally(() =>
        this.inFlight.delete(delivery),
      );
      this.inFlight.add(delivery);
    }
  }

  private async deliver(hook: WebhookConfig, body: string): Promise<void> {
    const id = randomUUID();
    let lastError = '';
    for (let attempt = 1; attempt <= hook.max_attempts; attempt++) {
      if (this.abandon.signal.aborted)
        return this.finish(hook.name, 'abandoned', { delivery: id, attempts: attempt - 1, error: lastError });
      if (attempt > 1) this.counts.retries++;
      try {
        const status = await this.attempt(hook, body, id, attempt);
        if (status < 300)
          return this.finish(hook.name, 'delivered', { delivery: id, attempts: attempt, status });
        return this.finish(hook.name, 'failed', {
          delivery: id,
          attempts: attempt,
          status,
          error: `refused with HTTP ${status}; not retried`,
        });
      } catch (err) {
        if (this.abandon.signal.aborted)
          return this.finish(hook.name, 'abandoned', { delivery: id, attempts: attempt, error: lastError });
        lastError = (err as Error).message;
        if (attempt === hook.max_attempts) break;
        const waitMs = this.backoffMs(attempt, err instanceof RetryableError ? err.retryAfterMs : null);
        this.logger.debug(
          { webhook: hook.name, delivery: id, attempt, wait_ms: waitMs, error: lastError },
          'webhook attempt failed; retrying',
        );
        await this.sleep(waitMs);
      }
    }
    this.finish(hook.name, 'failed', { delivery: id, attempts: hook.max_attempts, error: lastError });
  }

  /** One POST; resolves with a status that is not retried, throws RetryableError otherwise. */
  private async attempt(hook: WebhookConfig, body: string, id: string, attempt: number): Promise<number> {
    const signal = AbortSignal.any([AbortSignal.timeout(hook.timeout_ms), this.abandon.signal]);
    let res: Response;
    try {
      res = await fetch(hook.url, {
        method: 'POST',
        body,
        signal,
        headers: {
          ...hook.headers,
          'content-type': 'application/json',
          'user-agent': `tend/${TEND_VERSION}`,
          'x-tend-delivery': id,
          'x-tend-attempt': String(attempt),
        },
      });
    } catch (err) {
      const e = err as Error;
      const cause = e.cause instanceof Error ? `: ${e.cause.message}` : '';
      const timedOut = e.name === 'TimeoutError' || (e.name === 'AbortError' && !this.abandon.signal.aborted);
      throw new RetryableError(timedOut ? `no answer within ${hook.timeout_ms} ms` : `${e.message}${cause}`);
    }
    await res.body?.cancel().catch(() => undefined);
    if (res.status >= 500 || res.status === 429 || res.status === 408) {
      throw new RetryableError(`HTTP ${res.status}`, parseRetryAfterMs(res.headers.get('retry-after')));
    }
    return res.status;
  }

  /** initial × 2^(n-1), capped, minus up to half of it at random (so receivers coming back are not hit in step). */
  private backoffMs(failedAttempt: number, retryAfterMs: number | null): number {
    if (retryAfterMs !== null) return Math.min(retryAfterMs, this.maxBackoffMs);
    const exponential = Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** (failedAttempt - 1));
    return Math.round(exponential * (1 - 0.5 * this.random()));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const signal = this.abandon.signal;
      if (signal.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private finish(webhook: string, outcome: DeliveryOutcome, details: Record<string, unknown>): void {
    this.counts[outcome]++;
    this.options.metrics?.webhookDelivery(webhook, outcome);
    const fields = { webhook, outcome, ...details };
    if (outcome === 'delivered') this.logger.info(fields, 'alert delivered to webhook');
    else this.logger.warn(fields, `alert webhook delivery ${outcome}`);
  }

  /** Counts so far. */
  stats(): DeliveryStats {
    return { ...this.counts, inFlight: this.inFlight.size };
  }

  /**
   * Stop accepting events and wait up to `deadlineMs` for deliveries in flight (retries included);
   * those still running then are abandoned. Resolves with how many were abandoned.
   */
  async close(deadlineMs = 5000): Promise<{ abandoned: number }> {
    this.closed = true;
    const before = this.counts.abandoned;
    if (this.inFlight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, deadlineMs);
      });
      await Promise.race([Promise.allSettled([...this.inFlight]), deadline]);
      clearTimeout(timer);
      this.abandon.abort();
      await Promise.allSettled([...this.inFlight]);
    }
    return { abandoned: this.counts.abandoned - before };
  }
}
