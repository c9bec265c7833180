/**
 * What a model instance runs its session in: a worker thread (ModelWorker) or a child process
 * (ModelProcess). Both speak the same batch protocol; the instance that owns one restarts it.
 */
import type { Tensor } from '../core/tensor.js';
import type { InstanceCrashMode } from './protocol.js';

export interface WorkerRunResult {
  outputs: Tensor[];
  computeNs: number;
}

export interface WorkerNames {
  inputNames: string[];
  outputNames: string[];
  /** The warm-up run failed but was not required: the session serves, cold. */
  warmupError?: string;
}

/** How a backend ended when nobody asked it to. */
export interface BackendExit {
  /** Exit code, or null when a signal ended a process. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** One sentence for logs: what ended it (exit code, signal, or why tend killed it). */
  reason: string;
}

export interface BackendEvents {
  /** The backend ended without being asked to (after its pending runs were rejected). */
  onUnexpectedExit: (exit: BackendExit) => void;
}

/** One session in its own thread or process. */
export interface InstanceBackend {
  /**
   * Resolves with the session's input and output names once it is created and warmed up; rejects with
   * TEND_MODEL_LOAD_FAILED.
   */
  ready(): Promise<WorkerNames>;
  /** Batches sent and not answered yet. */
  readonly inFlight: number;
  /** False once the thread or process has ended. */
  readonly alive: boolean;
  /** Send one batch; it runs after the load if the session is still loading. */
  run(inputs: readonly Tensor[]): Promise<WorkerRunResult>;
  /** Release the session after the queued runs, then end the thread or process. Idempotent. */
  stop(): Promise<void>;
  /** Test hook: make the backend fail the way a real failure would. */
  crash(mode: InstanceCrashMode): void;
}

let liveThreads = 0;
const liveProcesses = new Set<number>();

/** Worker threads and child processes started by any Runtime that have not ended yet. */
export function liveWorkerCount(): number {
  return liveThreads + liveProcesses.size;
}

/** Process ids of the model child processes that have not ended yet. */
export function liveProcessIds(): number[] {
  return [...liveProcesses];
}

/** Bookkeeping for the counters above, called by the backends. */
export const liveBackends = {
  threadStarted: (): void => {
    liveThreads += 1;
  },
  threadEnded: (): void => {
    liveThreads -= 1;
  },
  processStarted: (pid: number): void => {
    liveProcesses.add(pid);
  },
  processEnded: (pid: number): void => {
    liveProcesses.delete(pid);
  },
};
