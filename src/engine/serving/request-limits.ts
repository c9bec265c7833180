/**
 * The limits every request passes after authentication, over HTTP and gRPC alike: the server's
 * in-flight ceiling and memory guard (503 + Retry-After: shed load before memory runs out), then the
 * caller's rate (token bucket) and concurrency (429 + Retry-After). Health probes are not counted.
 */
import type { LimitsConfig } from '../../core/config.js';
import type { TendError } from '../../core/errors.js';
import {
  ConcurrencyLimiter,
  overloadedError,
  rateLimitedError,
  TokenBucket,
  tooManyInFlightError,
} from '../../security/index.js';

const RSS_SAMPLE_MS = 500;

export type Admission = { ok: true; release: () => void } | { ok: false; error: TendError };

export class RequestLimits {
  private readonly buckets: TokenBucket | null;
  private readonly perToken: ConcurrencyLimiter | null;
  private inFlight = 0;
  private rssBytes = process.memoryUsage.rss();
  private rssSampledAt = Date.now();

  constructor(private readonly limits: LimitsConfig) {
    const rate = limits.rate_limit_per_second;
    this.buckets =
      rate !== undefined
        ? new TokenBucket({
            ratePerSecond: rate,
            burst: limits.rate_limit_burst ?? Math.max(1, Math.ceil(rate)),
          })
        : null;
    this.perToken =
      limits.max_in_flight_per_token !== undefined
        ? new ConcurrencyLimiter(limits.max_in_flight_per_token)
        : null;
  }

  /** Requests admitted and not yet released. */
  get pending(): number {
    return this.inFlight;
  }

  /**
   * Admit one request of `callerId` ('anonymous' when auth is off: no per-token limits); call release() when
   * it ends.
   */
  admit(callerId: string): Admission {
    if (this.inFlight >= this.limits.max_in_flight || this.overMemory())
      return { ok: false, error: overloadedError(1) };
    const perCaller = callerId !== 'anonymous';
    if (this.buckets !== null && perCaller) {
      const decision = this.buckets.take(callerId);
      if (!decision.ok) return { ok: false, error: rateLimitedError(decision.retryAfterSeconds) };
    }
    let releaseToken: (() => void) | undefined;
    if (this.perToken !== null && perCaller) {
      const decision = this.perToken.tryAcquire(callerId);
      if (!decision.ok)
        return {
          ok: false,
          error: tooManyInFlightError(this.limits.max_in_flight_per_token ?? 0, decision.retryAfterSeconds),
        };
      releaseToken = decision.release;
    }
    this.inFlight += 1;
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        this.inFlight -= 1;
        releaseToken?.();
      },
    };
  }

  private overMemory(): boolean {
    const limit = this.limits.shed_rss_mb;
    if (limit === undefined) return false;
    const now = Date.now();
    if (now - this.rssSampledAt >= RSS_SAMPLE_MS) {
      this.rssBytes = process.memoryUsage.rss();
      this.rssSampledAt = now;
    }
    return this.rssBytes > limit * 1024 * 1024;
  }
}
