import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TendError } from '../core/errors.js';
import { Random } from './random.js';

function draws(random: Random, n: number): number[] {
  return Array.from({ length: n }, () => random.nextUint32());
}

test('the same seed gives the same sequence; other seeds give others', () => {
  assert.deepEqual(draws(new Random(42), 20), draws(new Random(42), 20));
  assert.notDeepEqual(draws(new Random(42), 20), draws(new Random(43), 20));
  // High bits of the seed matter too.
  assert.notDeepEqual(draws(new Random(1), 20), draws(new Random(1 + 2 ** 32), 20));
  assert.notDeepEqual(draws(new Random(0), 5), [0, 0, 0, 0, 0]);
});

test('uniform is in [0, 1) with mean ½ and normal has mean 0 and std 1', () => {
  const random = new Random(7);
  const n = 20000;
  let sum = 0;
  let min = 1;
  let max = 0;
  for (let i = 0; i < n; i++) {
    const u = random.uniform();
    sum += u;
    min = Math.min(min, u);
    max = Math.max(max, u);
  }
  assert.ok(min >= 0 && max < 1);
  assert.ok(Math.abs(sum / n - 0.5) < 0.01);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const z = random.normal();
    s1 += z;
    s2 += z * z;
  }
  assert.ok(Math.abs(s1 / n) < 0.03);
  assert.ok(Math.abs(Math.sqrt(s2 / n) - 1) < 0.03);
  const scaled = random.normal(10, 0.001);
  assert.ok(Math.abs(scaled - 10) < 0.01);
});

test('int, shuffle and permutation cover their ranges', () => {
  const random = new Random(3);
  const seen = new Set<number>();
  for (let i = 0; i < 200; i++) seen.add(random.int(5));
  assert.deepEqual([...seen].sort(), [0, 1, 2, 3, 4]);
  const perm = random.permutation(50);
  assert.deepEqual(
    [...perm].sort((a, b) => a - b),
    Array.from({ length: 50 }, (_, i) => i),
  );
  assert.notDeepEqual(
    [...perm],
    Array.from({ length: 50 }, (_, i) => i),
  );
  const items = ['a', 'b', 'c', 'd'];
  assert.equal(random.shuffle(items), items);
  assert.deepEqual([...items].sort(), ['a', 'b', 'c', 'd']);
});

test('rejects seeds that are not safe integers and bad int ranges', () => {
  for (const seed of [1.5, Number.NaN, 2 ** 60]) {
    assert.throws(
      () => new Random(seed),
      (err: unknown) => err instanceof TendError && err.code === 'TEND_INVALID_ARGUMENT',
    );
  }
  assert.throws(() => new Random(1).int(0), TendError);
});
