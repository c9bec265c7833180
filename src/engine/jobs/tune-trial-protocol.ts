/**
 * What `tend tune` and its trial worker threads (tune-trial-worker.ts) say to each other. A worker
 * gets the table once, then runs trials one after another. It trains synchronously, so it cannot wait
 * for a message: after posting each intermediate value it blocks on the trial's shared Int32Array
 * until the main thread writes the pruner's answer there.
 *
 * control[0]: the number of the last step answered; control[1]: 1 = go on, 2 = prune.
 */
import type { ModelKind, TrainingTable } from '../../train/index.js';

export interface TrialWorkerData {
  table: TrainingTable;
  model: ModelKind;
  metric: string;
  seed: number;
  validation: number;
  cv: number | null;
}

export interface TrialRequest {
  type: 'trial';
  number: number;
  params: Record<string, number | string | boolean>;
  trialDir: string;
  control: SharedArrayBuffer;
}

export type FromTrialWorker =
  | { type: 'step'; seq: number; step: number; value: number }
  | { type: 'done'; value: number }
  | { type: 'pruned'; step: number }
  | { type: 'failed'; message: string };

export const ANSWER_CONTINUE = 1;
export const ANSWER_PRUNE = 2;
