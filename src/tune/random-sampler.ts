/** The random sampler: every active parameter drawn independently and uniformly in its search coordinates. */
import { fromSearch, searchBounds } from './numeric-coords.js';
import { TuneRandom } from './rng.js';
import { isActive, type ParamSpec, type Params, type SearchSpace } from './space.js';
import type { SampleRequest, Sampler } from './trial.js';

/** A uniform draw of one parameter. */
export function sampleUniform(spec: ParamSpec, rng: TuneRandom): Params[string] {
  if (spec.type === 'categorical') return spec.choices[rng.below(spec.choices.length)] as Params[string];
  const [low, high] = searchBounds(spec);
  return fromSearch(spec, rng.between(low, high));
}

/** Uniform values for the active parameters of `space`, on top of `fixed` (values already chosen). */
export function sampleUniformSpace(space: SearchSpace, rng: TuneRandom, fixed: Params = {}): Params {
  const params: Params = { ...fixed };
  for (const spec of space.params) {
    if (params[spec.name] !== undefined || !isActive(spec, params)) continue;
    params[spec.name] = sampleUniform(spec, rng);
  }
  return params;
}

export class RandomSampler implements Sampler {
  readonly name = 'random';
  constructor(private readonly seed: number) {}

  sample(request: SampleRequest): Params {
    return sampleUniformSpace(request.space, new TuneRandom(this.seed, request.number, 1));
  }

  capacity(): null {
    return null;
  }
}
