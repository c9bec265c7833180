/**
 * The study loop: sample a trial, record it as running, run the objective, record its intermediate
 * values and its end (complete, pruned or failed with the reason), until the study has its number of
 * trials. `jobs` trials run at once. The storage is the truth for resuming: trials a killed process left
 * 'running' are run again under the same number with the same parameters, so a resumed study has each
 * trial number exactly once — none lost, none duplicated.
 */
import type { Params, SearchSpace } from './space.js';
import {
  lossOf,
  type Direction,
  type Pruner,
  type Sampler,
  type TrialState,
  type TrialView,
} from './trial.js';

/** How a trial ended. */
export interface TrialEnd {
  state: Exclude<TrialState, 'running'>;
  value: number | null;
  error: string | null;
  durationMs: number;
}

/** Where a study's trials live (the registry database in tend; an in-memory map in tests). */
export interface StudyStorage {
  /** Every trial recorded so far, any state, with its intermediate values. */
  loadTrials(): Promise<TrialView[]>;
  /** Record trial `number` as running with `params` (a stale running record of that number starts over). */
  startTrial(number: number, params: Params): Promise<void>;
  reportStep(number: number, step: number, value: number): Promise<void>;
  finishTrial(number: number, end: TrialEnd): Promise<void>;
}

/** Thrown by an objective (or by `report`'s caller) when the pruner stopped the trial. */
export class TrialPruned extends Error {
  constructor(step: number) {
    super(`pruned at step ${step}`);
    this.name = 'TrialPruned';
  }
}

/** What an objective gets for one trial. */
export interface TrialContext {
  readonly number: number;
  readonly params: Readonly<Params>;
  /**
   * Record an intermediate value at `step` (an epoch, a fold); true when the pruner says the trial
   * should stop now — the objective then stops its work and throws TrialPruned.
   */
  report(step: number, value: number): boolean;
}

export type Objective = (trial: TrialContext) => Promise<number>;

export interface StudyRunOptions {
  space: SearchSpace;
  sampler: Sampler;
  pruner: Pruner;
  direction: Direction;
  /** The study's total number of trials (those from earlier runs count). */
  trials: number;
  /** Trials running at once (default 1). */
  jobs?: number;
  storage: StudyStorage;
  objective: Objective;
  /** Called after each trial ends (for progress output). */
  onTrialEnd?: (trial: TrialView, end: TrialEnd) => void;
}

export interface StudyOutcome {
  trials: TrialView[];
  best: TrialView | null;
}

interface LiveTrial {
  number: number;
  state: TrialState;
  params: Params;
  value: number | null;
  intermediate: Map<number, number>;
}

/** The best complete trial (lowest number among equals), or null. */
export function bestTrial(trials: readonly TrialView[], direction: Direction): TrialView | null {
  let best: TrialView | null = null;
  for (const t of trials) {
    if (t.state !== 'complete' || t.value === null) continue;
    if (best === null || lossOf(t.value, direction) < lossOf(best.value as number, direction)) best = t;
  }
  return best;
}

function errorText(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text === '' ? 'the objective failed without a message' : text.slice(0, 4000);
}

/** Run (or resume) a study until it has `trials` trials. */
export async function runStudy(options: StudyRunOptions): Promise<StudyOutcome> {
  const { space, sampler, pruner, direction, storage, objective } = options;
  const live = new Map<number, LiveTrial>();
  for (const t of await storage.loadTrials()) {
    live.set(t.number, { ...t, params: { ...t.params }, intermediate: new Map(t.intermediate) });
  }
  const stale = [...live.values()].filter((t) => t.state === 'running').map((t) => t.number);
  stale.sort((a, b) => a - b);
  const capacity = sampler.capacity(space);
  const total = Math.min(options.trials, capacity ?? Infinity);
  let next = live.size === 0 ? 0 : Math.max(...live.keys()) + 1;

  const nextNumber = (): number | null => {
    const rerun = stale.shift();
    if (rerun !== undefined) return rerun;
    if (next >= total) return null;
    return next++;
  };
  const finishedHistory = (): TrialView[] =>
    [...live.values()].filter((t) => t.state !== 'running').sort((a, b) => a.number - b.number);

  const runOne = async (number: number): Promise<void> => {
    const known = live.get(number);
    const params = known?.params ?? sampler.sample({ space, direction, history: finishedHistory(), number });
    const trial: LiveTrial = { number, state: 'running', params, value: null, intermediate: new Map() };
    live.set(number, trial);
    await storage.startTrial(number, params);
    const started = performance.now();
    let writes: Promise<void> = Promise.resolve();
    let prunedAt: number | null = null;
    const context: TrialContext = {
      number,
      params,
      report(step: number, value: number): boolean {
        if (!Number.isInteger(step) || step < 0)
          throw new Error(`a step must be a whole number ≥ 0, got ${step}`);
        trial.intermediate.set(step, value);
        writes = writes.then(() => storage.reportStep(number, step, value));
        const others = [...live.values()].filter((t) => t.number !== number);
        if (prunedAt === null && pruner.shouldPrune(trial, step, others, direction)) prunedAt = step;
        return prunedAt !== null;
      },
    };
    let end: TrialEnd;
    try {
      const value = await objective(context);
      if (typeof value !== 'number' || !Number.isFinite(value))
        throw new Error(`the objective gave ${String(value)}, not a finite number`);
      end = { state: 'complete', value, error: null, durationMs: 0 };
    } catch (err) {
      end =
        err instanceof TrialPruned || prunedAt !== null
          ? { state: 'pruned', value: null, error: null, durationMs: 0 }
          : { state: 'failed', value: null, error: errorText(err), durationMs: 0 };
    }
    end.durationMs = Math.round(performance.now() - started);
    await writes;
    await storage.finishTrial(number, end);
    trial.state = end.state;
    trial.value = end.value;
    options.onTrialEnd?.(trial, end);
  };

  const jobs = Math.max(1, Math.floor(options.jobs ?? 1));
  const slots = Array.from({ length: jobs }, async () => {
    for (let n = nextNumber(); n !== null; n = nextNumber()) await runOne(n);
  });
  await Promise.all(slots);
  const trials = [...live.values()].sort((a, b) => a.number - b.number);
  return { trials, best: bestTrial(trials, direction) };
}
