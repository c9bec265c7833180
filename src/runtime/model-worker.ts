/**
 * The main thread's handle on one worker thread serving one session: spawning it, matching replies
 * to runs, and noticing when it dies. Restart policy lives in the instance that owns it.
 */
import type { Worker } from 'node:worker_threads';
import { siblingModule, startWorkerFrom } from '../core/worker-script.js';
import { type TendError, errors } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import {
  liveBackends,
  type BackendEvents,
  type InstanceBackend,
  type WorkerNames,
  type WorkerRunResult,
} from './instance-backend.js';
import type { FromWorker, InstanceCrashMode, ToWorker, WorkerInit } from './protocol.js';
import { PendingRuns } from './pending-runs.js';
import { prepareTransfer } from './transfer.js';

/** Under tsx (tests, dev) this module is a .ts file and so is its worker; in dist both are .js. */
const WORKER_URL = siblingModule(import.meta.url, 'worker');

function startWorker(init: WorkerInit): Worker {
  return startWorkerFrom(WORKER_URL, { workerData: init, name: `tend:${init.label}` }, ['onnxruntime-node']);
}

/** One worker thread with its session (isolation `thread`). */
export class ModelWorker implements InstanceBackend {
  private readonly worker: Worker;
  private readonly pending = new PendingRuns();
  private stopping = false;
  private exitCode: number | null = null;
  private lastError: Error | undefined;
  private readonly exited: Promise<number>;
  private readonly loaded: Promise<WorkerNames>;
  private releaseDone: (() => void) | null = null;

  constructor(
    private readonly init: WorkerInit,
    private readonly events: BackendEvents,
  ) {
    this.worker = startWorker(init);
    liveBackends.threadStarted();
    let settleLoad!: { resolve: (names: WorkerNames) => void; reject: (err: TendError) => void };
    this.loaded = new Promise<WorkerNames>((resolve, reject) => {
      settleLoad = { resolve, reject };
    });
    // A failed load is reported to whoever awaits `loaded`; keep Node from flagging it meanwhile.
    this.loaded.catch(() => undefined);

    this.worker.on('message', (message: FromWorker) => {
      switch (message.type) {
        case 'ready':
          settleLoad.resolve({
            inputNames: message.inputNames,
            outputNames: message.outputNames,
            ...(message.warmupError !== undefined ? { warmupError: message.warmupError } : {}),
          });
          break;
        case 'load-failed':
          settleLoad.reject(
            errors.modelLoadFailed(`failed to load model '${init.label}': ${message.message}`),
          );
          this.pending.failAll(() =>
            errors.workerFailed(
              `worker for ${init.label} could not load the model (${message.message}); request failed`,
            ),
          );
          break;
        case 'result':
          this.pending.take(message.id)?.resolve({ outputs: message.outputs, computeNs: message.computeNs });
          break;
        case 'run-failed':
          this.pending.take(message.id)?.reject(errors.inferenceFailed(init.label, message.message));
          break;
        case 'released':
          this.releaseDone?.();
          break;
      }
    });
    this.worker.on('error', (err) => {
      this.lastError = err;
    });
    this.exited = new Promise<number>((resolve) => {
      this.worker.once('exit', (code) => {
        liveBackends.threadEnded();
        this.exitCode = code;
        const why = this.lastError === undefined ? '' : `: ${this.lastError.message}`;
        settleLoad.reject(
          errors.modelLoadFailed(`failed to load model '${init.label}': worker exited (code ${code})${why}`),
        );
        this.pending.failAll(() =>
          errors.workerFailed(`worker for ${init.label} exited (code ${code}); request failed`),
        );
        this.releaseDone?.();
        resolve(code);
        if (!this.stopping)
          this.events.onUnexpectedExit({
            code,
            signal: null,
            reason: `worker thread exited (code ${code})${why}`,
          });
      });
    });
  }

  /** Resolves with the session's input and output names once the session is created and warmed up. */
  ready(): Promise<WorkerNames> {
    return this.loaded;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  get alive(): boolean {
    return this.exitCode === null;
  }

  /** Post one batch; it runs after the load if the worker is still loading. */
  run(inputs: readonly Tensor[]): Promise<WorkerRunResult> {
    if (!this.alive || this.stopping) {
      return Promise.reject(
        errors.workerFailed(`worker for ${this.init.label} is not running; request failed`),
      );
    }
    const id = this.pending.newId();
    return new Promise<WorkerRunResult>((resolve, reject) => {
      try {
        const prepared = prepareTransfer(inputs);
        this.send({ type: 'run', id, inputs: prepared.tensors }, prepared.transfer);
      } catch (err) {
        // e.g. an input whose buffer was already detached by an earlier run
        const reason = err instanceof Error ? err.message : String(err);
        reject(errors.invalidInput(`cannot send inputs to model '${this.init.label}': ${reason}`));
        return;
      }
      this.pending.add(id, { resolve, reject });
    });
  }

  /** Release the session after the queued runs, then end the thread. */
  async stop(): Promise<void> {
    if (this.stopping) {
      await this.exited;
      return;
    }
    this.stopping = true;
    if (this.alive) {
      const released = new Promise<void>((resolve) => {
        this.releaseDone = resolve;
      });
      this.send({ type: 'release' });
      await released;
      await this.worker.terminate();
    }
    await this.exited;
  }

  /** Test hook: make the worker die the way a real failure would ('abort' ends the whole process). */
  crash(mode: InstanceCrashMode): void {
    if (mode === 'terminate') void this.worker.terminate();
    else this.send({ type: 'crash', mode });
  }

  private send(message: ToWorker, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(message, transfer);
  }
}
