import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from './registry.js';
import { TendError } from '../core/errors.js';
import type { NewStudy } from './study-store.js';
import { tempDir } from '../core/test-support.test-helper.js';

async function rejectsWith(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(
    promise,
    (err: unknown) => err instanceof TendError && err.code === code && message.test(err.message),
  );
}

async function openTemp(t: {
  after(fn: () => unknown): void;
}): Promise<{ registry: Registry; home: string }> {
  const home = join(tempDir('studies'), 'home');
  const registry = await Registry.open(home, { actor: 'tester' });
  t.after(async () => {
    await registry.close();
    rmSync(join(home, '..'), { recursive: true, force: true });
  });
  return { registry, home };
}

const STUDY: NewStudy = {
  name: 'mlp-digits',
  direction: 'maximize',
  metric: 'accuracy',
  sampler: 'tpe',
  pruner: 'median',
  seed: 3,
  space: { lr: { type: 'float', low: 0.001, high: 0.1, log: true } },
  objective: { kind: 'trainer', model: 'mlp' },
  targetTrials: 10,
  createdBy: 'tester',
};

test('a study keeps its trials: params, states, values, errors, intermediate values, timings', async (t) => {
  const { registry } = await openTemp(t);
  const studies = registry.studies;
  const created = await studies.createStudy(STUDY);
  assert.equal(created.status, 'running');
  assert.deepEqual(created.space, STUDY.space);
  await studies.startTrial('mlp-digits', 0, { lr: 0.01 });
  await studies.reportStep('mlp-digits', 0, 0, 0.5);
  await studies.reportStep('mlp-digits', 0, 1, Number.NaN);
  await studies.reportStep('mlp-digits', 0, 2, 0.8);
  await studies.finishTrial('mlp-digits', 0, {
    state: 'complete',
    value: 0.8,
    error: null,
    durationMs: 12.4,
  });
  await studies.startTrial('mlp-digits', 1, { lr: 0.09 });
  await studies.finishTrial('mlp-digits', 1, {
    state: 'failed',
    value: null,
    error: 'exit code 1',
    durationMs: 3,
  });
  await studies.startTrial('mlp-digits', 2, { lr: 0.002 });
  const trials = await studies.listTrials('mlp-digits');
  assert.deepEqual(
    trials.map((x) => [x.number, x.state, x.value, x.error, x.duration_ms]),
    [
      [0, 'complete', 0.8, null, 12],
      [1, 'failed', null, 'exit code 1', 3],
      [2, 'running', null, null, null],
    ],
  );
  assert.deepEqual(trials[0]?.intermediate, [
    [0, 0.5],
    [1, Number.NaN],
    [2, 0.8],
  ]);
  const [summary] = await studies.listStudies();
  assert.deepEqual(summary?.counts, { running: 1, complete: 1, pruned: 0, failed: 1 });
  assert.equal(summary?.best_value, 0.8);
});

test('a stale running trial starts over (steps cleared); an ended one cannot', async (t) => {
  const { registry } = await openTemp(t);
  const studies = registry.studies;
  await studies.createStudy(STUDY);
  await studies.startTrial('mlp-digits', 0, { lr: 0.01 });
  await studies.reportStep('mlp-digits', 0, 0, 0.5);
  await studies.startTrial('mlp-digits', 0, { lr: 0.01 });
  assert.deepEqual((await studies.listTrials('mlp-digits'))[0]?.intermediate, []);
  await studies.finishTrial('mlp-digits', 0, { state: 'pruned', value: null, error: null, durationMs: 1 });
  await rejectsWith(
    studies.startTrial('mlp-digits', 0, { lr: 0.01 }),
    'TEND_CONFLICT',
    /already ended \(pruned\)/,
  );
  await rejectsWith(
    studies.finishTrial('mlp-digits', 0, { state: 'complete', value: 1, error: null, durationMs: 1 }),
    'TEND_CONFLICT',
    /not running/,
  );
});

test('study names are unique and checked; unknown studies are not found', async (t) => {
  const { registry } = await openTemp(t);
  await registry.studies.createStudy(STUDY);
  await rejectsWith(registry.studies.createStudy(STUDY), 'TEND_CONFLICT', /study 'mlp-digits' exists/);
  await rejectsWith(
    registry.studies.createStudy({ ...STUDY, name: 'bad name' }),
    'TEND_INVALID_ARGUMENT',
    /study name/,
  );
  await rejectsWith(registry.studies.listTrials('nope'), 'TEND_NOT_FOUND', /study 'nope' not found/);
  assert.equal(await registry.studies.findStudy('nope'), null);
  const reopened = await registry.studies.reopenStudy('mlp-digits', 20);
  assert.equal(reopened.target_trials, 20);
  const done = await registry.studies.finishStudy('mlp-digits', {
    bestTrial: 4,
    modelName: 'digits',
    producedVersion: 2,
  });
  assert.deepEqual(
    [done.status, done.best_trial, done.model_name, done.produced_version],
    ['finished', 4, 'digits', 2],
  );
});
