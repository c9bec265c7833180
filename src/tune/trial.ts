/** What samplers, pruners and the study runner share: trial states, directions, a trial as they see it. */
import type { Params, SearchSpace } from './space.js';

export type TrialState = 'running' | 'complete' | 'pruned' | 'failed';
export const TRIAL_STATES: readonly TrialState[] = ['running', 'complete', 'pruned', 'failed'];

export type Direction = 'minimize' | 'maximize';

/** One trial as samplers and pruners read it. */
export interface TrialView {
  /** 0, 1, 2, ... in the order the study created them. */
  number: number;
  state: TrialState;
  params: Params;
  /** The objective value (complete trials; null otherwise). */
  value: number | null;
  /** Intermediate values by step (an epoch, a fold), as the objective reported them. */
  intermediate: ReadonlyMap<number, number>;
}

/** What a sampler is asked for one new trial. */
export interface SampleRequest {
  space: SearchSpace;
  direction: Direction;
  /** The study's finished trials (complete, pruned, failed), in trial-number order. */
  history: readonly TrialView[];
  /** The new trial's number. */
  number: number;
}

/** Chooses the parameter values of a new trial. */
export interface Sampler {
  readonly name: string;
  /** Values for every parameter active under the values chosen (conditions hold). */
  sample(request: SampleRequest): Params;
  /** How many distinct trials the sampler can give (grid), or null when unbounded. */
  capacity(space: SearchSpace): number | null;
}

/** Decides, after each intermediate value, whether a running trial stops early. */
export interface Pruner {
  readonly name: string;
  /** `trial` is running and has just reported `step`; `history` holds the other trials (any state). */
  shouldPrune(trial: TrialView, step: number, history: readonly TrialView[], direction: Direction): boolean;
}

/** `value` turned into a loss: smaller is better whatever the direction. */
export function lossOf(value: number, direction: Direction): number {
  return direction === 'minimize' ? value : -value;
}
