import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makePruner, makeSampler } from './choices.js';
import { MemoryStudyStorage } from './memory-storage.test-helper.js';
import { MedianPruner, SuccessiveHalvingPruner } from './pruners.js';
import { parseSpaceText } from './space.js';
import { runStudy, TrialPruned, type Objective } from './study-runner.js';
import type { TrialView } from './trial.js';

const SPACE = parseSpaceText('x: {type: float, low: 0, high: 1}');

/** A "training curve": value at epoch e approaches x from above; good x (small) stay low throughout. */
const curve: Objective = async (trial) => {
  const x = trial.params.x as number;
  let value = 0;
  for (let epoch = 0; epoch < 20; epoch++) {
    value = x + 1 / (epoch + 1);
    if (trial.report(epoch, value)) throw new TrialPruned(epoch);
    await Promise.resolve();
  }
  return value;
};

function view(
  number: number,
  state: TrialView['state'],
  curveValues: number[],
  value: number | null = null,
): TrialView {
  return { number, state, params: {}, value, intermediate: new Map(curveValues.map((v, i) => [i, v])) };
}

test('median pruner: quiet for the first 5 complete trials, then prunes what is worse than the median', () => {
  const pruner = new MedianPruner();
  const done = [1, 2, 3, 4].map((v, i) => view(i, 'complete', [v, v], v));
  const bad = view(9, 'running', [10]);
  assert.equal(pruner.shouldPrune(bad, 0, done, 'minimize'), false, 'only 4 complete trials');
  const five = [...done, view(4, 'complete', [5, 5], 5)];
  assert.equal(pruner.shouldPrune(bad, 0, five, 'minimize'), true);
  assert.equal(pruner.shouldPrune(view(9, 'running', [2.5]), 0, five, 'minimize'), false);
  // The trial's best value so far counts, and direction flips the comparison.
  assert.equal(pruner.shouldPrune(view(9, 'running', [2, 10]), 1, five, 'minimize'), false);
  assert.equal(pruner.shouldPrune(bad, 0, five, 'maximize'), false);
});

test('successive halving: rungs at 1, 4, 16; keeps the best quarter at a rung', () => {
  const pruner = new SuccessiveHalvingPruner();
  assert.deepEqual(
    [0, 1, 2, 4, 5, 16].map((s) => pruner.rungOf(s)),
    [-1, 0, -1, 1, -1, 2],
  );
  const others = [0, 1, 2, 3, 4, 5, 6].map((i) => view(i, 'complete', [0, i / 10], i));
  assert.equal(pruner.shouldPrune(view(9, 'running', [0, 0.05]), 1, others, 'minimize'), false);
  assert.equal(pruner.shouldPrune(view(9, 'running', [0, 0.35]), 1, others, 'minimize'), true);
  assert.equal(pruner.shouldPrune(view(9, 'running', [0, 0.35]), 2, others, 'minimize'), false, 'not a rung');
});

for (const prunerName of ['median', 'halving']) {
  test(`${prunerName} pruning stops bad trials early, records them pruned, and keeps the best`, async () => {
    const storage = new MemoryStudyStorage();
    let steps = 0;
    const counted: Objective = (t) =>
      curve({ ...t, report: (s, v) => (steps++, t.report(s, v)) } as typeof t);
    const out = await runStudy({
      space: SPACE,
      sampler: makeSampler('random', 1),
      pruner: makePruner(prunerName),
      direction: 'minimize',
      trials: 30,
      storage,
      objective: counted,
    });
    const pruned = out.trials.filter((t) => t.state === 'pruned');
    assert.ok(pruned.length >= 5, `${pruned.length} pruned`);
    assert.ok(steps < 30 * 20 * 0.8, `${steps} of ${30 * 20} epochs run`);
    const bestX = Math.min(...out.trials.map((t) => t.params.x as number));
    assert.equal(out.best?.params.x, bestX, 'the trial with the best x was never pruned');
    for (const t of pruned) assert.equal(storage.trials.get(t.number)?.state, 'pruned');
  });
}

test('a failing objective marks the trial failed with its reason, and the study goes on', async () => {
  const storage = new MemoryStudyStorage();
  const out = await runStudy({
    space: SPACE,
    sampler: makeSampler('random', 2),
    pruner: makePruner('none'),
    direction: 'maximize',
    trials: 6,
    storage,
    objective: (t) => {
      if (t.number === 1) throw new Error('exit code 3: boom');
      if (t.number === 2) return Promise.resolve(Number.NaN);
      return Promise.resolve(t.params.x as number);
    },
  });
  assert.equal(out.trials.length, 6);
  assert.equal(storage.trials.get(1)?.state, 'failed');
  assert.equal(storage.trials.get(1)?.error, 'exit code 3: boom');
  assert.match(storage.trials.get(2)?.error ?? '', /NaN, not a finite number/);
  assert.equal(out.trials.filter((t) => t.state === 'complete').length, 4);
});

test('resume: trials a dead run left running are re-run under their number with their params; none lost or doubled', async () => {
  const storage = new MemoryStudyStorage();
  const options = { space: SPACE, pruner: makePruner('none'), direction: 'minimize' as const, storage };
  // A first run "dies" after 4 trials, two of them left running.
  await runStudy({
    ...options,
    sampler: makeSampler('tpe', 5),
    trials: 4,
    objective: (t) => Promise.resolve(t.params.x as number),
  });
  for (const n of [2, 3]) {
    const t = storage.trials.get(n)!;
    storage.trials.set(n, { ...t, state: 'running', value: null });
  }
  const stalled = { 2: storage.trials.get(2)!.params, 3: storage.trials.get(3)!.params };
  const out = await runStudy({
    ...options,
    sampler: makeSampler('tpe', 5),
    trials: 8,
    jobs: 3,
    objective: (t) => Promise.resolve(t.params.x as number),
  });
  assert.deepEqual(
    out.trials.map((t) => t.number),
    [0, 1, 2, 3, 4, 5, 6, 7],
  );
  assert.ok(out.trials.every((t) => t.state === 'complete'));
  assert.deepEqual(storage.trials.get(2)!.params, stalled[2]);
  assert.deepEqual(storage.trials.get(3)!.params, stalled[3]);
  assert.equal(storage.trials.get(2)!.starts, 2);
  assert.equal(storage.trials.get(5)!.starts, 1);
});

test('jobs: trials overlap, and the study still has each number once', async () => {
  let running = 0;
  let most = 0;
  const out = await runStudy({
    space: SPACE,
    sampler: makeSampler('random', 3),
    pruner: makePruner('none'),
    direction: 'minimize',
    trials: 9,
    jobs: 3,
    storage: new MemoryStudyStorage(),
    objective: async (t) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      return t.params.x as number;
    },
  });
  assert.equal(most, 3);
  assert.deepEqual(
    out.trials.map((t) => t.number),
    [0, 1, 2, 3, 4, 5, 6, 7, 8],
  );
});
