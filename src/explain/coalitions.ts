/**
 * KernelSHAP's coalitions and their Shapley kernel weights, planned as the SHAP library plans them:
 * every coalition when 2^M − 2 fit in the budget (the answer is then exact); otherwise subset sizes
 * are enumerated completely from the outside in (sizes 1 and M−1 first, whose kernel weight is the
 * largest) while the budget covers a whole size, and the rest of the budget is sampled by size
 * (paired with complements), each drawn coalition weighted by how often it was drawn.
 */
import type { SeededRandom } from './random.js';

/** Coalitions over M features: `count` masks of M bytes (1 = the feature takes the explained value). */
export interface CoalitionPlan {
  features: number;
  count: number;
  masks: Uint8Array;
  /** Kernel weight of each coalition, summing to 1. */
  weights: Float64Array;
  /** Every coalition is present: the regression gives the exact Shapley values. */
  exact: boolean;
}

/** The SHAP library's default budget: 2·M + 2048 coalitions. */
export function defaultCoalitions(features: number): number {
  return 2 * features + 2048;
}

/** C(n, k) as a float (exact up to 2^53). */
export function binomial(n: number, k: number): number {
  if (k < 0 || k > n) return 0;
  const small = Math.min(k, n - k);
  let r = 1;
  for (let i = 1; i <= small; i++) r = (r * (n - small + i)) / i;
  return r < 2 ** 53 ? Math.round(r) : r;
}

/** The Shapley kernel weight of one coalition of size k over M features: (M−1) / (C(M,k)·k·(M−k)). */
export function shapleyKernel(features: number, size: number): number {
  return (features - 1) / (binomial(features, size) * size * (features - size));
}

class MaskSet {
  private readonly masks: number[][] = [];
  private readonly weights: number[] = [];
  private readonly index = new Map<string, number>();

  constructor(private readonly m: number) {}

  get size(): number {
    return this.masks.length;
  }

  /** Add a coalition (feature indices in it) with a weight; a repeat adds to its weight. */
  add(members: readonly number[], weight: number, dedupe: boolean): boolean {
    if (dedupe) {
      // Feature indices are below 2^16: one character each.
      const key = String.fromCharCode(...members);
      const at = this.index.get(key);
      if (at !== undefined) {
        this.weights[at] = (this.weights[at] as number) + weight;
        return false;
      }
      this.index.set(key, this.masks.length);
    }
    this.masks.push([...members]);
    this.weights.push(weight);
    return true;
  }

  complement(members: readonly number[]): number[] {
    const inside = new Uint8Array(this.m);
    for (const j of members) inside[j] = 1;
    const out: number[] = [];
    for (let j = 0; j < this.m; j++) if (inside[j] === 0) out.push(j);
    return out;
  }

  toPlan(exact: boolean, fixedCount: number, fixedWeight: number): CoalitionPlan {
    const count = this.masks.length;
    const masks = new Uint8Array(count * this.m);
    const weights = new Float64Array(count);
    let sampledTotal = 0;
    for (let i = fixedCount; i < count; i++) sampledTotal += this.weights[i] as number;
    for (let i = 0; i < count; i++) {
      for (const j of this.masks[i] as number[]) masks[i * this.m + j] = 1;
      const w = this.weights[i] as number;
      // Sampled coalitions share what the enumerated sizes left of the kernel's mass.
      weights[i] = i < fixedCount ? w : sampledTotal > 0 ? (w * (1 - fixedWeight)) / sampledTotal : 0;
    }
    return { features: this.m, count, masks, weights, exact };
  }
}

/** Every combination of `size` of `m` indices, in lexicographic order. */
function forEachCombination(m: number, size: number, visit: (members: number[]) => void): void {
  const idx = Array.from({ length: size }, (_, i) => i);
  for (;;) {
    visit(idx);
    let i = size - 1;
    while (i >= 0 && idx[i] === m - size + i) i--;
    if (i < 0) return;
    idx[i] = (idx[i] as number) + 1;
    for (let j = i + 1; j < size; j++) idx[j] = (idx[j - 1] as number) + 1;
  }
}

/**
 * Plan at most `budget` coalitions (a few more when a complement completes a pair) over `m` ≥ 2 features.
 * @example planCoalitions(4, 2048, random) // all 14 coalitions, exact
 */
export function planCoalitions(m: number, budget: number, random: SeededRandom): CoalitionPlan {
  const set = new MaskSet(m);
  if (m <= 30 && 2 ** m - 2 <= budget) {
    let total = 0;
    const weights: number[] = [];
    for (let bits = 1; bits < 2 ** m - 1; bits++) {
      const members: number[] = [];
      for (let j = 0; j < m; j++) if ((bits >>> j) & 1) members.push(j);
      const w = shapleyKernel(m, members.length);
      weights.push(w);
      total += w;
      set.add(members, w, false);
    }
    const plan = set.toPlan(true, set.size, 1);
    for (let i = 0; i < plan.count; i++) plan.weights[i] = (weights[i] as number) / total;
    return plan;
  }
  const sizes = Math.ceil((m - 1) / 2);
  const paired = Math.floor((m - 1) / 2);
  // Kernel mass of each subset size (a paired size also carries its complement's size).
  const sizeWeight = new Float64Array(sizes);
  for (let s = 1; s <= sizes; s++) sizeWeight[s - 1] = ((m - 1) / (s * (m - s))) * (s <= paired ? 2 : 1);
  const totalWeight = sizeWeight.reduce((a, b) => a + b, 0);
  for (let i = 0; i < sizes; i++) sizeWeight[i] = (sizeWeight[i] as number) / totalWeight;
  let left = budget;
  let full = 0;
  let fixedWeight = 0;
  const remaining = Float64Array.from(sizeWeight);
  for (let s = 1; s <= sizes; s++) {
    const subsets = binomial(m, s) * (s <= paired ? 2 : 1);
    const share = remaining[s - 1] as number;
    if ((left * share) / subsets < 1 - 1e-8) break;
    full++;
    left -= subsets;
    if (share < 1) for (let i = 0; i < sizes; i++) remaining[i] = (remaining[i] as number) / (1 - share);
    const w = (sizeWeight[s - 1] as number) / subsets;
    fixedWeight += sizeWeight[s - 1] as number;
    forEachCombination(m, s, (members) => {
      set.add(members, w, true);
      if (s <= paired) set.add(set.complement(members), w, true);
    });
  }
  const fixedCount = set.size;
  if (full < sizes && left > 0) {
    const rest = sizeWeight.slice(full);
    const restTotal = rest.reduce((a, b) => a + b, 0);
    const perm = new Int32Array(m);
    // Draws are bounded: duplicates only raise weights, so a budget larger than the space ends.
    for (let draws = 0; left > 0 && draws < 4 * budget + 100; draws++) {
      const s = random.pick(rest, restTotal) + full + 1;
      for (let j = 0; j < m; j++) perm[j] = j;
      for (let j = 0; j < s; j++) {
        const r = j + random.int(m - j);
        const t = perm[j] as number;
        perm[j] = perm[r] as number;
        perm[r] = t;
      }
      const members = Array.from(perm.subarray(0, s)).sort((a, b) => a - b);
      if (set.add(members, 1, true)) left--;
      if (left > 0 && s <= paired && set.add(set.complement(members), 1, true)) left--;
    }
  }
  return set.toPlan(false, fixedCount, fixedWeight);
}
