/**
 * One model version as the server sees it: where its file is, its signature and config,
 * its state, and — once ready — its worker instances and the batcher in front of them.
 */
import type { ModelConfig } from '../../core/config.js';
import {
  DEFAULT_DYNAMIC_BATCHING,
  DEFAULT_MAX_BATCH_SIZE,
  DEFAULT_SESSION_PARAMETERS,
} from '../../core/config.js';
import { errors, toTendError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { ModelSignature } from '../../core/signature.js';
import type { Tensor } from '../../core/tensor.js';
import { isDynamicDim } from '../../core/signature.js';
import { DynamicBatcher, batchPolicyFromConfig } from '../../batching/index.js';
import type { VersionMetrics } from '../../monitor/metrics.js';
import type { VersionStatistics } from '../../monitor/statistics.js';
import { inspectModelBytes, inspectModelFile, type ModelInfo } from '../../onnx/index.js';
import {
  crashWorkerForTest,
  type InstanceCrashMode,
  type LoadedModel,
  type Runtime,
} from '../../runtime/index.js';
import { warmupInputs } from './warmup.js';
import type { TensorLimits } from './validate.js';

export type VersionState = 'LOADING' | 'READY' | 'UNAVAILABLE' | 'UNLOADING';
export type VersionSource = 'registry' | 'repository';

/** max_batch_size from the config, else 64 when every input's first dimension is symbolic, else 0. */
export function inferMaxBatchSize(signature: ModelSignature, config: ModelConfig): number {
  if (config.max_batch_size !== undefined) return config.max_batch_size;
  const batched =
    signature.inputs.length > 0 &&
    signature.inputs.every(
      (s) => s.shape !== null && s.shape.length > 0 && isDynamicDim(s.shape[0] as number | string),
    ) &&
    signature.outputs.every(
      (s) => s.shape === null || (s.shape.length > 0 && isDynamicDim(s.shape[0] as number | string)),
    );
  return batched ? DEFAULT_MAX_BATCH_SIZE : 0;
}

export class ServedVersion {
  state: VersionState = 'LOADING';
  reason = '';
  signature: ModelSignature = { inputs: [], outputs: [] };
  info: ModelInfo | undefined;
  maxBatchSize = 0;
  batcher: DynamicBatcher | undefined;
  /** Class names from the model's `classes` metadata, when it has them. */
  classes: string[] | undefined;
  /** The version that took over when a reload swapped this one out. */
  replacedBy: ServedVersion | undefined;
  /** Worker instances (threads or processes) once loaded. */
  instanceCount = 0;
  private loaded: LoadedModel | undefined;
  private loading: Promise<void> | undefined;

  constructor(
    readonly model: string,
    readonly version: number,
    readonly source: VersionSource,
    readonly path: string,
    readonly config: ModelConfig,
    readonly metrics: VersionMetrics,
    /** Triton-style statistics; shared by every load of this model version, so reloads keep the totals. */
    readonly stats: VersionStatistics,
  ) {}

  /**
   * Checks run before every load (registry hash, signature, file size); a throw makes the version
   * UNAVAILABLE. A model encrypted at rest comes back as its decrypted bytes, loaded from memory.
   */
  loadGuard: (() => Promise<Uint8Array | void>) | undefined;
  /** limits.max_model_nodes. */
  maxNodes: number | undefined;
  /** limits on each input tensor, checked with the signature. */
  tensorLimits: TensorLimits | undefined;
  /** limits.request_timeout_ms: the longest a request may wait in this version's queue. */
  requestTimeoutMs: number | undefined;

  /** Test hook (TEND_FAULT_INJECTION=1 only): make one instance's worker or process fail. */
  injectFault(mode: InstanceCrashMode, instance: number): void {
    if (this.loaded === undefined) throw errors.modelNotReady(`${this.label} is not loaded`);
    crashWorkerForTest(this.loaded, mode, instance);
  }

  get label(): string {
    return `${this.model}:${this.version}`;
  }

  get isReady(): boolean {
    return this.state === 'READY';
  }

  /** Inspect the file, start the workers, warm up, put a batcher in front. Never throws: failures set UNAVAILABLE. */
  load(runtime: Runtime, logger: Logger): Promise<void> {
    this.loading ??= this.doLoad(runtime, logger);
    return this.loading;
  }

  private async doLoad(runtime: Runtime, logger: Logger): Promise<void> {
    this.state = 'LOADING';
    const started = process.hrtime.bigint();
    try {
      // Integrity, signature and size checks come before the file is parsed.
      const bytes = (await this.loadGuard?.()) ?? undefined;
      const info = bytes === undefined ? inspectModelFile(this.path) : inspectModelBytes(bytes);
      if (this.maxNodes !== undefined && info.node_count > this.maxNodes) {
        throw errors.invalidModel(
          `${this.label} has ${info.node_count} graph nodes, more than limits.max_model_nodes (${this.maxNodes}); refusing to load`,
        );
      }
      this.info = info;
      this.signature = info.signature;
      this.maxBatchSize = inferMaxBatchSize(info.signature, this.config);
      this.classes = parseClasses(info.metadata['classes']);
      const params = { ...DEFAULT_SESSION_PARAMETERS, ...this.config.parameters };
      const groups = (this.config.instance_group ?? [{ count: 1, isolation: 'thread' as const }]).map(
        (g) => ({
          count: g.count,
          isolation: g.isolation,
          ...(g.memory_limit_mb !== undefined ? { memoryLimitMb: g.memory_limit_mb } : {}),
          ...(g.hang_timeout_ms !== undefined ? { hangTimeoutMs: g.hang_timeout_ms } : {}),
        }),
      );
      const instances = groups.reduce((n, g) => n + g.count, 0);
      this.instanceCount = instances;
      const session = {
        graphOptimizationLevel: params.graph_optimization_level,
        ...(params.intra_op_thread_count !== undefined && params.intra_op_thread_count > 0
          ? { intraOpThreads: params.intra_op_thread_count }
          : {}),
        ...(params.inter_op_thread_count !== undefined && params.inter_op_thread_count > 0
          ? { interOpThreads: params.inter_op_thread_count }
          : {}),
      };
      this.loaded = await runtime.load({
        modelPath: this.path,
        ...(bytes !== undefined ? { modelBytes: bytes } : {}),
        label: this.label,
        groups,
        session,
        warmup: warmupInputs(info.signature),
        // Zeros are outside some models' valid inputs (Reshape, Slice, Mod…): a failed warm-up is a warning.
        warmupRequired: false,
      });
      const dynamic = this.config.dynamic_batching ?? DEFAULT_DYNAMIC_BATCHING;
      const policy = batchPolicyFromConfig(this.maxBatchSize, dynamic);
      const loaded = this.loaded;
      const stats = this.stats;
      this.batcher = new DynamicBatcher(
        this.label,
        policy,
        (inputs) => loaded.run(inputs).then((r) => ({ outputs: r.outputs, inferNs: r.computeNs })),
        {
          concurrency: instances,
          // Double buffering: a full batch waits inside the worker while the current one runs, so
          // the worker starts it without waiting for the main thread (see DynamicBatcherOptions).
          pipelineDepth: 2,
          observer: {
            batchExecuted: (batchSize, _requests, _ns, ok, timings) => {
              this.metrics.batch(batchSize);
              if (ok && timings) stats.batchExecuted(batchSize, timings);
            },
          },
        },
      );
      this.state = 'READY';
      this.reason = '';
      logger.info(
        {
          model: this.model,
          version: this.version,
          source: this.source,
          instances,
          max_batch_size: this.maxBatchSize,
          load_ms: Number(process.hrtime.bigint() - started) / 1e6,
        },
        'model version ready',
      );
    } catch (err) {
      const e = toTendError(err);
      this.state = 'UNAVAILABLE';
      this.reason = e.message;
      logger.error(
        { model: this.model, version: this.version, code: e.code, err: e.message },
        'model version failed to load',
      );
      if (this.loaded) await this.loaded.unload().catch(() => undefined);
      this.loaded = undefined;
      this.loading = undefined;
    }
  }

  /** Stop taking requests, let queued and running ones finish, release the workers. */
  async unload(): Promise<void> {
    if (this.loading) await this.loading;
    this.state = 'UNLOADING';
    this.reason = 'unloaded';
    await this.batcher?.drain();
    await this.loaded?.unload();
    this.batcher = undefined;
    this.loaded = undefined;
    this.loading = undefined;
    this.state = 'UNAVAILABLE';
  }

  /**
   * Run one batch straight on the version's workers, beside its batcher: for jobs that form their own
   * large batches (explanations push thousands of perturbed rows). The inputs are trusted (the job
   * built them from validated tensors) and given away; a worker queues the batch behind the
   * batcher's, so serving requests wait at most one job batch.
   */
  async runDirect(inputs: Tensor[]): Promise<Tensor[]> {
    this.requireBatcher();
    const loaded = this.loaded;
    if (loaded === undefined)
      throw errors.modelNotReady(`model '${this.model}' version ${this.version} is not loaded`, 1);
    return (await loaded.run(inputs)).outputs;
  }

  /** The batcher, or a 503 naming why the version cannot take requests. */
  requireBatcher(): DynamicBatcher {
    if (this.state === 'READY' && this.batcher) return this.batcher;
    const why =
      this.state === 'LOADING'
        ? 'is still loading'
        : `is not available${this.reason ? `: ${this.reason}` : ''}`;
    throw errors.modelNotReady(`model '${this.model}' version ${this.version} ${why}`, 1);
  }
}

function parseClasses(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(raw);
    if (Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number'))
      return value.map(String);
  } catch {
    // metadata written by other tools may hold anything: no classes then
  }
  return undefined;
}
