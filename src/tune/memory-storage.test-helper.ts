/** A StudyStorage in memory, for the tune layer's tests (records every call, can fail on demand). */
import type { Params } from './space.js';
import type { StudyStorage, TrialEnd } from './study-runner.js';
import type { TrialView } from './trial.js';

export class MemoryStudyStorage implements StudyStorage {
  readonly trials = new Map<number, TrialView & { error: string | null; starts: number }>();

  loadTrials(): Promise<TrialView[]> {
    return Promise.resolve(
      [...this.trials.values()]
        .sort((a, b) => a.number - b.number)
        .map((t) => ({ ...t, intermediate: new Map(t.intermediate) })),
    );
  }

  startTrial(number: number, params: Params): Promise<void> {
    const starts = (this.trials.get(number)?.starts ?? 0) + 1;
    this.trials.set(number, {
      number,
      state: 'running',
      params,
      value: null,
      intermediate: new Map(),
      error: null,
      starts,
    });
    return Promise.resolve();
  }

  reportStep(number: number, step: number, value: number): Promise<void> {
    (this.trials.get(number)?.intermediate as Map<number, number>).set(step, value);
    return Promise.resolve();
  }

  finishTrial(number: number, end: TrialEnd): Promise<void> {
    const t = this.trials.get(number);
    if (!t) throw new Error(`no trial ${number}`);
    this.trials.set(number, { ...t, state: end.state, value: end.value, error: end.error });
    return Promise.resolve();
  }
}
