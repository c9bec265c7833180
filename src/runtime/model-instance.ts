/**
 * One instance of a loaded model: a slot that outlives its worker thread or child process. When
 * that dies the slot starts a new one and loads the session again, right away the first time, then
 * with exponential backoff while failures follow each other without a successful run in between.
 */
import { errors } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Tensor } from '../core/tensor.js';
import type { BackendExit, InstanceBackend, WorkerNames, WorkerRunResult } from './instance-backend.js';
import { DEFAULT_HANG_TIMEOUT_MS, ModelProcess } from './model-process.js';
import { ModelWorker } from './model-worker.js';
import type { InstanceCrashMode, WorkerInit } from './protocol.js';

const FIRST_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 30_000;

/** loading: a worker is creating its session (runs sent now wait for it); backoff: no worker until the timer fires. */
export type InstanceState = 'loading' | 'ready' | 'backoff' | 'stopped';

/** Where an instance runs its session: a worker thread, or a child process with its limits. */
export interface InstanceIsolation {
  isolation: 'thread' | 'process';
  /** process only: SIGKILL and restart when the resident set passes this (MiB). */
  memoryLimitMb?: number;
  /** process only: SIGKILL and restart when one batch runs longer than this (default DEFAULT_HANG_TIMEOUT_MS). */
  hangTimeoutMs?: number;
}

const THREAD: InstanceIsolation = { isolation: 'thread' };

export class ModelInstance {
  private current: InstanceBackend | null = null;
  private status: InstanceState = 'loading';
  private supervised = false;
  private consecutiveFailures = 0;
  private restartTimer: NodeJS.Timeout | null = null;
  private restartAtMs = 0;

  constructor(
    readonly index: number,
    private readonly init: WorkerInit,
    private readonly logger: Logger,
    readonly isolation: InstanceIsolation = THREAD,
  ) {}

  get state(): InstanceState {
    return this.status;
  }

  get inFlight(): number {
    return this.current?.inFlight ?? 0;
  }

  /** Seconds until the next restart attempt while in backoff. */
  get retryAfterSeconds(): number {
    return Math.max(1, Math.ceil((this.restartAtMs - Date.now()) / 1000));
  }

  /** Start the first worker; resolves once its session is loaded and warmed up. Not restarted on failure. */
  async start(): Promise<WorkerNames> {
    let worker: InstanceBackend;
    try {
      worker = this.spawn();
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw errors.modelLoadFailed(`failed to load model '${this.init.label}': ${reason}`, { cause: err });
    }
    const names = await worker.ready();
    if (names.warmupError !== undefined) {
      this.logger.warn(
        { model: this.init.label, instance: this.index, err: names.warmupError },
        'warm-up run with generated inputs failed; the model serves without warm-up',
      );
    }
    if (this.status === 'loading') this.status = 'ready';
    this.supervised = true;
    return names;
  }

  /** Run one batch on this instance's worker (which must exist: state loading or ready). */
  async run(inputs: readonly Tensor[]): Promise<WorkerRunResult> {
    const worker = this.current;
    if (worker === null) {
      throw errors.modelNotReady(
        `model '${this.init.label}' has no running worker; retry later`,
        this.retryAfterSeconds,
      );
    }
    const result = await worker.run(inputs);
    this.consecutiveFailures = 0;
    return result;
  }

  /** Release the session and end the worker; no restart afterwards. */
  async stop(): Promise<void> {
    this.status = 'stopped';
    if (this.restartTimer !== null) {
      clearTimeout(this.restartTimer);
      this.restartTimer = null;
    }
    const worker = this.current;
    this.current = null;
    await worker?.stop();
  }

  /** Test hook: make the current worker thread or child process fail. */
  crash(mode: InstanceCrashMode): void {
    this.current?.crash(mode);
  }

  private spawn(): InstanceBackend {
    const events = { onUnexpectedExit: (exit: BackendExit) => this.onWorkerExit(worker, exit) };
    const { isolation, memoryLimitMb, hangTimeoutMs } = this.isolation;
    const worker: InstanceBackend =
      isolation === 'process'
        ? new ModelProcess(
            this.init,
            {
              index: this.index,
              hangTimeoutMs: hangTimeoutMs ?? DEFAULT_HANG_TIMEOUT_MS,
              ...(memoryLimitMb !== undefined ? { memoryLimitMb } : {}),
            },
            events,
          )
        : new ModelWorker(this.init, events);
    this.current = worker;
    this.status = 'loading';
    return worker;
  }

  private onWorkerExit(worker: InstanceBackend, exit: BackendExit): void {
    if (worker !== this.current || this.status === 'stopped' || !this.supervised) return;
    this.current = null;
    this.logger.warn(
      {
        model: this.init.label,
        instance: this.index,
        isolation: this.isolation.isolation,
        exit_code: exit.code,
        signal: exit.signal,
        err: exit.reason,
      },
      `model ${this.isolation.isolation === 'process' ? 'process' : 'worker'} ended (${exit.reason}); starting a new one`,
    );
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    this.consecutiveFailures += 1;
    const delayMs =
      this.consecutiveFailures <= 1
        ? 0
        : Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (this.consecutiveFailures - 2));
    if (delayMs === 0) {
      this.restart();
      return;
    }
    this.status = 'backoff';
    this.restartAtMs = Date.now() + delayMs;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      this.restart();
    }, delayMs);
    // A model waiting to restart must not keep an otherwise finished process alive.
    this.restartTimer.unref();
  }

  private restart(): void {
    if (this.status === 'stopped') return;
    let worker: InstanceBackend;
    try {
      worker = this.spawn();
    } catch (err) {
      this.logger.error(
        { model: this.init.label, instance: this.index, err: String(err) },
        'cannot start model worker',
      );
      this.current = null;
      this.scheduleRestart();
      return;
    }
    worker.ready().then(
      () => {
        if (worker !== this.current || this.status === 'stopped') return;
        this.status = 'ready';
        this.logger.info({ model: this.init.label, instance: this.index }, 'model worker restarted');
      },
      (err: unknown) => {
        if (worker !== this.current || this.status === 'stopped') return;
        this.logger.error(
          {
            model: this.init.label,
            instance: this.index,
            err: err instanceof Error ? err.message : String(err),
          },
          'model worker failed to load the model again',
        );
        this.current = null;
        void worker.stop();
        this.scheduleRestart();
      },
    );
  }
}
