import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BENCHMARK_FUNCTIONS } from './benchmark-functions.js';
import { gridOf } from './grid-sampler.js';
import { MemoryStudyStorage } from './memory-storage.test-helper.js';
import { observationWeights } from './parzen-estimator.js';
import { NoPruner } from './pruners.js';
import { checkParams, parseSpaceText, type Params, type SearchSpace } from './space.js';
import { runStudy } from './study-runner.js';
import { makeSampler } from './choices.js';
import { gamma, splitTrials } from './tpe-sampler.js';
import type { TrialView } from './trial.js';

const MIXED = parseSpaceText(`
lr: {type: float, low: 0.0001, high: 0.1, log: true}
units: {type: int, low: 8, high: 128, step: 8}
layers: {type: int, low: 1, high: 64, log: true}
optimizer: {type: categorical, choices: [adam, sgd, rmsprop]}
momentum: {type: float, low: 0.5, high: 0.99, when: {optimizer: sgd}}
nesterov: {type: categorical, choices: [true, false], when: {optimizer: sgd}}
`);

/** A toy objective over MIXED whose best is lr≈0.01, units=64, sgd with momentum 0.9. */
function toy(p: Params): number {
  const lr = Math.log10(p.lr as number) + 2;
  let v = lr * lr + ((p.units as number) - 64) ** 2 / 1000 + Math.log2(p.layers as number) / 10;
  v += p.optimizer === 'sgd' ? ((p.momentum as number) - 0.9) ** 2 * 10 : 0.5;
  return v;
}

async function study(
  sampler: string,
  seed: number,
  space: SearchSpace,
  f: (p: Params) => number,
  trials = 40,
) {
  return runStudy({
    space,
    sampler: makeSampler(sampler, seed),
    pruner: new NoPruner(),
    direction: 'minimize',
    trials,
    storage: new MemoryStudyStorage(),
    objective: (t) => Promise.resolve(f(t.params)),
  });
}

for (const name of ['tpe', 'tpe-univariate', 'random']) {
  test(`${name}: the same seed gives the same trials, another seed other ones, all inside the space`, async () => {
    const a = await study(name, 7, MIXED, toy);
    const b = await study(name, 7, MIXED, toy);
    const c = await study(name, 8, MIXED, toy);
    assert.deepEqual(
      a.trials.map((t) => t.params),
      b.trials.map((t) => t.params),
    );
    assert.notDeepEqual(
      a.trials.map((t) => t.params),
      c.trials.map((t) => t.params),
    );
    for (const t of a.trials) assert.equal(checkParams(MIXED, t.params), null, JSON.stringify(t.params));
    // Conditionals appear exactly when their condition holds.
    assert.ok(a.trials.some((t) => t.params.optimizer === 'sgd' && typeof t.params.momentum === 'number'));
  });
}

test('TPE beats random on Branin and Hartmann-6 (mean best over 8 seeds × 50 trials)', async () => {
  for (const [fname, fn] of Object.entries(BENCHMARK_FUNCTIONS)) {
    const mean = async (sampler: string) => {
      let sum = 0;
      for (let seed = 0; seed < 8; seed++)
        sum += (await study(sampler, seed, fn.space, fn.f, 50)).best!.value!;
      return sum / 8;
    };
    const tpe = await mean('tpe');
    const random = await mean('random');
    assert.ok(tpe < random, `${fname}: TPE ${tpe} vs random ${random}`);
    assert.ok(
      tpe - fn.optimum < (random - fn.optimum) * 0.8,
      `${fname}: TPE ${tpe} closes the gap to ${fn.optimum}`,
    );
  }
});

test('TPE learns on a conditional space: its best beats random search with the same budget', async () => {
  let tpe = 0;
  let random = 0;
  for (let seed = 0; seed < 6; seed++) {
    tpe += (await study('tpe', seed, MIXED, toy, 60)).best!.value!;
    random += (await study('random', seed, MIXED, toy, 60)).best!.value!;
  }
  assert.ok(tpe < random, `TPE ${tpe / 6} vs random ${random / 6}`);
});

test('gamma and the observation weights follow Optuna’s published defaults', () => {
  assert.deepEqual([1, 10, 11, 100, 250, 251, 1000].map(gamma), [1, 1, 2, 10, 25, 25, 25]);
  assert.deepEqual(observationWeights(3), [1, 1, 1]);
  const w = observationWeights(30);
  assert.equal(w.length, 30);
  assert.ok(Math.abs((w[0] as number) - 1 / 30) < 1e-12);
  assert.deepEqual(w.slice(5), new Array(25).fill(1));
});

test('the below group holds the best complete trials; pruned ones rank after, the further the better', () => {
  const t = (
    number: number,
    state: TrialView['state'],
    value: number | null,
    steps: number[] = [],
  ): TrialView => ({
    number,
    state,
    params: {},
    value,
    intermediate: new Map(steps.map((v, i) => [i, v])),
  });
  const trials = [
    t(0, 'complete', 5),
    t(1, 'pruned', null, [1, 1, 1]),
    t(2, 'complete', 1),
    ...Array.from({ length: 8 }, (_, i) => t(3 + i, 'complete', 10 + i)),
  ];
  const { below, above } = splitTrials(trials, 'minimize');
  assert.deepEqual(
    below.map((x) => x.number),
    [0, 2],
  ); // gamma(11) = 2
  assert.equal(above.length, 9);
  const max = splitTrials(trials, 'maximize');
  assert.deepEqual(
    max.below.map((x) => x.number),
    [9, 10],
  );
});

test('the grid sampler visits every combination once, conditionals included, then stops', async () => {
  const space = parseSpaceText(`
opt: {type: categorical, choices: [adam, sgd]}
units: {type: int, low: 16, high: 64, step: 16}
momentum: {type: categorical, choices: [0.8, 0.9], when: {opt: sgd}}
`);
  assert.equal(gridOf(space).length, 4 + 8);
  const out = await study('grid', 3, space, () => 1, 100);
  assert.equal(out.trials.length, 12);
  assert.equal(new Set(out.trials.map((t) => JSON.stringify(t.params))).size, 12);
  assert.throws(() => gridOf(parseSpaceText('lr: {type: float, low: 0, high: 1}')), /float parameter 'lr'/);
});
