/**
 * One request on one version: validate it against the version's signature, queue it on the
 * version's batcher, record the outcome (metrics, Triton statistics), and shape the answer
 * (requested outputs, classification). A version swapped out after the request picked it hands
 * the request to its replacement.
 */
import { randomUUID } from 'node:crypto';
import { toTendError } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import type { BatchRequest, BatchResult } from '../../batching/index.js';
import { classify } from './classification.js';
import type { ServedVersion } from './served-version.js';
import { validateInputs, validateRequestedOutputs } from './validate.js';

/** Cancels a request that waits in its batcher's queue (the client went away): it is dropped before it runs. */
export interface CancelSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

export interface InferRequest {
  id?: string;
  inputs: Tensor[];
  /** Output names to return; all when absent. */
  outputs?: string[];
  /** V2 `parameters.priority` (1 = highest level; 0 or absent = the model's default level). */
  priority?: number;
  /** V2 `parameters.timeout`, microseconds allowed in the queue. */
  timeoutUs?: number;
  /** Aborted when the client goes away: the request leaves the queue. */
  signal?: CancelSignal;
  /** Classification extension: output name → k; that output is answered as its top-k classes (BYTES). */
  classification?: Map<string, number>;
}

export interface InferResponse {
  model_name: string;
  model_version: string;
  id: string;
  outputs: Tensor[];
}

const REJECTED_CODES = new Set([
  'TEND_QUEUE_FULL',
  'TEND_QUEUE_TIMEOUT',
  'TEND_UNAVAILABLE',
  'TEND_MODEL_NOT_READY',
]);

/** Run one request through the version's batcher and return the requested outputs (metrics and statistics recorded). */
export async function runOnVersion(requested: ServedVersion, request: InferRequest): Promise<InferResponse> {
  // A version swapped out by a reload after this request resolved it: use its replacement.
  const started = process.hrtime.bigint();
  let target = requested;
  while (!target.isReady && target.replacedBy) target = target.replacedBy;
  let result: BatchResult;
  try {
    const batcher = target.requireBatcher();
    const inputs = validateInputs(
      target.model,
      target.signature,
      target.maxBatchSize,
      request.inputs,
      target.tensorLimits,
    );
    validateRequestedOutputs(target.model, target.signature, request.outputs);
    if (request.classification)
      validateRequestedOutputs(target.model, target.signature, [...request.classification.keys()]);
    const batchRequest: BatchRequest = { inputs };
    if (request.priority !== undefined && request.priority > 0) batchRequest.priority = request.priority;
    if (request.timeoutUs !== undefined && request.timeoutUs > 0) batchRequest.timeoutUs = request.timeoutUs;
    // limits.request_timeout_ms caps whatever the request or the model's policy say: nothing queues forever.
    if (target.requestTimeoutMs !== undefined) batchRequest.maxTimeoutUs = target.requestTimeoutMs * 1000;
    if (request.signal) batchRequest.signal = request.signal;
    result = await batcher.submit(batchRequest);
  } catch (err) {
    const e = toTendError(err);
    if (REJECTED_CODES.has(e.code)) target.metrics.rejected();
    else target.metrics.failure();
    target.stats.requestFailed(Number(process.hrtime.bigint() - started));
    throw e;
  }
  target.metrics.success(result.queueNs, result.computeNs);
  target.stats.requestSucceeded(result.requestBatchSize, Number(process.hrtime.bigint() - started), result);
  const wanted = request.outputs;
  let outputs =
    wanted && wanted.length > 0
      ? wanted
          .map((n) => result.outputs.find((o) => o.name === n))
          .filter((o): o is Tensor => o !== undefined)
      : result.outputs;
  const classification = request.classification;
  if (classification && classification.size > 0) {
    const labels = target.config.labels ?? target.classes;
    outputs = outputs.map((o) => {
      const k = classification.get(o.name);
      return k === undefined ? o : classify(o, k, target.maxBatchSize > 0, labels);
    });
  }
  return {
    model_name: target.model,
    model_version: String(target.version),
    id: request.id ?? randomUUID(),
    outputs,
  };
}

/** A copy of the tensors, for a shadow that runs after the champion has taken the originals. */
export function copyTensors(tensors: readonly Tensor[]): Tensor[] {
  return tensors.map((t) => ({
    name: t.name,
    datatype: t.datatype,
    shape: [...t.shape],
    data: t.data.slice() as Tensor['data'],
  }));
}
