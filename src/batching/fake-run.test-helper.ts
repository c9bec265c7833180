/**
 * A fake `run` for the batcher's tests: it records every batch it is given, can be held until the
 * test releases it, and fails when an FP32 input holds the marker value -1.
 *
 * Outputs, per input `x`: `x_out` with every element doubled (FP32/INT32), plus one (INT64), or
 * upper-cased (BYTES); and one scalar FP32 `call` holding the call's index (same for the whole batch).
 * With `inferNs` set, every result reports that as the model's own run time.
 */
import assert from 'node:assert/strict';
import { TendError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import type { BatchResult, DynamicBatcher, RunFunction, RunOutput } from './batcher.js';
import type { BatchPolicy } from './policy.js';

export const FAIL_MARKER = -1;

export class FakeRun {
  /** Inputs of every call, in call order. */
  readonly calls: Tensor[][] = [];
  /** Outputs of every successful call, in call order. */
  readonly outputs: Tensor[][] = [];
  inFlight = 0;
  /** Reported as RunOutput.inferNs when set. */
  inferNs: number | undefined = undefined;
  maxInFlight = 0;
  private held = false;
  private readonly waiting: (() => void)[] = [];
  private readonly callWatchers: { count: number; resolve: () => void }[] = [];

  /** Dim 0 of the first input of each call. */
  get batchSizes(): number[] {
    return this.calls.map((inputs) => inputs[0]?.shape[0] ?? 0);
  }

  /** Make later calls wait until release(). */
  hold(): void {
    this.held = true;
  }

  /** Let every waiting call finish, and later ones run straight through. */
  release(): void {
    this.held = false;
    for (const go of this.waiting.splice(0)) go();
  }

  /** Resolves once run has been called `count` times in all. */
  waitForCalls(count: number): Promise<void> {
    if (this.calls.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.callWatchers.push({ count, resolve }));
  }

  readonly run: RunFunction = (inputs) => {
    const index = this.calls.length;
    this.calls.push(inputs);
    for (const w of this.callWatchers.filter((x) => x.count <= this.calls.length)) {
      this.callWatchers.splice(this.callWatchers.indexOf(w), 1);
      w.resolve();
    }
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const gate = this.held ? new Promise<void>((go) => this.waiting.push(go)) : Promise.resolve();
    return gate.then(() => {
      this.inFlight--;
      const result = compute(inputs, index);
      if (this.inferNs !== undefined) result.inferNs = this.inferNs;
      this.outputs.push(result.outputs);
      return result;
    });
  };
}

function compute(inputs: Tensor[], index: number): RunOutput {
  const outputs: Tensor[] = [];
  for (const t of inputs) {
    const d = t.data;
    let data: Tensor['data'];
    if (Array.isArray(d)) data = d.map((s) => s.toUpperCase());
    else if (d instanceof BigInt64Array) data = d.map((v) => v + 1n);
    else if (d instanceof Float32Array) {
      if (d.includes(FAIL_MARKER)) throw new TendError('TEND_INFERENCE_FAILED', `marker in '${t.name}'`);
      data = d.map((v) => v * 2);
    } else if (d instanceof Int32Array) data = d.map((v) => v * 2);
    else throw new TendError('TEND_INTERNAL', `fake run cannot handle ${t.datatype}`);
    outputs.push({ name: `${t.name}_out`, datatype: t.datatype, shape: t.shape.slice(), data });
  }
  outputs.push({ name: 'call', datatype: 'FP32', shape: [], data: new Float32Array([index]) });
  return { outputs };
}

/** An FP32 tensor `x` with `rows` rows of `width` values, from `values` (flat). */
export function fp32(values: number[], width: number, name = 'x'): Tensor {
  return { name, datatype: 'FP32', shape: [values.length / width, width], data: new Float32Array(values) };
}

/** A policy for tests: batching on, max 8, no delay, unbounded queue, one priority level. */
export function testPolicy(over: Partial<BatchPolicy> = {}): BatchPolicy {
  return {
    maxBatchSize: 8,
    dynamicBatching: true,
    maxQueueDelayUs: 0,
    preferredBatchSizes: [],
    maxQueueSize: 0,
    defaultTimeoutUs: 0,
    priorityLevels: 1,
    defaultPriorityLevel: 1,
    ...over,
  };
}

/** The elements of an FP32 tensor as plain numbers. */
export function values(t: Tensor | undefined): number[] {
  assert.ok(t !== undefined);
  return Array.from(t.data as Float32Array);
}

/** Submit one small request (while `run` is held, the first one occupies the only slot). */
export function blocker(batcher: DynamicBatcher): Promise<BatchResult> {
  return batcher.submit({ inputs: [fp32([0, 0], 2)] });
}
