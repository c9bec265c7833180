import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Registry } from './registry.js';
import { newRunId } from './kysely-runs.js';
import { rejectsWith } from './store.case.js';
import type { NewRun } from './run-store.js';
import { tempDir } from '../core/test-support.test-helper.js';

const DIGITS = resolve(import.meta.dirname, '../../fixtures/models/digits_mlp.onnx');
const SHA = 'ab'.repeat(32);

async function openTemp(t: { after(fn: () => unknown): void }): Promise<Registry> {
  const home = join(tempDir('runs'), 'home');
  const registry = await Registry.open(home, { actor: 'tester' });
  t.after(async () => {
    await registry.close();
    rmSync(join(home, '..'), { recursive: true, force: true });
  });
  return registry;
}

function newRun(over: Partial<NewRun> = {}): Omit<NewRun, 'createdBy'> {
  return {
    modelName: 'digits',
    kind: 'train',
    parameters: { lr: 0.1, epochs: 3, hidden: [16] },
    datasetSha256: SHA,
    datasetRows: 1797,
    datasetSource: '/data/digits.csv',
    codeVersion: 'tend 0.1.0 (abc1234)',
    ...over,
  };
}

test('run ids sort by start time', () => {
  const a = newRunId(new Date('2025-01-31T12:00:00.000Z'));
  assert.match(a, /^r20250131120000[0-9a-f]{6}$/);
  assert.ok(newRunId(new Date('2025-01-31T12:00:01.000Z')) > a);
});

test('a run goes from running to finished with its metrics, epochs and the version it produced', async (t) => {
  const registry = await openTemp(t);
  const run = await registry.runs.start(newRun());
  assert.equal(run.status, 'running');
  assert.equal(run.created_by, 'tester');
  assert.deepEqual(run.epochs, []);
  assert.equal(run.finished_at, null);
  assert.equal(run.parent_version, null);
  assert.deepEqual(await registry.runs.get(run.run_id), run);

  const pushed = await registry.models.push(DIGITS, {
    name: 'digits',
    runId: run.run_id,
    source: `train:${run.run_id}`,
  });
  const epochs = [
    { epoch: 1, loss: 0.9 },
    { epoch: 2, loss: 0.4 },
    { epoch: 3, loss: 0.2 },
  ];
  const done = await registry.runs.finish(run.run_id, {
    metrics: { accuracy: 0.95 },
    epochs,
    producedVersion: pushed.version,
    durationMs: 1234.6,
    parameters: { lr: 0.1, epochs: 3, hidden: [16], optimizer: 'adam' },
  });
  assert.deepEqual(done.parameters, { lr: 0.1, epochs: 3, hidden: [16], optimizer: 'adam' });
  assert.equal(done.status, 'finished');
  assert.deepEqual(done.epochs, epochs);
  assert.deepEqual(done.metrics, { accuracy: 0.95 });
  assert.equal(done.produced_version, 1);
  assert.equal(done.duration_ms, 1235);
  assert.equal(done.dataset_rows, 1797);
  assert.equal(done.dataset_sha256, SHA);
  assert.ok(done.finished_at !== null && done.finished_at >= done.started_at);
  assert.equal((await registry.models.getVersion('digits', 1)).run_id, run.run_id);
  assert.deepEqual(await registry.runs.get(run.run_id), done);
});

test('finishing with a version pushed without a run id links that version to the run', async (t) => {
  const registry = await openTemp(t);
  await registry.models.push(DIGITS, { name: 'digits' });
  const run = await registry.runs.start(
    newRun({
      kind: 'update:minibatch',
      parentVersion: 1,
      datasetSha256: null,
      datasetRows: null,
      datasetSource: 'stream',
    }),
  );
  await registry.models.push(DIGITS, { name: 'digits', parentVersion: 1 });
  const done = await registry.runs.finish(run.run_id, {
    metrics: {},
    epochs: [],
    producedVersion: 2,
    durationMs: 5,
    datasetSha256: SHA,
    datasetRows: 64,
  });
  assert.equal(done.parent_version, 1);
  assert.equal(done.dataset_source, 'stream');
  assert.equal(done.dataset_sha256, SHA);
  assert.equal(done.dataset_rows, 64);
  assert.equal((await registry.models.getVersion('digits', 2)).run_id, run.run_id);
});

