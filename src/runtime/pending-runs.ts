/**
 * Batches sent to an instance (a worker thread or a child process) and not answered yet, by id: the
 * bookkeeping both backends share. Replies come back by id; when the instance dies, every run still
 * here fails.
 */
import type { TendError } from '../core/errors.js';
import type { WorkerRunResult } from './instance-backend.js';

export interface PendingRun {
  resolve: (result: WorkerRunResult) => void;
  reject: (err: TendError) => void;
}

export class PendingRuns {
  private readonly runs = new Map<number, PendingRun>();
  private lastId = 0;

  get size(): number {
    return this.runs.size;
  }

  /** The id for the next run sent. */
  newId(): number {
    this.lastId += 1;
    return this.lastId;
  }

  add(id: number, run: PendingRun): void {
    this.runs.set(id, run);
  }

  /** The run with this id, removed; undefined when it already settled (e.g. failed by a crash). */
  take(id: number): PendingRun | undefined {
    const run = this.runs.get(id);
    this.runs.delete(id);
    return run;
  }

  /** Reject every pending run, each with its own error. */
  failAll(makeError: () => TendError): void {
    const runs = [...this.runs.values()];
    this.runs.clear();
    for (const run of runs) run.reject(makeError());
  }
}
