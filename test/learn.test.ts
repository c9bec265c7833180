/**
 * Online learning over HTTP (issue 9): POST /v2/models/{m}/learn predicts then learns each sample,
 * cuts a version every snapshot_every samples (lineage, one run each), moves the publish alias,
 * and feeds on the feedback stream. Bad samples and models that cannot learn are route tests in
 * src/server/http/learn-routes.test.ts (inject).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { numberCell, readCsv } from '../src/core/csv.js';
import { Registry } from '../src/registry/index.js';
import { trainAndRegister } from '../src/engine/index.js';
import { postJson, ROOT, startTestServer, tempDir, type TestServer } from './helpers.js';

const IRIS = join(ROOT, 'fixtures', 'train', 'iris.csv');
const irisCsv = readCsv(readFileSync(IRIS, 'utf8'), IRIS);
const rows = irisCsv.rows.map((_, r) => ({
  features: [0, 1, 2, 3].map((c) => numberCell(irisCsv, r, c)),
  label: irisCsv.rows[r]?.cells[4] as string,
}));

let server: TestServer;
let home: string;

before(async () => {
  home = tempDir('learn');
  const registry = await Registry.open(home);
  try {
    await trainAndRegister(registry, {
      data: IRIS,
      target: 'species',
      model: 'softmax',
      name: 'iris',
      alias: 'champion',
      seed: 1,
    });
  } finally {
    await registry.close();
  }
  server = await startTestServer({
    home,
    config: {
      models: {
        iris: {
          online_learning: { snapshot_every: 50, publish_alias: 'live', max_samples_per_request: 200 },
        },
      },
    },
  });
});

after(async () => {
  await server.close();
});

test('samples are learned, snapshots become versions with lineage and runs, the alias follows', async () => {
  const first = await postJson(`${server.url}/v2/models/iris/learn`, { samples: rows.slice(0, 120) });
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.equal(first.body['base_version'], 1);
  assert.equal(first.body['learned'], 120);
  assert.equal(first.body['samples_seen'], 120);
  const snapshots = first.body['snapshots'] as { version: number; run: string; samples: number }[];
  assert.deepEqual(
    snapshots.map((s) => [s.version, s.samples]),
    [
      [2, 50],
      [3, 50],
    ],
  );
  const progressive = first.body['progressive'] as Record<string, number>;
  assert.equal(progressive['samples'], 120);
  assert.ok((progressive['accuracy'] as number) > 0.5, JSON.stringify(progressive));
  // Class indices work as labels too.
  const byIndex = await postJson(`${server.url}/v2/models/iris/learn`, {
    samples: [{ features: rows[0]?.features, label: 0 }],
  });
  assert.equal(byIndex.status, 200, JSON.stringify(byIndex.body));
  assert.equal(byIndex.body['samples_seen'], 121);

  const registry = server.engine.registry;
  const versions = await registry.models.listVersions('iris');
  assert.deepEqual(
    versions.map((v) => [v.version, v.parent_version]),
    [
      [1, null],
      [2, 1],
      [3, 2],
    ],
  );
  assert.equal((await registry.models.listAliases('iris'))['live'], 3);
  assert.equal((await registry.models.listAliases('iris'))['champion'], 1);
  const run = await registry.runs.get(snapshots[1]?.run as string);
  assert.equal(run.kind, 'update:online');
  assert.equal(run.status, 'finished');
  assert.equal(run.produced_version, 3);
  assert.equal(run.parent_version, 2);
  assert.equal(run.dataset_rows, 50);
  assert.match(run.dataset_sha256 ?? '', /^[0-9a-f]{64}$/);
  // The snapshot serves: the alias moved only after it loaded.
  const infer = await postJson(`${server.url}/v2/models/iris/versions/3/infer`, {
    inputs: [{ name: 'features', shape: [1, 4], datatype: 'FP32', data: rows[0]?.features }],
  });
  assert.equal(infer.status, 200, JSON.stringify(infer.body));
});

test('the feedback stream feeds the learner: predictions logged, ground truth sent, the labelled rows learned', async () => {
  const home2 = tempDir('learn-feedback');
  const registry = await Registry.open(home2);
  try {
    await trainAndRegister(registry, {
      data: IRIS,
      target: 'species',
      model: 'softmax',
      name: 'iris',
      alias: 'champion',
      seed: 1,
    });
  } finally {
    await registry.close();
  }
  const srv = await startTestServer({
    home: home2,
    config: { models: { iris: { online_learning: { snapshot_every: 10, from_feedback: true } } } },
  });
  try {
    const sent = rows.slice(0, 12);
    const infer = await postJson(`${srv.url}/v2/models/iris/infer`, {
      id: 'fb-1',
      inputs: [
        {
          name: 'features',
          shape: [sent.length, 4],
          datatype: 'FP32',
          data: sent.flatMap((r) => r.features),
        },
      ],
    });
    assert.equal(infer.status, 200, JSON.stringify(infer.body));
    const feedback = await postJson(`${srv.url}/v2/models/iris/feedback`, {
      feedback: sent.map((r, row) => ({ id: 'fb-1', row, label: r.label })),
    });
    assert.equal(feedback.status, 200, JSON.stringify(feedback.body));
    assert.equal(feedback.body['accepted'], 12);
    assert.equal(feedback.body['learned'], 12);
    // 12 samples with snapshot_every 10: one new version, cut from the feedback stream.
    const versions = await srv.engine.registry.models.listVersions('iris');
    assert.deepEqual(
      versions.map((v) => [v.version, v.parent_version]),
      [
        [1, null],
        [2, 1],
      ],
    );
  } finally {
    await srv.close();
  }
});
