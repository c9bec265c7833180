/**
 * The runtime: loads models into worker threads (each with its own onnxruntime session) and keeps
 * them serving. session.run blocks its thread, so it never runs on the caller's thread.
 */
import { errors, TendError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import type { Tensor } from '../core/tensor.js';
import { PooledModel, type LoadedModel } from './loaded-model.js';
import { ModelInstance } from './model-instance.js';
import type { WorkerCrashMode, WorkerInit } from './protocol.js';
import type { SessionSettings } from './session-settings.js';

export interface LoadRequest {
  /** An .onnx file on disk (external data next to it is resolved by ORT). */
  modelPath: string;
  /** 'name:version' for messages and logs. */
  label: string;
  /** Worker threads, each with its own session. */
  instances: number;
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
   * Start `instances` workers, create a session in each, run the warm-up; reject with
   * TEND_MODEL_LOAD_FAILED (naming the label and ORT's reason) if any step fails, leaving no worker behind.
   */
  async load(request: LoadRequest): Promise<LoadedModel> {
    if (this.closed) throw new TendError('TEND_UNAVAILABLE', 'the runtime is closed');
    if (!Number.isInteger(request.instances) || request.instances < 1) {
      throw errors.invalidArgument(`instances must be a positive integer, got ${request.instances}`);
    }
    const init: WorkerInit = {
      label: request.label,
      modelPath: request.modelPath,
      session: request.session,
      warmup: request.warmup,
      warmupRequired: request.warmupRequired ?? true,
    };
    const instances = Array.from({ length: request.instances }, (_, i) => new ModelInstance(i, init, this.logger));
    const started = await Promise.allSettled(instances.map((instance) => instance.start()));
    const names = started[0];
    const failure = started.find((result) => result.status === 'rejected');
    if (failure !== undefined || names === undefined || names.status !== 'fulfilled') {
      await Promise.all(instances.map((instance) => instance.stop()));
      const reason: unknown = failure?.reason;
      this.logger.error({ model: request.label, err: reason instanceof Error ? reason.message : String(reason) }, 'model load failed');
      throw reason instanceof TendError
        ? reason
        : new TendError('TEND_MODEL_LOAD_FAILED', `failed to load model '${request.label}': ${String(reason)}`);
    }
    const model = new PooledModel(request.label, names.value.inputNames, names.value.outputNames, instances, (m) => {
      this.models.delete(m);
      this.logger.info({ model: m.label }, 'model unloaded');
    });
    if (this.closed) {
      // close() ran while this model was loading and could not see it.
      await model.unload();
      throw new TendError('TEND_UNAVAILABLE', 'the runtime was closed while the model was loading');
    }
    this.models.add(model);
    this.logger.info({ model: request.label, instances: request.instances }, 'model loaded');
    return model;
  }

  /** Unload everything. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.models].map((model) => model.unload()));
  }
}

/** Test hook: kill the worker behind one instance of `model` (exit, uncaught throw, or terminate). */
export function crashWorkerForTest(model: LoadedModel, mode: WorkerCrashMode | 'terminate', instance = 0): void {
  if (!(model instanceof PooledModel)) throw new TypeError('not a model loaded by Runtime');
  model.crashWorker(mode, instance);
}
