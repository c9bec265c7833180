/**
 * Parameters in the coordinates samplers search in: a log-scaled parameter by its logarithm, an int
 * parameter widened by half a step on each side (so every value owns an equal cell, as in Optuna's TPE),
 * a categorical parameter by the index of its choice.
 */
import type { FloatParam, IntParam, ParamValue } from './space.js';

export type NumericParam = FloatParam | IntParam;

/** The interval the search coordinate of `spec` lives in. */
export function searchBounds(spec: NumericParam): [number, number] {
  if (spec.type === 'float')
    return spec.log ? [Math.log(spec.low), Math.log(spec.high)] : [spec.low, spec.high];
  if (spec.log) return [Math.log(spec.low - 0.5), Math.log(spec.high + 0.5)];
  return [spec.low - spec.step / 2, spec.high + spec.step / 2];
}

/** A parameter value in search coordinates. */
export function toSearch(spec: NumericParam, value: number): number {
  return spec.log ? Math.log(value) : value;
}

/** A search coordinate back to a value the parameter can take (rounded to the step, clipped). */
export function fromSearch(spec: NumericParam, x: number): number {
  if (spec.type === 'float') {
    const v = spec.log ? Math.exp(x) : x;
    return Math.min(spec.high, Math.max(spec.low, v));
  }
  const raw = spec.log ? Math.exp(x) : x;
  const v = spec.low + Math.round((raw - spec.low) / spec.step) * spec.step;
  return Math.min(spec.high, Math.max(spec.low, v));
}

/** Index of a categorical value among its choices (-1 when absent). */
export function choiceIndex(choices: readonly ParamValue[], value: ParamValue | undefined): number {
  return choices.findIndex((c) => c === value);
}
