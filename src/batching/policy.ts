/**
 * The batching policy as plain data (Triton's dynamic batcher fields, in microseconds), built from
 * a model's config and checked once so the batcher itself can trust every number.
 */
import { DEFAULT_DYNAMIC_BATCHING } from '../core/config.js';
import type { DynamicBatchingConfig } from '../core/config.js';
import { errors } from '../core/errors.js';

export interface BatchPolicy {
  /** 0 = the model has no batch dimension: requests run one at a time, shapes untouched. */
  maxBatchSize: number;
  /** false = no dynamic batching: each request runs alone (still queued, still limited by concurrency). */
  dynamicBatching: boolean;
  /** 0: dispatch what is already waiting as soon as an execution slot is free. */
  maxQueueDelayUs: number;
  /**
   * Sizes the model runs best: a batch is cut to the largest one the queue can fill (with or without
   * a delay); with a delay > 0 a batch goes as soon as one is reachable.
   */
  preferredBatchSizes: number[];
  /** 0 = unbounded; a submit beyond it rejects with TEND_QUEUE_FULL (retryAfterSeconds). */
  maxQueueSize: number;
  /** 0 = none; a request still queued after it rejects with TEND_QUEUE_TIMEOUT (504). */
  defaultTimeoutUs: number;
  /** >= 1; level 1 is the highest. */
  priorityLevels: number;
  defaultPriorityLevel: number;
}

/**
 * Build a BatchPolicy from a ModelConfig's `max_batch_size` and `dynamic_batching` fields.
 * `undefined` means the config left dynamic batching at its defaults; `false` turns it off.
 * @example batchPolicyFromConfig(config.max_batch_size ?? 0, config.dynamic_batching)
 */
export function batchPolicyFromConfig(
  maxBatchSize: number,
  dynamicBatching: DynamicBatchingConfig | false | undefined,
): BatchPolicy {
  const enabled = dynamicBatching !== false;
  const cfg = enabled && dynamicBatching !== undefined ? dynamicBatching : DEFAULT_DYNAMIC_BATCHING;
  const policy: BatchPolicy = {
    maxBatchSize,
    dynamicBatching: enabled,
    // Without dynamic batching there is nothing to wait for.
    maxQueueDelayUs: enabled ? cfg.max_queue_delay_microseconds : 0,
    preferredBatchSizes: enabled ? [...cfg.preferred_batch_size] : [],
    maxQueueSize: cfg.max_queue_size,
    defaultTimeoutUs: cfg.default_timeout_microseconds,
    priorityLevels: cfg.priority_levels,
    defaultPriorityLevel: cfg.default_priority_level ?? cfg.priority_levels,
  };
  validateBatchPolicy(policy);
  return policy;
}

function isNonNegativeInt(value: number): boolean {
  return Number.isInteger(value) && value >= 0;
}

/** Throw TEND_INVALID_CONFIG (naming the config field) unless every field of the policy is usable. */
export function validateBatchPolicy(policy: BatchPolicy): void {
  const fail = (message: string): never => {
    throw errors.invalidConfig(message);
  };
  if (!isNonNegativeInt(policy.maxBatchSize)) {
    fail(`max_batch_size must be an integer >= 0, got ${policy.maxBatchSize}`);
  }
  if (!(Number.isFinite(policy.maxQueueDelayUs) && policy.maxQueueDelayUs >= 0)) {
    fail(`dynamic_batching.max_queue_delay_microseconds must be >= 0, got ${policy.maxQueueDelayUs}`);
  }
  if (!isNonNegativeInt(policy.maxQueueSize)) {
    fail(`dynamic_batching.max_queue_size must be an integer >= 0, got ${policy.maxQueueSize}`);
  }
  if (!(Number.isFinite(policy.defaultTimeoutUs) && policy.defaultTimeoutUs >= 0)) {
    fail(`dynamic_batching.default_timeout_microseconds must be >= 0, got ${policy.defaultTimeoutUs}`);
  }
  if (!(Number.isInteger(policy.priorityLevels) && policy.priorityLevels >= 1)) {
    fail(`dynamic_batching.priority_levels must be an integer >= 1, got ${policy.priorityLevels}`);
  }
  const level = policy.defaultPriorityLevel;
  if (!(Number.isInteger(level) && level >= 1 && level <= policy.priorityLevels)) {
    fail(
      `dynamic_batching.default_priority_level must be an integer from 1 to ${policy.priorityLevels}, got ${level}`,
    );
  }
  for (const size of policy.preferredBatchSizes) {
    if (!(Number.isInteger(size) && size >= 1)) {
      fail(`dynamic_batching.preferred_batch_size entries must be integers >= 1, got ${size}`);
    }
    if (policy.maxBatchSize === 0) {
      fail(
        'dynamic_batching.preferred_batch_size needs max_batch_size > 0 (the model has no batch dimension)',
      );
    }
    if (size > policy.maxBatchSize) {
      fail(`dynamic_batching.preferred_batch_size ${size} exceeds max_batch_size ${policy.maxBatchSize}`);
    }
  }
}
