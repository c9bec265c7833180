/**
 * The grid sampler: every combination of the space's values, each tried once, in an order shuffled by
 * the seed (trial n takes combination n, so parallel and resumed studies never repeat one). Conditional
 * parameters enter only the combinations where they are active. Float parameters have no finite grid:
 * the space must use int (with step) or categorical parameters.
 */
import { errors } from '../core/errors.js';
import { TuneRandom } from './rng.js';
import { isActive, type ParamSpec, type Params, type SearchSpace } from './space.js';
import type { SampleRequest, Sampler } from './trial.js';

/** The grid stops being a grid past this many combinations. */
export const MAX_GRID_POINTS = 100_000;

function valuesOf(spec: ParamSpec): readonly Params[string][] {
  if (spec.type === 'categorical') return spec.choices;
  if (spec.type === 'float') {
    throw errors.invalidArgument(
      `the grid sampler needs finite values: float parameter '${spec.name}' has none (make it int with a step, or categorical)`,
    );
  }
  const out: number[] = [];
  for (let v = spec.low; v <= spec.high; v += spec.step) {
    out.push(v);
    if (out.length > MAX_GRID_POINTS) break;
  }
  return out;
}

/** Every combination of active values, in parameter order. @throws TendError TEND_INVALID_ARGUMENT */
export function gridOf(space: SearchSpace): Params[] {
  for (const spec of space.params) valuesOf(spec);
  let partial: Params[] = [{}];
  for (const spec of space.params) {
    const next: Params[] = [];
    for (const params of partial) {
      if (!isActive(spec, params)) {
        next.push(params);
        continue;
      }
      for (const value of valuesOf(spec)) next.push({ ...params, [spec.name]: value });
      if (next.length > MAX_GRID_POINTS)
        throw errors.invalidArgument(
          `the grid has more than ${MAX_GRID_POINTS} combinations: use --sampler tpe or random`,
        );
    }
    partial = next;
  }
  return partial;
}

export class GridSampler implements Sampler {
  readonly name = 'grid';
  private grid: Params[] | null = null;
  private gridSpace: SearchSpace | null = null;

  constructor(private readonly seed: number) {}

  private pointsFor(space: SearchSpace): Params[] {
    if (this.grid === null || this.gridSpace !== space) {
      this.grid = new TuneRandom(this.seed, 0x67726964).shuffle(gridOf(space));
      this.gridSpace = space;
    }
    return this.grid;
  }

  sample(request: SampleRequest): Params {
    const grid = this.pointsFor(request.space);
    const point = grid[request.number];
    if (point === undefined)
      throw errors.invalidArgument(
        `the grid has ${grid.length} combinations; trial ${request.number} is past its end`,
      );
    return { ...point };
  }

  capacity(space: SearchSpace): number {
    return this.pointsFor(space).length;
  }
}
