/**
 * The tune layer: search spaces, samplers (random, grid, TPE), pruners (median, successive halving),
 * the study loop over a storage interface, and parameter importances. It imports only core: the
 * engine gives it an objective and a storage (the registry's study store).
 */
export { parseSpace, parseSpaceText, spaceToJson, checkParams, isActive } from './space.js';
export type { SearchSpace, ParamSpec, ParamValue, Params } from './space.js';
export { TuneRandom } from './rng.js';
export { RandomSampler } from './random-sampler.js';
export { GridSampler, gridOf } from './grid-sampler.js';
export { TpeSampler, gamma } from './tpe-sampler.js';
export type { TpeOptions } from './tpe-sampler.js';
export { MedianPruner, SuccessiveHalvingPruner, NoPruner } from './pruners.js';
export { runStudy, bestTrial, TrialPruned } from './study-runner.js';
export type {
  StudyStorage,
  TrialContext,
  TrialEnd,
  Objective,
  StudyOutcome,
  StudyRunOptions,
} from './study-runner.js';
export { parameterImportances, IMPORTANCE_METHOD } from './importance.js';
export { TRIAL_STATES, lossOf } from './trial.js';
export type { Direction, Pruner, Sampler, TrialState, TrialView, SampleRequest } from './trial.js';
export { makeSampler, makePruner, SAMPLERS, PRUNERS } from './choices.js';
export type { SamplerName, PrunerName } from './choices.js';
