/**
 * Messages between the main thread and a model's session host (a worker thread or a child process).
 * One `run` message carries a whole batch.
 */
import type { Tensor } from '../core/tensor.js';
import type { SessionSettings } from './session-settings.js';

/** Passed as `workerData` (thread) or in the `init` message (process): everything a host needs to build its session. */
export interface WorkerInit {
  label: string;
  modelPath: string;
  /** The model itself, when it must not be read from disk (decrypted in memory): used instead of modelPath. */
  modelBytes?: Uint8Array;
  session: SessionSettings;
  warmup: Tensor[];
  /** false: a failed warm-up run is reported with `ready` instead of failing the load (synthetic data). */
  warmupRequired: boolean;
}

/**
 * How a test makes a session host fail, from inside it: exit on purpose, throw an uncaught error,
 * abort (what a native crash in onnxruntime does: in a worker thread it ends the whole server),
 * hang (a synchronous endless loop, blocking like a hung session.run), or grow (allocate native
 * memory until killed). Honoured only when the host runs with TEND_FAULT_INJECTION=1.
 */
export type WorkerCrashMode = 'exit' | 'throw' | 'abort' | 'hang' | 'grow';

/**
 * Every fault a test can inject: the host's own, or 'terminate' (the main side kills the thread or SIGKILLs
 * the process).
 */
export type InstanceCrashMode = WorkerCrashMode | 'terminate';

export type ToWorker =
  | { type: 'run'; id: number; inputs: Tensor[] }
  | { type: 'release' }
  | { type: 'crash'; mode: WorkerCrashMode };

/** A child process receives its WorkerInit as the first message. */
export type ToProcess = ToWorker | { type: 'init'; init: WorkerInit };

export type FromWorker =
  | { type: 'ready'; inputNames: string[]; outputNames: string[]; warmupError?: string }
  | { type: 'load-failed'; message: string }
  | { type: 'result'; id: number; outputs: Tensor[]; computeNs: number }
  | { type: 'run-failed'; id: number; message: string }
  | { type: 'released' };

/** Exit code a worker uses when a test asks it to exit. */
export const CRASH_EXIT_CODE = 70;

/** The file descriptor of a model child process on which frames (frame-codec.ts) come and go. */
export const FRAME_FD = 4;
