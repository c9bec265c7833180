import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TendError } from '../core/errors.js';
import { PredictionSampler } from './prediction-log-sampler.js';

test('rate 1 (the default) logs every request; rate 0 none', () => {
  const all = new PredictionSampler();
  const none = new PredictionSampler({ rate: 0 });
  for (let i = 0; i < 100; i++) {
    assert.equal(all.take(), true);
    assert.equal(none.take(), false);
  }
});

test('a rate keeps that share of requests', () => {
  const draws = [0.05, 0.3, 0.25, 0.9, 0.2, 0.24999];
  let i = 0;
  const sampler = new PredictionSampler({ rate: 0.25, random: () => draws[i++ % draws.length] as number });
  assert.deepEqual(
    draws.map(() => sampler.take()),
    [true, false, false, false, true, true],
  );
});

test('the rate cap allows a second’s burst, then refills at maxPerSecond', () => {
  let nowMs = 0;
  const sampler = new PredictionSampler({ maxPerSecond: 3, now: () => nowMs });
  assert.deepEqual(
    [1, 2, 3, 4].map(() => sampler.take()),
    [true, true, true, false],
  );
  nowMs = 400; // 1.2 tokens
  assert.deepEqual(
    [1, 2].map(() => sampler.take()),
    [true, false],
  );
  nowMs = 10_000; // refills to the cap, not beyond
  assert.equal([1, 2, 3, 4, 5].filter(() => sampler.take()).length, 3);
});

test('bad rates are refused with TEND_INVALID_CONFIG', () => {
  for (const options of [
    { rate: 1.5 },
    { rate: -0.1 },
    { rate: NaN },
    { maxPerSecond: 0 },
    { maxPerSecond: NaN },
  ]) {
    assert.throws(
      () => new PredictionSampler(options),
      (err: unknown) => err instanceof TendError && err.code === 'TEND_INVALID_CONFIG',
    );
  }
});
