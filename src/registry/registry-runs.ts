/** `registry.runs`: training and update runs, from start to finish or failure. */
import type { NewRun, RunFinish, RunListOptions, RunRecord, RunStore } from './run-store.js';

/** Training runs of the registry. */
export class RegistryRuns {
  constructor(
    private readonly store: RunStore,
    /** Who starts a run when the input names nobody. */
    private readonly actor: string,
  ) {}

  /**
   * Record the start of a training or update as 'running' (createdBy: the registry's actor). @throws
   * TendError TEND_INVALID_ARGUMENT
   */
  start(input: Omit<NewRun, 'createdBy'> & { createdBy?: string }): Promise<RunRecord> {
    return this.store.startRun({ ...input, createdBy: input.createdBy ?? this.actor });
  }

  /**
   * Mark a run finished, linking the version it produced. @throws TendError TEND_NOT_FOUND, TEND_CONFLICT,
   * TEND_VERSION_NOT_FOUND
   */
  finish(runId: string, finish: RunFinish): Promise<RunRecord> {
    return this.store.finishRun(runId, finish);
  }

  /** Mark a run failed with its error. @throws TendError TEND_NOT_FOUND, TEND_CONFLICT (not running) */
  fail(runId: string, error: string, epochs?: readonly object[]): Promise<RunRecord> {
    return this.store.failRun(runId, error, epochs);
  }

  /** One run. @throws TendError TEND_NOT_FOUND */
  get(runId: string): Promise<RunRecord> {
    return this.store.getRun(runId);
  }

  /** Runs, newest first. */
  list(options: RunListOptions = {}): Promise<RunRecord[]> {
    return this.store.listRuns(options);
  }
}
