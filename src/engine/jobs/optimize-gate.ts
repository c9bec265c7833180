/**
 * The speed half of the optimize gate: a candidate measured more than `maxSlowdown` slower (median
 * items/s) than its parent at every batch size timed is refused, since serving it would cost more
 * than the parent it replaces. One batch size where it keeps up is enough: a model served with
 * dynamic batching runs at many sizes. Pure, so that tests inject timings.
 */
import type { ModelSpeed } from './optimize-measure.js';

/** Default: a candidate may be at most 5% slower (median) than its parent at its best batch size. */
export const DEFAULT_MAX_SLOWDOWN = 0.05;

export interface SpeedByBatch {
  batch: number;
  parent_items_per_s: number;
  candidate_items_per_s: number;
  /** candidate ÷ parent. */
  ratio: number;
}

export interface SpeedVerdict {
  /** False when the candidate is slower than the limit at every batch size. */
  passes: boolean;
  /** One line saying why. */
  text: string;
  by_batch: SpeedByBatch[];
}

/** Compare the candidate's median items/s with the parent's at each batch size both were timed at. */
export function speedVerdict(parent: ModelSpeed, candidate: ModelSpeed, maxSlowdown: number): SpeedVerdict {
  const byBatch: SpeedByBatch[] = [];
  for (const [batch, p] of parent.byBatch) {
    const c = candidate.byBatch.get(batch);
    if (c === undefined || !(p.items_per_s > 0)) continue;
    byBatch.push({
      batch,
      parent_items_per_s: p.items_per_s,
      candidate_items_per_s: c.items_per_s,
      ratio: Math.round((c.items_per_s / p.items_per_s) * 1000) / 1000,
    });
  }
  if (byBatch.length === 0) return { passes: true, text: 'speed not measured', by_batch: byBatch };
  const floor = 1 - maxSlowdown;
  const ratios = byBatch.map((b) => `${b.ratio.toFixed(2)}× at batch ${b.batch}`).join(', ');
  const best = byBatch.reduce((a, b) => (b.ratio > a.ratio ? b : a));
  const passes = byBatch.some((b) => b.ratio >= floor);
  const text = passes
    ? `speed ${best.ratio.toFixed(2)}× the parent's at batch ${best.batch} (≥ ${floor.toFixed(2)}×)`
    : `slower than its parent at every batch size measured (${ratios}; limit ${floor.toFixed(2)}×, medians)`;
  return { passes, text, by_batch: byBatch };
}
