/**
 * The tune layer's seeded random stream (xoshiro128** seeded through a 32-bit mixing hash). Every
 * sampler draws a trial's values from a stream keyed by (study seed, trial number, purpose), so a trial
 * gets the same values whether the study ran straight through, was resumed, or ran trials in parallel.
 */
import { Xoshiro128 } from '../core/xoshiro.js';

function mix32(x: number): number {
  let z = x | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** xoshiro's four words from any list of integers, through a 32-bit mixing hash. */
function seedWords(keys: readonly number[]): [number, number, number, number] {
  let h = 0x9e3779b9;
  for (const key of keys) {
    h = mix32(h ^ (key >>> 0));
    h = mix32(h ^ (Math.floor(key / 4294967296) >>> 0));
  }
  return [mix32(h + 0x6a09e667), mix32(h + 0xbb67ae85), mix32(h + 0x3c6ef372), mix32(h + 0xa54ff53a)];
}

/** A seeded stream of uniform and normal numbers. */
export class TuneRandom extends Xoshiro128 {
  /** Seeded by any list of integers (e.g. the study seed, the trial number and a purpose tag). */
  constructor(...keys: number[]) {
    super(...seedWords(keys));
  }

  /** Uniform in [low, high). */
  between(low: number, high: number): number {
    return low + (high - low) * this.uniform();
  }

  /** A whole number in [0, n). */
  below(n: number): number {
    return Math.min(n - 1, Math.floor(this.uniform() * n));
  }

  /** Standard normal (Box–Muller; one value per call keeps the stream simple to reason about). */
  normal(): number {
    const u = 1 - this.uniform();
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** An index drawn with probability proportional to `weights` (non-negative, not all zero). */
  choose(weights: ArrayLike<number>): number {
    let total = 0;
    for (let i = 0; i < weights.length; i++) total += weights[i] as number;
    let at = this.uniform() * total;
    for (let i = 0; i < weights.length; i++) {
      at -= weights[i] as number;
      if (at < 0) return i;
    }
    return weights.length - 1;
  }

  /** Fisher–Yates shuffle in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      [items[i], items[j]] = [items[j] as T, items[i] as T];
    }
    return items;
  }
}
