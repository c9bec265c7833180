import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CanaryGuard, qualityDecision } from './canary-guard.js';

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
  const guard = new CanaryGuard(
    'e',
    { min_requests: 10, promote_after_requests: 200, promote_after_seconds: 60 },
    start,
  );
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

test('the quality rule rolls back a canary worse than the champion by more than the allowed drop, once both have enough labels', () => {
  const policy = { quality_metric: 'accuracy' as const, max_quality_drop: 0.05, min_labelled: 50 };
  assert.equal(
    qualityDecision(undefined, { labelled: 500, value: 0.9 }, { labelled: 500, value: 0.1 }),
    undefined,
    'opt-in',
  );
  assert.equal(
    qualityDecision(policy, { labelled: 500, value: 0.9 }, { labelled: 49, value: 0.1 }),
    undefined,
    'too few labels',
  );
  assert.equal(
    qualityDecision(policy, { labelled: 500, value: 0.9 }, { labelled: 60, value: 0.86 }),
    undefined,
    'within the drop',
  );
  const d = qualityDecision(policy, { labelled: 500, value: 0.9 }, { labelled: 60, value: 0.5 });
  assert.equal(d?.action, 'auto_rollback');
  assert.match(
    d?.reason ?? '',
    /canary accuracy 0\.5000 \(60 labelled\) is worse than the champion's 0\.9000/,
  );
  const loss = qualityDecision(
    { quality_metric: 'log_loss', min_labelled: 1 },
    { labelled: 5, value: 0.2 },
    { labelled: 5, value: 0.3 },
  );
  assert.equal(loss?.action, 'auto_rollback', 'lower is better for log loss');
  assert.equal(
    qualityDecision(
      { ...policy, auto_rollback: false },
      { labelled: 500, value: 0.9 },
      { labelled: 60, value: 0.5 },
    ),
    undefined,
  );
});
