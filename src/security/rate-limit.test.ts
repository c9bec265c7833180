import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TendError } from '../core/errors.js';
import {
  ConcurrencyLimiter,
  TokenBucket,
  overloadedError,
  rateLimitedError,
  tooManyInFlightError,
} from './rate-limit.js';

function manualClock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

function code(fn: () => unknown, expected: string): void {
  assert.throws(fn, (err: unknown) => err instanceof TendError && err.code === expected);
}

test('TokenBucket allows the burst at once, then the sustained rate, with a retry-after hint', () => {
  const clock = manualClock();
  const bucket = new TokenBucket({ ratePerSecond: 2, burst: 3 }, { now: clock.now });
  for (let i = 0; i < 3; i++) assert.deepEqual(bucket.take('a'), { ok: true });
  assert.deepEqual(bucket.take('a'), { ok: false, retryAfterSeconds: 1 });
  clock.advance(499);
  assert.equal(bucket.take('a').ok, false);
  clock.advance(1); // 0.5 s at 2/s: one request
  assert.deepEqual(bucket.take('a'), { ok: true });
  assert.equal(bucket.take('a').ok, false);
  clock.advance(60_000); // refills only up to the burst
  for (let i = 0; i < 3; i++) assert.equal(bucket.take('a').ok, true);
  assert.equal(bucket.take('a').ok, false);
});

test('TokenBucket keys are independent; per-key limits override the default', () => {
  const clock = manualClock();
  const bucket = new TokenBucket({ ratePerSecond: 1, burst: 1 }, { now: clock.now });
  assert.equal(bucket.take('a').ok, true);
  assert.equal(bucket.take('a').ok, false);
  assert.equal(bucket.take('b').ok, true);
  const generous = { ratePerSecond: 100, burst: 5 };
  for (let i = 0; i < 5; i++) assert.equal(bucket.take('vip', 1, generous).ok, true);
  assert.equal(bucket.take('vip', 1, generous).ok, false);
});

test('TokenBucket retry-after rounds up to whole seconds for slow rates and large costs', () => {
  const clock = manualClock();
  const bucket = new TokenBucket({ ratePerSecond: 0.1, burst: 4 }, { now: clock.now });
  assert.equal(bucket.take('a', 4).ok, true);
  assert.deepEqual(bucket.take('a'), { ok: false, retryAfterSeconds: 10 });
  assert.deepEqual(bucket.take('a', 3), { ok: false, retryAfterSeconds: 30 });
  clock.advance(10_000);
  assert.equal(bucket.take('a').ok, true);
});

test('TokenBucket tolerates a clock that stands still or steps back', () => {
  const clock = manualClock();
  const bucket = new TokenBucket({ ratePerSecond: 1, burst: 1 }, { now: clock.now });
  assert.equal(bucket.take('a').ok, true);
  clock.advance(-5000);
  assert.equal(bucket.take('a').ok, false);
});

test('TokenBucket forgets the least recently used key beyond maxKeys', () => {
  const clock = manualClock();
  const bucket = new TokenBucket({ ratePerSecond: 1, burst: 1 }, { now: clock.now, maxKeys: 2 });
  bucket.take('a');
  bucket.take('b');
  bucket.take('a'); // a is now the most recent
  bucket.take('c'); // evicts b
  assert.equal(bucket.size, 2);
  assert.equal(bucket.take('b').ok, true); // b starts again with a full bucket
  assert.equal(bucket.take('c').ok, false); // c was kept
  bucket.forget('c');
  assert.equal(bucket.take('c').ok, true);
});

test('TokenBucket refuses bad limits and costs', () => {
  code(() => new TokenBucket({ ratePerSecond: 0, burst: 1 }), 'TEND_INVALID_CONFIG');
  code(() => new TokenBucket({ ratePerSecond: 1, burst: -1 }), 'TEND_INVALID_CONFIG');
  code(() => new TokenBucket({ ratePerSecond: Number.NaN, burst: 1 }), 'TEND_INVALID_CONFIG');
  code(() => new TokenBucket({ ratePerSecond: 1, burst: 1 }, { maxKeys: 0 }), 'TEND_INVALID_CONFIG');
  const bucket = new TokenBucket({ ratePerSecond: 1, burst: 2 });
  code(() => bucket.take('a', 3), 'TEND_INVALID_ARGUMENT');
  code(() => bucket.take('a', 0), 'TEND_INVALID_ARGUMENT');
  code(() => bucket.take('a', 1, { ratePerSecond: Infinity, burst: 1 }), 'TEND_INVALID_CONFIG');
});

test('ConcurrencyLimiter admits up to the limit per key and frees slots on release', () => {
  const limiter = new ConcurrencyLimiter(2, { retryAfterSeconds: 2 });
  const first = limiter.tryAcquire('a');
  const second = limiter.tryAcquire('a');
  assert.ok(first.ok && second.ok);
  assert.deepEqual(limiter.tryAcquire('a'), { ok: false, retryAfterSeconds: 2 });
  assert.equal(limiter.tryAcquire('b').ok, true);
  assert.equal(limiter.inFlight('a'), 2);
  first.release();
  first.release(); // idempotent: frees one slot, not two
  assert.equal(limiter.inFlight('a'), 1);
  const third = limiter.tryAcquire('a');
  assert.equal(third.ok, true);
  assert.equal(limiter.tryAcquire('a').ok, false);
  second.release();
  if (third.ok) third.release();
  assert.equal(limiter.inFlight('a'), 0);
  assert.equal(limiter.busyKeys, 1); // only b; idle keys are dropped
});

test('ConcurrencyLimiter per-key limits and bad limits', () => {
  const limiter = new ConcurrencyLimiter(1);
  assert.equal(limiter.tryAcquire('k', 3).ok, true);
  assert.equal(limiter.tryAcquire('k', 3).ok, true);
  assert.equal(limiter.tryAcquire('k', 3).ok, true);
  assert.deepEqual(limiter.tryAcquire('k', 3), { ok: false, retryAfterSeconds: 1 });
  code(() => new ConcurrencyLimiter(0), 'TEND_INVALID_CONFIG');
  code(() => new ConcurrencyLimiter(1.5), 'TEND_INVALID_CONFIG');
  code(() => new ConcurrencyLimiter(1, { retryAfterSeconds: 0 }), 'TEND_INVALID_CONFIG');
  code(() => limiter.tryAcquire('k', -1), 'TEND_INVALID_CONFIG');
});

test('limit errors: 429 per token, 503 for load shedding, both with Retry-After', () => {
  const limited = rateLimitedError(3);
  assert.equal(limited.code, 'TEND_RATE_LIMITED');
  assert.equal(limited.status, 429);
  assert.equal(limited.retryAfterSeconds, 3);
  assert.equal(limited.isUserError, true);
  const inFlight = tooManyInFlightError(4, 1);
  assert.equal(inFlight.status, 429);
  assert.match(inFlight.message, /4 request\(s\) in flight/);
  const shed = overloadedError(2);
  assert.equal(shed.status, 503);
  assert.equal(shed.code, 'TEND_UNAVAILABLE');
  assert.equal(shed.retryAfterSeconds, 2);
});
