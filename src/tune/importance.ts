/**
 * Parameter importances by first-order variance decomposition on the trials themselves (fANOVA's main
 * effects, estimated without a surrogate model): for each parameter, the complete trials are grouped by
 * its value (a choice, or one of up to √n quantile bins of a number; "inactive" is a group of its own)
 * and the share of the objective's variance explained by the group means (the correlation ratio η²)
 * is its importance. The importances are then scaled to sum to 1. Cheap and model-free; interactions
 * are not credited to anyone.
 */
import type { SearchSpace } from './space.js';
import type { TrialView } from './trial.js';

/** Importance of each parameter (summing to 1), most important first; empty below 3 complete trials. */
export function parameterImportances(
  space: SearchSpace,
  trials: readonly TrialView[],
): { name: string; importance: number }[] {
  const complete = trials.filter(
    (t) => t.state === 'complete' && t.value !== null && Number.isFinite(t.value),
  );
  if (complete.length < 3) return [];
  const ys = complete.map((t) => t.value as number);
  const mean = ys.reduce((a, b) => a + b, 0) / ys.length;
  const total = ys.reduce((a, y) => a + (y - mean) ** 2, 0);
  const raw = space.params.map((spec) => {
    const groups = new Map<string, number[]>();
    const numeric = spec.type !== 'categorical';
    const values = complete.map((t) => t.params[spec.name]);
    let edges: number[] = [];
    if (numeric) {
      const present = values.filter((v): v is number => typeof v === 'number').sort((a, b) => a - b);
      const bins = Math.max(1, Math.min(10, Math.floor(Math.sqrt(present.length))));
      edges = Array.from(
        { length: bins - 1 },
        (_, i) => present[Math.floor(((i + 1) * present.length) / bins)] as number,
      );
    }
    complete.forEach((t, i) => {
      const v = values[i];
      let key: string;
      if (v === undefined) key = '\u0000inactive';
      else if (numeric) key = String(edges.filter((e) => (v as number) >= e).length);
      else key = JSON.stringify(v);
      const list = groups.get(key);
      if (list) list.push(t.value as number);
      else groups.set(key, [t.value as number]);
    });
    let between = 0;
    for (const list of groups.values()) {
      const m = list.reduce((a, b) => a + b, 0) / list.length;
      between += list.length * (m - mean) ** 2;
    }
    return { name: spec.name, importance: total > 0 ? between / total : 0 };
  });
  const sum = raw.reduce((a, r) => a + r.importance, 0);
  return raw
    .map((r) => ({ name: r.name, importance: sum > 0 ? r.importance / sum : 0 }))
    .sort((a, b) => b.importance - a.importance || (a.name < b.name ? -1 : 1));
}

/** The method's name, for tables and JSON. */
export const IMPORTANCE_METHOD =
  'first-order variance decomposition (η² of binned parameter values, no surrogate)';
