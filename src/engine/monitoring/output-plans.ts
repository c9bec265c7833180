/**
 * What monitoring reads from a served version's outputs and inputs: its output plan (task, class
 * count, tabular input), decided once per loaded version, and the feature count of its rows.
 */
import { outputPlan, type OutputPlan } from '../serving/prediction-capture.js';
import type { ServedVersion } from '../serving/served-version.js';

const plans = new WeakMap<ServedVersion, OutputPlan>();

/** The version's output plan (decided once per loaded version). */
export function planOf(sv: ServedVersion): OutputPlan {
  let plan = plans.get(sv);
  if (!plan) {
    plan = outputPlan(sv.signature, sv.maxBatchSize, sv.config.labels ?? sv.classes);
    plans.set(sv, plan);
  }
  return plan;
}

/** Features per row of a version's tabular input, when the model has one. */
export function featureCountOf(sv: ServedVersion): number | undefined {
  const plan = planOf(sv);
  if (plan.tabularInput === undefined) return undefined;
  const spec = sv.signature.inputs.find((s) => s.name === plan.tabularInput);
  const dims = spec?.shape;
  if (!dims) return undefined;
  const last = dims[dims.length - 1];
  return typeof last === 'number' ? last : undefined;
}
