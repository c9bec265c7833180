/** Dynamic batching: policy as data, a queue per model version, and a given run function. */
export { DynamicBatcher } from './batcher.js';
export type { BatchRequest, BatchResult } from './batcher-types.js';
export { batchPolicyFromConfig } from './policy.js';
export { batchKey, concatBatch, splitBatch } from './batch-tensors.js';
