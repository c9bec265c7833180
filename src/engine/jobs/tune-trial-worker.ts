/**
 * A worker thread that runs trials of tend's trainers (`tend tune --jobs J` with J > 1), so that
 * several trials train at once. It gets the table once (the split is made here from the same seed, so
 * the rows are those of the main thread's), then runs each trial it is sent, reporting each epoch's
 * value through the protocol in tune-trial-protocol.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { TrialPruned, type TrialContext } from '../../tune/index.js';
import {
  ANSWER_PRUNE,
  type FromTrialWorker,
  type TrialRequest,
  type TrialWorkerData,
} from './tune-trial-protocol.js';
import { trainerObjective } from './tune-trainer-objective.js';

const data = workerData as TrialWorkerData;
let trialDir = '';
const objective = trainerObjective({
  table: data.table,
  model: data.model,
  metric: data.metric,
  seed: data.seed,
  validation: data.validation,
  ...(data.cv !== null ? { cv: data.cv } : {}),
  trialDir: () => trialDir,
});
const post = (message: FromTrialWorker) => parentPort?.postMessage(message);

async function runTrial(request: TrialRequest): Promise<void> {
  trialDir = request.trialDir;
  const control = new Int32Array(request.control);
  let seq = 0;
  const context: TrialContext = {
    number: request.number,
    params: request.params,
    report(step: number, value: number): boolean {
      seq++;
      post({ type: 'step', seq, step, value });
      // Block until the main thread has answered this step (control[0] reaches seq).
      while (Atomics.load(control, 0) < seq) Atomics.wait(control, 0, seq - 1);
      return Atomics.load(control, 1) === ANSWER_PRUNE;
    },
  };
  try {
    post({ type: 'done', value: await objective(context) });
  } catch (err) {
    if (err instanceof TrialPruned) post({ type: 'pruned', step: Number(/\d+/.exec(err.message)?.[0] ?? 0) });
    else post({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
  }
}

parentPort?.on('message', (request: TrialRequest) => void runTrial(request));
