/** A model loaded into one or more worker instances, and how a batch picks its instance. */
import { errors } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import type { ModelInstance } from './model-instance.js';
import type { InstanceCrashMode } from './protocol.js';

export interface RunResult {
  outputs: Tensor[];
  /** Time spent in `session.run` inside the worker, in nanoseconds. */
  computeNs: number;
  /** Index of the instance (worker slot) that ran the batch, counted across instance groups. */
  instance: number;
}

export interface LoadedModel {
  readonly label: string;
  readonly inputNames: string[];
  readonly outputNames: string[];
  /**
   * Run one batch on the least busy instance. To a worker thread, inputs are transferred (the
   * caller's buffers become detached) unless they are views on a larger buffer, which are copied
   * first; to a child process they are copied. Callers must treat inputs as given away either way.
   */
  run(inputs: Tensor[]): Promise<RunResult>;
  /** Release sessions and end the worker threads and child processes; waits for runs in progress. Idempotent. */
  unload(): Promise<void>;
}

/** The LoadedModel that Runtime hands out. */
export class PooledModel implements LoadedModel {
  private unloading: Promise<void> | null = null;

  constructor(
    readonly label: string,
    readonly inputNames: string[],
    readonly outputNames: string[],
    private readonly instances: readonly ModelInstance[],
    private readonly onUnloaded: (model: PooledModel) => void,
  ) {}

  async run(inputs: Tensor[]): Promise<RunResult> {
    if (this.unloading !== null) {
      throw errors.modelNotReady(`model '${this.label}' is unloaded`);
    }
    const instance = this.leastBusy('ready') ?? this.leastBusy('loading');
    if (instance === undefined) {
      const retryAfterSeconds = Math.min(...this.instances.map((i) => i.retryAfterSeconds));
      throw errors.modelNotReady(
        `model '${this.label}' is restarting its workers after failures; retry later`,
        retryAfterSeconds,
      );
    }
    const { outputs, computeNs } = await instance.run(inputs);
    return { outputs, computeNs, instance: instance.index };
  }

  unload(): Promise<void> {
    this.unloading ??= Promise.all(this.instances.map((i) => i.stop())).then(() => this.onUnloaded(this));
    return this.unloading;
  }

  /** Test hook: make the worker thread or child process of one instance fail. */
  crashWorker(mode: InstanceCrashMode, instance: number): void {
    const target = this.instances[instance];
    if (target === undefined) throw new RangeError(`model '${this.label}' has no instance ${instance}`);
    target.crash(mode);
  }

  private leastBusy(state: 'ready' | 'loading'): ModelInstance | undefined {
    let best: ModelInstance | undefined;
    for (const instance of this.instances) {
      if (instance.state === state && (best === undefined || instance.inFlight < best.inFlight))
        best = instance;
    }
    return best;
  }
}
