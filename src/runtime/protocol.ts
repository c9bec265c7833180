/** Messages between the main thread and a model worker. One `run` message carries a whole batch. */
import type { Tensor } from '../core/tensor.js';
import type { SessionSettings } from './session-settings.js';

/** Passed as `workerData`: everything a worker needs to build its session. */
export interface WorkerInit {
  label: string;
  modelPath: string;
  session: SessionSettings;
  warmup: Tensor[];
  /** false: a failed warm-up run is reported with `ready` instead of failing the load (synthetic data). */
  warmupRequired: boolean;
}

/** How a test makes a worker die: exit on purpose, or throw an uncaught error. */
export type WorkerCrashMode = 'exit' | 'throw';

export type ToWorker =
  | { type: 'run'; id: number; inputs: Tensor[] }
  | { type: 'release' }
  | { type: 'crash'; mode: WorkerCrashMode };

export type FromWorker =
  | { type: 'ready'; inputNames: string[]; outputNames: string[]; warmupError?: string }
  | { type: 'load-failed'; message: string }
  | { type: 'result'; id: number; outputs: Tensor[]; computeNs: number }
  | { type: 'run-failed'; id: number; message: string }
  | { type: 'released' };

/** Exit code a worker uses when a test asks it to exit. */
export const CRASH_EXIT_CODE = 70;
