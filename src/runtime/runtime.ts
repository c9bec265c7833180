/**
 * The runtime: loads models into worker threads or child processes (each with its own onnxruntime
 * session) and keeps them serving. session.run blocks its thread, so it never runs on the caller's thread.
 */
import { errors, TendError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import type { Tensor } from '../core/tensor.js';
import { FAULT_INJECTION_ENV, faultInjectionEnabled } from './fault-injection.js';
import { PooledModel, type LoadedModel } from './loaded-model.js';
import { ModelInstance, type InstanceIsolation } from './model-instance.js';
import type { InstanceCrashMode, WorkerInit } from './protocol.js';
import type { SessionSettings } from './session-settings.js';

/**
 * A group of identical instances. `thread` (fastest): worker threads in this process; a native
 * crash there (abort, SIGSEGV) ends the whole process, and a hung run is never cut short.
 * `process`: one child process per instance; a crash, a batch running past `hangTimeoutMs` or a
 * resident set over `memoryLimitMb` fails only that instance's in-flight batches, and it restarts
 * with backoff.
 */
export interface InstanceGroup {
  count: number;
  isolation: 'thread' | 'process';
  /** process only: SIGKILL and restart when the child's resident memory passes this many MiB (Linux). */
  memoryLimitMb?: number;
  /** process only: SIGKILL and restart when one batch runs longer than this (default 30 000 ms). */
  hangTimeoutMs?: number;
}

export interface LoadRequest {
  /** An .onnx file on disk (external data next to it is resolved by ORT). */
  modelPath: string;
  /**
   * The model's bytes, loaded instead of reading modelPath (a model encrypted at rest, decrypted in
   * memory only); such a model cannot use external data. Each instance gets a copy.
   */
  modelBytes?: Uint8Array;
  /** 'name:version' for messages and logs. */
  label: string;
  /**
   * Worker threads, each with its own session: the same as one thread group of this count. Ignored when
   * `groups` is set.
   */
  instances?: number;
  /** Instance groups (instance indexes count up across them, in order). */
  groups?: InstanceGroup[];
  session: SessionSettings;
  /** One warm-up run per instance before the model counts as ready; [] = skip. */
  warmup: Tensor[];
  /**
   * Whether a failed warm-up run fails the load (default true). Synthetic warm-up data (zeros) is
   * outside the valid domain of some models (Reshape, Slice, Resize, Mod…): those pass false and the
   * failure is logged as a warning.
   */
  warmupRequired?: boolean;
}

export interface RuntimeOptions {
  logger?: Logger;
}

export class Runtime {
  private readonly logger: Logger;
  private readonly models = new Set<PooledModel>();
  private closed = false;

  constructor(options: RuntimeOptions = {}) {
    this.logger = (options.logger ?? silentLogger).child({ component: 'runtime' });
  }

  /**
   * Start the instances (worker threads or child processes), create a session in each, run the
   * warm-up; reject with TEND_MODEL_LOAD_FAILED (naming the label and ORT's reason) if any step
   * fails, leaving no worker behind. Bad instance counts or limits: TEND_INVALID_ARGUMENT.
   */
  async load(request: LoadRequest): Promise<LoadedModel> {
    if (this.closed) throw errors.unavailable('the runtime is closed');
    const isolations = this.instanceIsolations(request);
    const init: WorkerInit = {
      label: request.label,
      modelPath: request.modelPath,
      ...(request.modelBytes !== undefined ? { modelBytes: request.modelBytes } : {}),
      session: request.session,
      warmup: request.warmup,
      warmupRequired: request.warmupRequired ?? true,
    };
    const instances = isolations.map((isolation, i) => new ModelInstance(i, init, this.logger, isolation));
    const started = await Promise.allSettled(instances.map((instance) => instance.start()));
    const names = started[0];
    const failure = started.find((result) => result.status === 'rejected');
    if (failure !== undefined || names === undefined || names.status !== 'fulfilled') {
      await Promise.all(instances.map((instance) => instance.stop()));
      const reason: unknown = failure?.reason;
      this.logger.error(
        { model: request.label, err: reason instanceof Error ? reason.message : String(reason) },
        'model load failed',
      );
      throw reason instanceof TendError
        ? reason
        : errors.modelLoadFailed(`failed to load model '${request.label}': ${String(reason)}`);
    }
    const model = new PooledModel(
      request.label,
      names.value.inputNames,
      names.value.outputNames,
      instances,
      (m) => {
        this.models.delete(m);
        this.logger.info({ model: m.label }, 'model unloaded');
      },
    );
    if (this.closed) {
      // close() ran while this model was loading and could not see it.
      await model.unload();
      throw errors.unavailable('the runtime was closed while the model was loading');
    }
    this.models.add(model);
    this.logger.info(
      {
        model: request.label,
        instances: instances.length,
        process_instances: isolations.filter((i) => i.isolation === 'process').length,
      },
      'model loaded',
    );
    return model;
  }

  /** One isolation per instance, from `groups` or `instances`; throws TEND_INVALID_ARGUMENT. */
  private instanceIsolations(request: LoadRequest): InstanceIsolation[] {
    if (request.groups === undefined) {
      const count = request.instances;
      if (count === undefined || !Number.isInteger(count) || count < 1) {
        throw errors.invalidArgument(`instances must be a positive integer, got ${count}`);
      }
      return Array.from({ length: count }, (): InstanceIsolation => ({ isolation: 'thread' }));
    }
    if (request.groups.length === 0)
      throw errors.invalidArgument(`model '${request.label}' has an empty list of instance groups`);
    return request.groups.flatMap((group, g) => {
      if (!Number.isInteger(group.count) || group.count < 1) {
        throw errors.invalidArgument(
          `instance group ${g}: count must be a positive integer, got ${group.count}`,
        );
      }
      for (const [key, value] of [
        ['memoryLimitMb', group.memoryLimitMb],
        ['hangTimeoutMs', group.hangTimeoutMs],
      ] as const) {
        if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
          throw errors.invalidArgument(`instance group ${g}: ${key} must be a positive number, got ${value}`);
        }
      }
      return Array.from({ length: group.count }, () => this.isolationOf(request.label, group));
    });
  }

  private isolationOf(label: string, group: InstanceGroup): InstanceIsolation {
    if (group.isolation === 'thread') {
      if (group.memoryLimitMb !== undefined || group.hangTimeoutMs !== undefined) {
        // A thread can be neither measured nor stopped on its own: the limits need a process.
        this.logger.warn(
          { model: label },
          'memory_limit_mb and hang_timeout_ms apply only to isolation: process; ignored for a thread group',
        );
      }
      return { isolation: 'thread' };
    }
    if (group.memoryLimitMb !== undefined && process.platform !== 'linux') {
      this.logger.warn(
        { model: label },
        'memory_limit_mb is enforced only on Linux (read from /proc); ignored here',
      );
    }
    return {
      isolation: 'process',
      ...(group.memoryLimitMb !== undefined ? { memoryLimitMb: group.memoryLimitMb } : {}),
      ...(group.hangTimeoutMs !== undefined ? { hangTimeoutMs: group.hangTimeoutMs } : {}),
    };
  }

  /** Unload everything. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.models].map((model) => model.unload()));
  }
}

/**
 * Fault injection: make the worker thread or child process behind one instance of `model` fail
 * (see InstanceCrashMode; 'abort' in a thread instance ends this whole process). Only when this
 * process runs with TEND_FAULT_INJECTION=1 (the workers and children inherit it), else TEND_FORBIDDEN.
 */
export function crashWorkerForTest(model: LoadedModel, mode: InstanceCrashMode, instance = 0): void {
  if (!faultInjectionEnabled()) {
    throw errors.forbidden(
      `fault injection is disabled — start tend with ${FAULT_INJECTION_ENV}=1 to allow it`,
    );
  }
  if (!(model instanceof PooledModel)) throw new TypeError('not a model loaded by Runtime');
  model.crashWorker(mode, instance);
}
