/**
 * A small seeded PRNG (xoshiro128**, state filled by a splitmix-style 32-bit hash of the seed) so
 * that training is reproducible: the same seed gives the same split, weights and exported bytes on
 * every machine, which Math.random cannot promise.
 */
import { errors } from '../core/errors.js';
import { Xoshiro128 } from '../core/xoshiro.js';

/** Anything indexable and writable: plain arrays and typed arrays. */
export interface MutableIndexed<T> {
  length: number;
  [index: number]: T;
}

const TWO_POW_32 = 4294967296;

/** The hash that fills xoshiro's four words from one safe-integer seed (all 53 bits take part). */
function seedWords(seed: number): [number, number, number, number] {
  if (!Number.isSafeInteger(seed)) {
    throw errors.invalidArgument(`seed must be a safe integer, got ${seed}`);
  }
  let state = (seed >>> 0) ^ Math.imul(Math.floor(seed / TWO_POW_32) >>> 0, 0x85ebca6b);
  const next = (): number => {
    state = (state + 0x9e3779b9) | 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    return (z ^ (z >>> 15)) >>> 0;
  };
  return [next(), next(), next(), next()];
}

export class Random extends Xoshiro128 {
  private spareNormal: number | null = null;

  /** `seed` is any safe integer; all 53 bits take part. */
  constructor(seed: number) {
    super(...seedWords(seed));
  }

  /** Uniform in [low, high). */
  uniformRange(low: number, high: number): number {
    return low + (high - low) * this.uniform();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0)
      throw errors.invalidArgument(`int(n) needs a positive integer n, got ${n}`);
    return Math.floor(this.uniform() * n);
  }

  /** Normal deviate (Box–Muller; the second value of each pair is kept for the next call). */
  normal(mean = 0, std = 1): number {
    if (this.spareNormal !== null) {
      const z = this.spareNormal;
      this.spareNormal = null;
      return mean + std * z;
    }
    let u = this.uniform();
    while (u === 0) u = this.uniform();
    const radius = Math.sqrt(-2 * Math.log(u));
    const angle = 2 * Math.PI * this.uniform();
    this.spareNormal = radius * Math.sin(angle);
    return mean + std * radius * Math.cos(angle);
  }

  /** Fisher–Yates shuffle in place; returns the same array. */
  shuffle<T, A extends MutableIndexed<T>>(items: A): A {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.uniform() * (i + 1));
      const tmp = items[i] as T;
      items[i] = items[j] as T;
      items[j] = tmp;
    }
    return items;
  }

  /** 0..n-1 in random order. */
  permutation(n: number): Int32Array {
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    return this.shuffle(order);
  }
}
