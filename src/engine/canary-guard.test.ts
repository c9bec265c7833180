import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CanaryGuard } from './canary-guard.js';

test('a canary failing 20% of requests is rolled back once min_requests is reached, with the rates in the reason', () => {
  const guard = new CanaryGuard('e', { min_requests: 50 });
  let decision;
  let canaryRequests = 0;
  for (let i = 0; i < 1000 && !decision; i++) {
    guard.observe('champion', true, 1);
    canaryRequests++;
    decision = guard.observe('canary', i % 5 !== 0, 1);
  }
  assert.ok(decision);
  assert.equal(decision.action, 'auto_rollback');
  assert.ok(canaryRequests >= 50);
  assert.match(decision.reason, /canary error rate 2\d\.\d% .* exceeds the champion's 0\.0%/);
  assert.equal(guard.observe('canary', false, 1), undefined, 'one decision only');
});

test('a healthy canary is never rolled back and is promoted after the requests and time asked for', () => {
  const start = 1_000_000;
  const guard = new CanaryGuard('e', { min_requests: 10, promote_after_requests: 200, promote_after_seconds: 60 }, start);
  for (let i = 0; i < 300; i++) {
    guard.observe('champion', i % 50 !== 0, 2);
    assert.equal(guard.observe('canary', i % 50 !== 0, 2, start + 1000), undefined, 'not before 60 s');
  }
  const decision = guard.observe('canary', false, 2, start + 61_000);
  assert.equal(decision?.action, 'auto_promote');
});

test('a canary much slower than the champion is rolled back on p99; auto_rollback false turns the guard off', () => {
  const slow = new CanaryGuard('e', { min_requests: 50, max_p99_ratio: 3 });
  let decision;
  for (let i = 0; i < 500 && !decision; i++) {
    slow.observe('champion', true, 1 + (i % 3));
    decision = slow.observe('canary', true, 20);
  }
  assert.equal(decision?.action, 'auto_rollback');
  assert.match(decision?.reason ?? '', /p99 latency 20\.00 ms is .*× the champion's/);
  const off = new CanaryGuard('e', { min_requests: 10, auto_rollback: false });
  for (let i = 0; i < 500; i++) {
    off.observe('champion', true, 1);
    assert.equal(off.observe('canary', false, 1), undefined);
  }
});
