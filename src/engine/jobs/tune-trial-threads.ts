/**
 * tend's trainers as a study objective whose trials run in worker threads (tune-trial-worker.ts):
 * with `--jobs J`, up to J workers, each started once with the table and then given one trial after
 * another, so J trials train at once instead of taking turns on the `tend tune` thread. Intermediate
 * values come back as messages and the pruner's answer goes back through shared memory, so pruning
 * works as in-process. close() stops the workers.
 */
import type { Worker } from 'node:worker_threads';
import { siblingModule, startWorkerFrom } from '../../core/worker-script.js';
import type { ModelKind, TrainingTable } from '../../train/index.js';
import { TrialPruned, type Objective } from '../../tune/index.js';
import {
  ANSWER_CONTINUE,
  ANSWER_PRUNE,
  type FromTrialWorker,
  type TrialRequest,
  type TrialWorkerData,
} from './tune-trial-protocol.js';

const WORKER_URL = siblingModule(import.meta.url, 'tune-trial-worker');
/** Packages the worker loads from node_modules when bundled from source (native, or CommonJS with requires). */
const TRIAL_WORKER_EXTERNALS = ['onnxruntime-node', 'yaml', 'pino'];

export interface ThreadedTrainerOptions {
  table: TrainingTable;
  model: ModelKind;
  metric: string;
  seed: number;
  validation: number;
  cv?: number;
  trialDir: (number: number) => string;
}

export type ClosableObjective = Objective & { close(): Promise<void> };

export function threadedTrainerObjective(options: ThreadedTrainerOptions): ClosableObjective {
  const init: TrialWorkerData = {
    table: options.table,
    model: options.model,
    metric: options.metric,
    seed: options.seed,
    validation: options.validation,
    cv: options.cv ?? null,
  };
  const idle: Worker[] = [];
  const all = new Set<Worker>();
  const acquire = (): Worker => {
    const ready = idle.pop();
    if (ready) return ready;
    const worker = startWorkerFrom(
      WORKER_URL,
      { workerData: init, name: `tend:tune-trial-${all.size}` },
      TRIAL_WORKER_EXTERNALS,
    );
    all.add(worker);
    worker.on('exit', () => all.delete(worker));
    return worker;
  };

  const objective: Objective = (trial) =>
    new Promise<number>((resolve, reject) => {
      const worker = acquire();
      const control = new SharedArrayBuffer(8);
      const answers = new Int32Array(control);
      let settled = false;
      const settle = (fn: () => void, reusable: boolean) => {
        if (settled) return;
        settled = true;
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        if (reusable) idle.push(worker);
        else void worker.terminate();
        fn();
      };
      const onMessage = (message: FromTrialWorker) => {
        if (message.type === 'step') {
          let prune = false;
          try {
            prune = trial.report(message.step, message.value);
          } finally {
            Atomics.store(answers, 1, prune ? ANSWER_PRUNE : ANSWER_CONTINUE);
            Atomics.store(answers, 0, message.seq);
            Atomics.notify(answers, 0);
          }
        } else if (message.type === 'done') settle(() => resolve(message.value), true);
        else if (message.type === 'pruned') settle(() => reject(new TrialPruned(message.step)), true);
        else settle(() => reject(new Error(message.message)), true);
      };
      const onError = (err: Error) => settle(() => reject(err), false);
      const onExit = (code: number) =>
        settle(
          () => reject(new Error(`the trial's worker thread exited (code ${code}) before it finished`)),
          false,
        );
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      const request: TrialRequest = {
        type: 'trial',
        number: trial.number,
        params: { ...trial.params },
        trialDir: options.trialDir(trial.number),
        control,
      };
      worker.postMessage(request);
    });
  return Object.assign(objective, {
    close: async () => {
      idle.length = 0;
      await Promise.all([...all].map((w) => w.terminate()));
    },
  });
}
