/**
 * Pruners: stop a trial early when its intermediate values (per epoch, per fold) say it will not win.
 *
 * - median: after n_startup_trials (5) complete trials, past n_warmup_steps (0), every interval (1)
 *   steps, prune when the trial's best intermediate value so far is worse than the median of the
 *   complete trials' values at the same step.
 * - successive halving (asynchronous, ASHA): rungs at steps min_resource·η^k (1, 4, 16, ... with η = 4);
 *   a trial reaching a rung continues only while its value there is among the best 1/η of all values
 *   recorded at that rung (for the first few trials at a rung: only when it is the best).
 */
import { lossOf, type Direction, type Pruner, type TrialView } from './trial.js';

export interface MedianPrunerOptions {
  nStartupTrials?: number;
  nWarmupSteps?: number;
  intervalSteps?: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export class MedianPruner implements Pruner {
  readonly name = 'median';
  private readonly nStartupTrials: number;
  private readonly nWarmupSteps: number;
  private readonly intervalSteps: number;

  constructor(options: MedianPrunerOptions = {}) {
    this.nStartupTrials = options.nStartupTrials ?? 5;
    this.nWarmupSteps = options.nWarmupSteps ?? 0;
    this.intervalSteps = options.intervalSteps ?? 1;
  }

  shouldPrune(trial: TrialView, step: number, history: readonly TrialView[], direction: Direction): boolean {
    const complete = history.filter((t) => t.state === 'complete' && t.number !== trial.number);
    if (complete.length < this.nStartupTrials) return false;
    if (step < this.nWarmupSteps) return false;
    if ((step - this.nWarmupSteps) % this.intervalSteps !== 0) return false;
    let best = Infinity;
    for (const value of trial.intermediate.values()) best = Math.min(best, lossOf(value, direction));
    if (!Number.isFinite(best)) return true; // only NaN so far
    const others = complete.flatMap((t) => {
      const v = t.intermediate.get(step);
      return v === undefined || Number.isNaN(v) ? [] : [lossOf(v, direction)];
    });
    if (others.length === 0) return false;
    return best > median(others);
  }
}

export interface HalvingPrunerOptions {
  minResource?: number;
  reductionFactor?: number;
  minEarlyStoppingRate?: number;
}

export class SuccessiveHalvingPruner implements Pruner {
  readonly name = 'halving';
  private readonly minResource: number;
  private readonly eta: number;
  private readonly rate: number;

  constructor(options: HalvingPrunerOptions = {}) {
    this.minResource = options.minResource ?? 1;
    this.eta = options.reductionFactor ?? 4;
    this.rate = options.minEarlyStoppingRate ?? 0;
  }

  /** The rung a step is, or -1 when the step is no rung. */
  rungOf(step: number): number {
    for (let k = 0; ; k++) {
      const at = this.minResource * Math.pow(this.eta, k + this.rate);
      if (at === step) return k;
      if (at > step) return -1;
    }
  }

  shouldPrune(trial: TrialView, step: number, history: readonly TrialView[], direction: Direction): boolean {
    if (this.rungOf(step) < 0) return false;
    const value = trial.intermediate.get(step);
    if (value === undefined || Number.isNaN(value)) return true;
    const competing = history
      .filter((t) => t.number !== trial.number)
      .flatMap((t) => {
        const v = t.intermediate.get(step);
        return v === undefined || Number.isNaN(v) ? [] : [lossOf(v, direction)];
      });
    competing.push(lossOf(value, direction));
    competing.sort((a, b) => a - b);
    let index = Math.floor(competing.length / this.eta) - 1;
    if (index < 0) index = 0; // too few at this rung to keep a share: continue only as the best
    return lossOf(value, direction) > (competing[index] as number);
  }
}

/** The pruner that never prunes. */
export class NoPruner implements Pruner {
  readonly name = 'none';
  shouldPrune(): boolean {
    return false;
  }
}