test('a version produced by another run, or missing, cannot be claimed; the run stays running', async (t) => {
  const registry = await openTemp(t);
  const first = await registry.runs.start(newRun());
  await registry.models.push(DIGITS, { name: 'digits', runId: first.run_id });
  const second = await registry.runs.start(newRun());
  const finish = { metrics: {}, epochs: [], durationMs: 1 };
  await rejectsWith(registry.runs.finish(second.run_id, { ...finish, producedVersion: 1 }), 'TEND_CONFLICT');
  await rejectsWith(
    registry.runs.finish(second.run_id, { ...finish, producedVersion: 9 }),
    'TEND_VERSION_NOT_FOUND',
  );
  const other = await registry.runs.start(newRun({ modelName: 'never-pushed' }));
  await rejectsWith(
    registry.runs.finish(other.run_id, { ...finish, producedVersion: 1 }),
    'TEND_VERSION_NOT_FOUND',
  );
  assert.equal((await registry.runs.get(second.run_id)).status, 'running');
  assert.equal((await registry.runs.finish(second.run_id, finish)).produced_version, null);
});

test('a failed run keeps its error, the epochs it got through and a measured duration', async (t) => {
  const registry = await openTemp(t);
  const run = await registry.runs.start(newRun());
  const failed = await registry.runs.fail(run.run_id, 'loss became NaN at epoch 2', [
    { epoch: 1, loss: 0.9 },
  ]);
  assert.equal(failed.status, 'failed');
  assert.equal(failed.error, 'loss became NaN at epoch 2');
  assert.deepEqual(failed.epochs, [{ epoch: 1, loss: 0.9 }]);
  assert.ok(failed.duration_ms !== null && failed.duration_ms >= 0);
  assert.ok(failed.finished_at !== null);
  // An ended run cannot end again.
  await rejectsWith(registry.runs.fail(run.run_id, 'again'), 'TEND_CONFLICT');
  await rejectsWith(
    registry.runs.finish(run.run_id, { metrics: {}, epochs: [], durationMs: 1 }),
    'TEND_CONFLICT',
  );
  const finished = await registry.runs.start(newRun());
  await registry.runs.finish(finished.run_id, { metrics: {}, epochs: [], durationMs: 1 });
  await rejectsWith(registry.runs.fail(finished.run_id, 'late'), 'TEND_CONFLICT');
});

test('unknown runs are TEND_NOT_FOUND', async (t) => {
  const registry = await openTemp(t);
  await rejectsWith(registry.runs.get('r20250101000000abcdef'), 'TEND_NOT_FOUND');
  await rejectsWith(
    registry.runs.finish('nope', { metrics: {}, epochs: [], durationMs: 1 }),
    'TEND_NOT_FOUND',
  );
  await rejectsWith(registry.runs.fail('nope', 'x'), 'TEND_NOT_FOUND');
  await assert.rejects(registry.runs.get('nope'), /run 'nope' not found/);
  await rejectsWith(registry.runs.get(''), 'TEND_INVALID_ARGUMENT');
});

