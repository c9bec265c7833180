import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareRunRecords } from './run-comparison.js';
import type { RunRecord } from './run-store.js';

function run(id: string, over: Partial<RunRecord>): RunRecord {
  return {
    run_id: id,
    model_name: 'digits',
    kind: 'train',
    status: 'finished',
    parameters: {},
    epochs: [],
    metrics: {},
    dataset_sha256: 'a'.repeat(64),
    dataset_rows: 100,
    dataset_source: 'd.csv',
    parent_version: null,
    produced_version: 1,
    code_version: 'tend 0.1.0',
    error: null,
    started_at: '2025-01-01T00:00:00.000Z',
    finished_at: '2025-01-01T00:00:01.000Z',
    duration_ms: 1000,
    created_by: 'me',
    ...over,
  };
}

test('parameters and metrics become key × run tables with differing keys marked', () => {
  const a = run('r1', {
    parameters: { lr: 0.1, layers: { hidden: 16, act: 'relu' }, seed: 1 },
    metrics: { accuracy: 0.9, loss: 0.3 },
  });
  const b = run('r2', {
    parameters: { lr: 0.01, layers: { act: 'relu', hidden: 16 } },
    metrics: { accuracy: 0.93, loss: 0.3 },
    produced_version: 2,
  });
  const cmp = compareRunRecords([a, b]);
  assert.deepEqual(cmp.run_ids, ['r1', 'r2']);
  assert.deepEqual(cmp.parameters, [
    {
      key: 'layers',
      values: [
        { hidden: 16, act: 'relu' },
        { act: 'relu', hidden: 16 },
      ],
      differs: false,
    },
    { key: 'lr', values: [0.1, 0.01], differs: true },
    { key: 'seed', values: [1, null], differs: true },
  ]);
  assert.deepEqual(cmp.metrics, [
    { key: 'accuracy', values: [0.9, 0.93], differs: true },
    { key: 'loss', values: [0.3, 0.3], differs: false },
  ]);
  const facts = Object.fromEntries(cmp.runs.map((r) => [r.key, r]));
  assert.equal(facts.produced_version?.differs, true);
  assert.equal(facts.dataset_sha256?.differs, false);
  assert.deepEqual(facts.code_version?.values, ['tend 0.1.0', 'tend 0.1.0']);
});

test('one run differs from nothing; no runs give empty tables', () => {
  const one = compareRunRecords([run('r1', { parameters: { lr: 1 } })]);
  assert.ok(one.parameters.every((r) => !r.differs) && one.runs.every((r) => !r.differs));
  const none = compareRunRecords([]);
  assert.deepEqual([none.run_ids, none.parameters, none.metrics], [[], [], []]);
  assert.ok(none.runs.every((r) => r.values.length === 0 && !r.differs));
});
