// Explanations of any model that maps rows of features to scores: KernelSHAP, LIME, permutation
// importance. Pure numerics over a BatchModel; the engine gives them the serving runtime.
export { evaluateAll, evaluateRows, type BatchModel, type EvaluationCounter } from './batch-model.js';
export { defaultCoalitions, planCoalitions, shapleyKernel, type CoalitionPlan } from './coalitions.js';
export { kernelShap, expectedValue, type KernelShapOptions, type KernelShapResult } from './kernel-shap.js';
export { kmeansBackground, uniformBackground, type Background } from './kmeans.js';
export { DEFAULT_LIME_SAMPLES, featureStats, lime, type FeatureStats, type LimeResult } from './lime.js';
export {
  accuracyScore,
  negativeMseScore,
  permutationImportance,
  type PermutationResult,
  type Score,
} from './permutation.js';
export { SeededRandom } from './random.js';
