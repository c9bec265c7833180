/** Dynamic batching: policy as data, a queue per model version, and a given run function. */
export { DynamicBatcher } from './batcher.js';
export type {
  BatchObserver,
  BatchRequest,
  BatchResult,
  CancelSignal,
  DynamicBatcherOptions,
  RunFunction,
  RunOutput,
} from './batcher-types.js';
export { batchPolicyFromConfig, validateBatchPolicy } from './policy.js';
export type { BatchPolicy } from './policy.js';
export { batchKey, concatBatch, splitBatch } from './batch-tensors.js';
export { computeTimings } from './compute-timings.js';
export type { ComputeTimings } from './compute-timings.js';