test('bad run input is TEND_INVALID_ARGUMENT and records nothing', async (t) => {
  const registry = await openTemp(t);
  const bad: Partial<NewRun>[] = [
    { modelName: '../x' },
    { kind: 'Train' },
    { kind: '' },
    { parameters: [] as unknown as Record<string, unknown> },
    { parameters: { n: 1n } },
    { datasetSha256: 'ABC' },
    { datasetRows: -1 },
    { datasetRows: 1.5 },
    { datasetSource: '' },
    { parentVersion: 0 },
    { codeVersion: '' },
  ];
  for (const over of bad) await rejectsWith(registry.runs.start(newRun(over)), 'TEND_INVALID_ARGUMENT');
  await rejectsWith(registry.runs.start({ ...newRun(), createdBy: '' }), 'TEND_INVALID_ARGUMENT');
  assert.deepEqual(await registry.runs.list(), []);

  const run = await registry.runs.start(newRun());
  const ok = { metrics: {}, epochs: [], durationMs: 1 };
  await rejectsWith(
    registry.runs.finish(run.run_id, { ...ok, metrics: null as unknown as Record<string, unknown> }),
    'TEND_INVALID_ARGUMENT',
  );
  await rejectsWith(
    registry.runs.finish(run.run_id, { ...ok, epochs: [1] as unknown as [] }),
    'TEND_INVALID_ARGUMENT',
  );
  await rejectsWith(registry.runs.finish(run.run_id, { ...ok, epochs: [[1]] }), 'TEND_INVALID_ARGUMENT');
  await rejectsWith(
    registry.runs.finish(run.run_id, { ...ok, parameters: [] as unknown as Record<string, unknown> }),
    'TEND_INVALID_ARGUMENT',
  );
  await rejectsWith(registry.runs.finish(run.run_id, { ...ok, durationMs: -1 }), 'TEND_INVALID_ARGUMENT');
  await rejectsWith(
    registry.runs.finish(run.run_id, { ...ok, durationMs: Number.NaN }),
    'TEND_INVALID_ARGUMENT',
  );
  await rejectsWith(
    registry.runs.finish(run.run_id, { ...ok, producedVersion: 1.5 }),
    'TEND_INVALID_ARGUMENT',
  );
  await rejectsWith(registry.runs.finish(run.run_id, { ...ok, datasetSha256: 'x' }), 'TEND_INVALID_ARGUMENT');
  await rejectsWith(registry.runs.fail(run.run_id, ''), 'TEND_INVALID_ARGUMENT');
  assert.equal((await registry.runs.get(run.run_id)).status, 'running');
});

test('runs list newest first, by model, status and limit', async (t) => {
  const registry = await openTemp(t);
  // A few ms apart so that their start times differ (ties would fall back to the random id suffix).
  const pause = () => new Promise((r) => setTimeout(r, 5));
  const a = await registry.runs.start(newRun());
  await pause();
  const b = await registry.runs.start(newRun({ modelName: 'iris' }));
  await pause();
  const c = await registry.runs.start(newRun());
  await registry.runs.fail(c.run_id, 'oops');
  const ids = (runs: { run_id: string }[]) => runs.map((r) => r.run_id);
  assert.deepEqual(ids(await registry.runs.list()), [c.run_id, b.run_id, a.run_id]);
  assert.deepEqual(ids(await registry.runs.list({ model: 'digits' })), [c.run_id, a.run_id]);
  assert.deepEqual(ids(await registry.runs.list({ model: 'digits', status: 'failed' })), [c.run_id]);
  assert.deepEqual(ids(await registry.runs.list({ model: 'none' })), []);
  assert.equal((await registry.runs.list({ limit: 2 })).length, 2);
  await rejectsWith(registry.runs.list({ limit: 0 }), 'TEND_INVALID_ARGUMENT');
  await rejectsWith(registry.runs.list({ status: 'done' as 'failed' }), 'TEND_INVALID_ARGUMENT');
  await rejectsWith(registry.runs.list({ model: '..' }), 'TEND_INVALID_ARGUMENT');
});

test('runs outlive their model', async (t) => {
  const registry = await openTemp(t);
  const run = await registry.runs.start(newRun());
  await registry.models.push(DIGITS, { name: 'digits', runId: run.run_id });
  await registry.runs.finish(run.run_id, { metrics: {}, epochs: [], producedVersion: 1, durationMs: 1 });
  await registry.models.delete('digits');
  assert.equal((await registry.runs.get(run.run_id)).produced_version, 1);
});
