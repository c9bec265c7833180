/**
 * The Tree-structured Parzen Estimator sampler. Past the first n_startup_trials (random) trials, the
 * finished trials are split into the best gamma(n) = min(ceil(0.1·n), 25) ("below") and the rest
 * ("above"); a Parzen estimator l(x) is fitted to the below group and g(x) to the above group, 24
 * candidates are drawn from l, and the one with the highest l(x)/g(x) is the next trial.
 *
 * Multivariate by default: the parameters that are active together (the same `when` condition) form a
 * group with one joint estimator, so correlations between them count; a conditional group learns only
 * from the trials where it was active. Pruned trials rank after complete ones (those that got further
 * first), as in Optuna; failed trials teach nothing. Constants are Optuna's published defaults; the
 * multivariate estimators score kernels as Optuna 3.1 does (see ParzenOptions.unitHeightKernels).
 */
import { fromSearch, toSearch } from './numeric-coords.js';
import { ParzenEstimator } from './parzen-estimator.js';
import { sampleUniform, sampleUniformSpace } from './random-sampler.js';
import { TuneRandom } from './rng.js';
import { conditionKey, isActive, type ParamSpec, type Params, type SearchSpace } from './space.js';
import { lossOf, type Direction, type SampleRequest, type Sampler, type TrialView } from './trial.js';

export interface TpeOptions {
  seed: number;
  /** Random trials before TPE starts (10). */
  nStartupTrials?: number;
  /** Candidates drawn from l(x) per trial (24). */
  nEiCandidates?: number;
  /** Weight of each estimator's prior component (1.0). */
  priorWeight?: number;
  /** One joint estimator per group of parameters (true), or one per parameter. */
  multivariate?: boolean;
}

/** How many of n ranked trials form the "below" (good) group. */
export function gamma(n: number): number {
  return Math.min(Math.ceil(0.1 * n), 25);
}

/** A finished trial's rank key: complete by loss, then pruned by steps reached (more first) and last value. */
function rankKey(trial: TrialView, direction: Direction): [number, number, number] {
  if (trial.state === 'complete' && trial.value !== null) return [0, 0, lossOf(trial.value, direction)];
  let lastStep = -Infinity;
  let lastValue = NaN;
  for (const [step, value] of trial.intermediate) {
    if (step > lastStep) {
      lastStep = step;
      lastValue = value;
    }
  }
  return [1, -lastStep, Number.isNaN(lastValue) ? Infinity : lossOf(lastValue, direction)];
}

function usable(trial: TrialView): boolean {
  return (
    (trial.state === 'complete' && trial.value !== null) ||
    (trial.state === 'pruned' && trial.intermediate.size > 0)
  );
}

/** The trials split into the below and above groups, each back in trial-number order. */
export function splitTrials(
  trials: readonly TrialView[],
  direction: Direction,
): { below: TrialView[]; above: TrialView[] } {
  const ranked = trials
    .map((t) => ({ t, key: rankKey(t, direction) }))
    .sort(
      (a, b) => a.key[0] - b.key[0] || a.key[1] - b.key[1] || a.key[2] - b.key[2] || a.t.number - b.t.number,
    );
  const nBelow = gamma(ranked.length);
  const byNumber = (a: TrialView, b: TrialView) => a.number - b.number;
  return {
    below: ranked
      .slice(0, nBelow)
      .map((r) => r.t)
      .sort(byNumber),
    above: ranked
      .slice(nBelow)
      .map((r) => r.t)
      .sort(byNumber),
  };
}

/** Parameters grouped by their condition, groups in the order their first parameter comes. */
function groupsOf(space: SearchSpace, multivariate: boolean): ParamSpec[][] {
  if (!multivariate) return space.params.map((p) => [p]);
  const groups = new Map<string, ParamSpec[]>();
  for (const spec of space.params) {
    const key = conditionKey(spec);
    const group = groups.get(key);
    if (group) group.push(spec);
    else groups.set(key, [spec]);
  }
  return [...groups.values()];
}

export class TpeSampler implements Sampler {
  readonly name: string;
  private readonly nStartupTrials: number;
  private readonly nEiCandidates: number;
  private readonly priorWeight: number;
  private readonly multivariate: boolean;

  constructor(private readonly options: TpeOptions) {
    this.nStartupTrials = options.nStartupTrials ?? 10;
    this.nEiCandidates = options.nEiCandidates ?? 24;
    this.priorWeight = options.priorWeight ?? 1.0;
    this.multivariate = options.multivariate ?? true;
    this.name = this.multivariate ? 'tpe' : 'tpe-univariate';
  }

  capacity(): null {
    return null;
  }

  sample(request: SampleRequest): Params {
    const rng = new TuneRandom(this.options.seed, request.number, 2);
    const trials = request.history.filter(usable);
    if (trials.length < this.nStartupTrials) return sampleUniformSpace(request.space, rng);
    const params: Params = {};
    for (const group of groupsOf(request.space, this.multivariate)) {
      if (!isActive(group[0] as ParamSpec, params)) continue;
      const observed = trials.filter((t) => group.every((p) => t.params[p.name] !== undefined));
      if (observed.length === 0) {
        for (const spec of group) params[spec.name] = sampleUniform(spec, rng);
        continue;
      }
      Object.assign(params, this.sampleGroup(group, observed, request.direction, rng));
    }
    return params;
  }

  private sampleGroup(
    group: readonly ParamSpec[],
    observed: readonly TrialView[],
    direction: Direction,
    rng: TuneRandom,
  ): Params {
    const { below, above } = splitTrials(observed, direction);
    const options = { priorWeight: this.priorWeight, unitHeightKernels: this.multivariate };
    const l = new ParzenEstimator(
      group,
      below.map((t) => t.params),
      options,
    );
    const g = new ParzenEstimator(
      group,
      above.map((t) => t.params),
      options,
    );
    let best: number[] | null = null;
    let bestScore = -Infinity;
    for (let i = 0; i < this.nEiCandidates; i++) {
      // Snap each draw to a value the parameter takes (int steps), and score the snapped point.
      const point = l.sample(rng).map((x, j) => {
        const spec = group[j] as ParamSpec;
        return spec.type === 'categorical' ? x : toSearch(spec, fromSearch(spec, x));
      });
      const score = l.logPdf(point) - g.logPdf(point);
      if (best === null || score > bestScore) {
        best = point;
        bestScore = score;
      }
    }
    const chosen = best as number[];
    const out: Params = {};
    group.forEach((spec, j) => {
      const x = chosen[j] as number;
      out[spec.name] =
        spec.type === 'categorical' ? (spec.choices[x] as Params[string]) : fromSearch(spec, x);
    });
    return out;
  }
}
