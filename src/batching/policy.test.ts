import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DynamicBatchingSchema } from '../core/config.js';
import { TendError } from '../core/errors.js';
import { batchPolicyFromConfig, validateBatchPolicy } from './policy.js';
import type { BatchPolicy } from './policy.js';

const invalidConfig = (fragment: string) => (e: unknown) =>
  e instanceof TendError && e.code === 'TEND_INVALID_CONFIG' && e.message.includes(fragment);

test('batchPolicyFromConfig maps the config fields, defaulting to the lowest priority level', () => {
  const cfg = DynamicBatchingSchema.parse({
    max_queue_delay_microseconds: 500,
    preferred_batch_size: [4, 8],
    max_queue_size: 10,
    default_timeout_microseconds: 2000,
    priority_levels: 3,
  });
  assert.deepEqual(batchPolicyFromConfig(8, cfg), {
    maxBatchSize: 8,
    dynamicBatching: true,
    maxQueueDelayUs: 500,
    preferredBatchSizes: [4, 8],
    maxQueueSize: 10,
    defaultTimeoutUs: 2000,
    priorityLevels: 3,
    defaultPriorityLevel: 3,
  });
  assert.equal(batchPolicyFromConfig(8, { ...cfg, default_priority_level: 1 }).defaultPriorityLevel, 1);
});

test('dynamic_batching false turns batching off; undefined means the defaults', () => {
  const off = batchPolicyFromConfig(16, false);
  assert.equal(off.dynamicBatching, false);
  assert.equal(off.maxQueueDelayUs, 0);
  assert.deepEqual(off.preferredBatchSizes, []);
  assert.equal(off.maxQueueSize, 1024);
  const defaults = batchPolicyFromConfig(0, undefined);
  assert.equal(defaults.dynamicBatching, true);
  assert.equal(defaults.maxBatchSize, 0);
  assert.equal(defaults.priorityLevels, 1);
  assert.equal(defaults.defaultPriorityLevel, 1);
});

test('inconsistent configs are rejected with TEND_INVALID_CONFIG naming the field', () => {
  const cfg = DynamicBatchingSchema.parse({});
  assert.throws(
    () => batchPolicyFromConfig(4, { ...cfg, preferred_batch_size: [8] }),
    invalidConfig('exceeds max_batch_size 4'),
  );
  assert.throws(
    () => batchPolicyFromConfig(0, { ...cfg, preferred_batch_size: [2] }),
    invalidConfig('needs max_batch_size > 0'),
  );
  assert.throws(
    () => batchPolicyFromConfig(4, { ...cfg, priority_levels: 2, default_priority_level: 3 }),
    invalidConfig('default_priority_level'),
  );
  assert.throws(() => batchPolicyFromConfig(-1, cfg), invalidConfig('max_batch_size'));
});

test('validateBatchPolicy checks every numeric field', () => {
  const good: BatchPolicy = batchPolicyFromConfig(4, undefined);
  validateBatchPolicy(good);
  const cases: [Partial<BatchPolicy>, string][] = [
    [{ maxBatchSize: 1.5 }, 'max_batch_size'],
    [{ maxQueueDelayUs: -1 }, 'max_queue_delay_microseconds'],
    [{ maxQueueSize: Number.NaN }, 'max_queue_size'],
    [{ defaultTimeoutUs: Number.POSITIVE_INFINITY }, 'default_timeout_microseconds'],
    [{ priorityLevels: 0 }, 'priority_levels'],
    [{ defaultPriorityLevel: 0 }, 'default_priority_level'],
    [{ preferredBatchSizes: [0] }, 'preferred_batch_size'],
  ];
  for (const [over, field] of cases) {
    assert.throws(() => validateBatchPolicy({ ...good, ...over }), invalidConfig(field));
  }
});
