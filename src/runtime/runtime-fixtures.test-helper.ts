/** What the runtime's failure tests share: the digits fixture model, its inputs, and error matchers. */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isTendError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import type { InstanceGroup, LoadRequest, LoadedModel, RunResult } from './index.js';

export const MODELS = fileURLToPath(new URL('../../fixtures/models/', import.meta.url));

/** The digits MLP (pixels FP32 [batch, 64] → logits [batch, 10]) in one thread instance, or in `groups`. */
export function digits(label = 'digits:1', groups?: InstanceGroup[]): LoadRequest {
  return {
    modelPath: join(MODELS, 'digits_mlp.onnx'),
    label,
    ...(groups === undefined ? { instances: 1 } : { groups }),
    session: { graphOptimizationLevel: 'all', intraOpThreads: 1 },
    warmup: [],
  };
}

export function pixels(rows = 2): Tensor[] {
  return [
    { name: 'pixels', datatype: 'FP32', shape: [rows, 64], data: new Float32Array(rows * 64).fill(0.25) },
  ];
}

/** Retry while the model reports TEND_MODEL_NOT_READY (a worker waiting out its restart backoff). */
export async function runWhenReady(model: LoadedModel, inputs: () => Tensor[]): Promise<RunResult> {
  for (;;) {
    try {
      return await model.run(inputs());
    } catch (err) {
      if (!isTendError(err) || err.code !== 'TEND_MODEL_NOT_READY') throw err;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** True while a process with this id exists. */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Wait (polling, up to `limitMs`) until `condition` holds; false if it never did. */
export async function eventually(condition: () => boolean, limitMs = 10_000): Promise<boolean> {
  const until = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > until) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}
