/** The samplers and pruners by the names the CLI takes, with their default settings. */
import { errors } from '../core/errors.js';
import { GridSampler } from './grid-sampler.js';
import { MedianPruner, NoPruner, SuccessiveHalvingPruner } from './pruners.js';
import { RandomSampler } from './random-sampler.js';
import { TpeSampler } from './tpe-sampler.js';
import type { Pruner, Sampler } from './trial.js';

export const SAMPLERS = ['tpe', 'random', 'grid', 'tpe-univariate'] as const;
export type SamplerName = (typeof SAMPLERS)[number];
export const PRUNERS = ['median', 'halving', 'none'] as const;
export type PrunerName = (typeof PRUNERS)[number];

/** A sampler by name, seeded. @throws TendError TEND_INVALID_ARGUMENT */
export function makeSampler(name: string, seed: number): Sampler {
  switch (name) {
    case 'tpe':
      return new TpeSampler({ seed });
    case 'tpe-univariate':
      return new TpeSampler({ seed, multivariate: false });
    case 'random':
      return new RandomSampler(seed);
    case 'grid':
      return new GridSampler(seed);
    default:
      throw errors.invalidArgument(`--sampler '${name}' must be one of ${SAMPLERS.join(', ')}`);
  }
}

/** A pruner by name. @throws TendError TEND_INVALID_ARGUMENT */
export function makePruner(name: string): Pruner {
  switch (name) {
    case 'median':
      return new MedianPruner();
    case 'halving':
      return new SuccessiveHalvingPruner();
    case 'none':
      return new NoPruner();
    default:
      throw errors.invalidArgument(`--pruner '${name}' must be one of ${PRUNERS.join(', ')}`);
  }
}
