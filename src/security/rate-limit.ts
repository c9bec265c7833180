/**
 * Per-token limits: a token bucket for the request rate and a counter for requests in flight, plus
 * the errors they answer with. Both are O(1) per call, keep no timers (time comes from an injected
 * clock, so tests step it by hand) and hold state only for keys seen recently.
 *
 * Over a token's own limit: 429 TEND_RATE_LIMITED. The same ConcurrencyLimiter with one key for the
 * whole server is load shedding: 503 TEND_UNAVAILABLE. Both carry Retry-After.
 */
import { type TendError, errors } from '../core/errors.js';

/** Milliseconds from an arbitrary origin; must never go backwards (performance.now by default). */
export type Clock = () => number;

export interface RateLimit {
  /** Sustained requests per second. */
  ratePerSecond: number;
  /** Requests that may arrive at once after a quiet spell (bucket size). */
  burst: number;
}

export type LimitDecision = { ok: true } | { ok: false; retryAfterSeconds: number };

function checkPositive(value: number, what: string): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw errors.invalidConfig(`${what} must be a positive number (got ${value})`);
  }
}

function checkLimit(limit: RateLimit): void {
  checkPositive(limit.ratePerSecond, 'rate limit requests per second');
  checkPositive(limit.burst, 'rate limit burst');
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

/** Least recently used keys go first once `maxKeys` are held (Map order is insertion order). */
function touch<V>(map: Map<string, V>, key: string, value: V, maxKeys: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > maxKeys) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
}

/**
 * Token-bucket rate limiter keyed by token id. A key forgotten for lack of room starts again with
 * a full bucket, so `maxKeys` should exceed the number of live tokens.
 * @example
 * const limiter = new TokenBucket({ ratePerSecond: 50, burst: 100 });
 * const d = limiter.take(tokenId); if (!d.ok) throw rateLimitedError(d.retryAfterSeconds);
 */
export class TokenBucket {
  private readonly buckets = new Map<string, Bucket>();
  private readonly defaultLimit: RateLimit;
  private readonly now: Clock;
  private readonly maxKeys: number;

  constructor(limit: RateLimit, options: { now?: Clock; maxKeys?: number } = {}) {
    checkLimit(limit);
    this.defaultLimit = { ...limit };
    this.now = options.now ?? (() => performance.now());
    this.maxKeys = options.maxKeys ?? 100_000;
    checkPositive(this.maxKeys, 'maxKeys');
  }

  /** Take `cost` requests' worth from the key's bucket; `limit` overrides the default for this key. */
  take(key: string, cost = 1, limit: RateLimit = this.defaultLimit): LimitDecision {
    if (limit !== this.defaultLimit) checkLimit(limit);
    if (!(cost > 0) || cost > limit.burst) {
      throw errors.invalidArgument(
        `a request cost must be above 0 and at most the burst (${limit.burst}); got ${cost}`,
      );
    }
    const nowMs = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: limit.burst, updatedMs: nowMs };
    const elapsedSeconds = Math.max(0, nowMs - bucket.updatedMs) / 1000;
    bucket.tokens = Math.min(limit.burst, bucket.tokens + elapsedSeconds * limit.ratePerSecond);
    bucket.updatedMs = Math.max(bucket.updatedMs, nowMs);
    touch(this.buckets, key, bucket, this.maxKeys);
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
      return { ok: true };
    }
    return {
      ok: false,
      retryAfterSeconds: Math.max(1, Math.ceil((cost - bucket.tokens) / limit.ratePerSecond)),
    };
  }

  /** Forget a key (a revoked token). */
  forget(key: string): void {
    this.buckets.delete(key);
  }

  get size(): number {
    return this.buckets.size;
  }
}

export type ConcurrencyDecision =
  { ok: true; release: () => void } | { ok: false; retryAfterSeconds: number };

/**
 * Requests in flight per key. `tryAcquire` either admits the request and hands back its `release`
 * (idempotent: calling it twice frees one slot, not two) or refuses at once; nothing waits in line.
 * Keys with nothing in flight are dropped, so the map holds only busy keys.
 */
export class ConcurrencyLimiter {
  private readonly inFlightByKey = new Map<string, number>();
  private readonly defaultLimit: number;
  private readonly retryAfterSeconds: number;

  constructor(maxConcurrent: number, options: { retryAfterSeconds?: number } = {}) {
    checkConcurrency(maxConcurrent);
    this.defaultLimit = maxConcurrent;
    this.retryAfterSeconds = options.retryAfterSeconds ?? 1;
    checkPositive(this.retryAfterSeconds, 'retry-after seconds');
  }

  /** Admit one request for `key` if fewer than `limit` (default: the constructor's) are in flight. */
  tryAcquire(key: string, limit: number = this.defaultLimit): ConcurrencyDecision {
    if (limit !== this.defaultLimit) checkConcurrency(limit);
    const current = this.inFlightByKey.get(key) ?? 0;
    if (current >= limit) return { ok: false, retryAfterSeconds: this.retryAfterSeconds };
    this.inFlightByKey.set(key, current + 1);
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      const n = (this.inFlightByKey.get(key) ?? 1) - 1;
      if (n <= 0) this.inFlightByKey.delete(key);
      else this.inFlightByKey.set(key, n);
    };
    return { ok: true, release };
  }

  inFlight(key: string): number {
    return this.inFlightByKey.get(key) ?? 0;
  }

  /** Keys with at least one request in flight. */
  get busyKeys(): number {
    return this.inFlightByKey.size;
  }
}

function checkConcurrency(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1) {
    throw errors.invalidConfig(`a concurrency limit must be a whole number of at least 1 (got ${limit})`);
  }
}

/** 429 for a token over its request rate. */
export function rateLimitedError(retryAfterSeconds: number): TendError {
  return errors.rateLimited(
    `too many requests for this token; retry in ${retryAfterSeconds} s`,
    retryAfterSeconds,
  );
}

/** 429 for a token with too many requests in flight. */
export function tooManyInFlightError(limit: number, retryAfterSeconds: number): TendError {
  return errors.rateLimited(
    `this token already has ${limit} request(s) in flight; retry in ${retryAfterSeconds} s`,
    retryAfterSeconds,
  );
}

/** 503 when the whole server sheds load. */
export function overloadedError(retryAfterSeconds: number): TendError {
  return errors.unavailable(`the server is overloaded; retry in ${retryAfterSeconds} s`, retryAfterSeconds);
}
