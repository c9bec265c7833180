/**
 * Model resolution as a user of Triton and MLflow expects it: version policies of repositories,
 * registry aliases, lazily loaded registry versions, models pushed while serving, and a broken
 * model that does not stop the others.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from '../src/registry/index.js';
import { liveWorkerCount } from '../src/runtime/index.js';
import {
  FIXTURE_MODELS,
  getJson,
  makeRepo,
  postJson,
  startTestServer,
  tempDir,
  type TestServer,
} from './helpers.js';

const DIGITS_MLP = join(FIXTURE_MODELS, 'digits_mlp.onnx');
const SMALL_CNN = join(FIXTURE_MODELS, 'small_cnn.onnx');
const pixels = {
  inputs: [{ name: 'pixels', shape: [1, 64], datatype: 'FP32', data: new Array(64).fill(0.5) }],
};

let srv: TestServer;
let repo: string;
let home: string;

before(async () => {
  home = tempDir('engine-home');
  const registry = await Registry.open(home);
  await registry.models.push(DIGITS_MLP, { name: 'fraud', aliases: ['champion'] }); // v1
  await registry.models.push(DIGITS_MLP, { name: 'fraud' }); // v2
  await registry.models.push(DIGITS_MLP, { name: 'fraud' }); // v3
  await registry.close();
  repo = makeRepo([
    {
      name: 'mlp',
      model: DIGITS_MLP,
      version: 1,
      config: { version_policy: { latest: { num_versions: 2 } } },
    },
    { name: 'mlp', model: DIGITS_MLP, version: 2 },
    { name: 'mlp', model: DIGITS_MLP, version: 3 },
    { name: 'fixed', model: SMALL_CNN, config: { max_batch_size: 0 } },
  ]);
  // A model whose config is invalid: reported, never served, and the rest still works.
  mkdirSync(join(repo, 'broken', '1'), { recursive: true });
  writeFileSync(join(repo, 'broken', '1', 'model.onnx'), 'x');
  writeFileSync(join(repo, 'broken', 'config.yaml'), 'max_batch_size: -3\n');
  srv = await startTestServer({ repos: [repo], home });
});

after(async () => {
  await srv?.close();
  rmSync(repo, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

test('repository version policy: latest 2 serves versions 3 and 2 only', async () => {
  const meta = await getJson(`${srv.url}/v2/models/mlp`);
  assert.deepEqual(meta.body['versions'], ['2', '3']);
  const res = await postJson(`${srv.url}/v2/models/mlp/infer`, pixels);
  assert.equal(res.body['model_version'], '3');
  assert.equal((await postJson(`${srv.url}/v2/models/mlp/versions/2/infer`, pixels)).status, 200);
  const old = await postJson(`${srv.url}/v2/models/mlp/versions/1/infer`, pixels);
  assert.equal(old.status, 404);
  assert.match(String(old.body['error']), /not loaded \(its version_policy leaves it out\)/);
});

test('registry: NAME serves the highest version, NAME@ALIAS and /versions/ALIAS the aliased one', async () => {
  assert.equal((await postJson(`${srv.url}/v2/models/fraud/infer`, pixels)).body['model_version'], '3');
  assert.equal(
    (await postJson(`${srv.url}/v2/models/fraud@champion/infer`, pixels)).body['model_version'],
    '1',
  );
  assert.equal(
    (await postJson(`${srv.url}/v2/models/fraud/versions/champion/infer`, pixels)).body['model_version'],
    '1',
  );
  assert.equal(
    (await postJson(`${srv.url}/v2/models/fraud/versions/latest/infer`, pixels)).body['model_version'],
    '3',
  );
});

test('registry: a version outside the policy loads on its first request', async () => {
  const res = await postJson(`${srv.url}/v2/models/fraud/versions/2/infer`, pixels);
  assert.equal(res.status, 200);
  assert.equal(res.body['model_version'], '2');
});

test('a model pushed while the server runs is served on first use', async () => {
  const registry = await Registry.open(home);
  await registry.models.push(DIGITS_MLP, { name: 'late' });
  await registry.close();
  const res = await postJson(`${srv.url}/v2/models/late/infer`, pixels);
  assert.equal(res.status, 200, JSON.stringify(res.body));
});

test('concurrent first requests for a new version load it once', async () => {
  const registry = await Registry.open(home);
  await registry.models.push(DIGITS_MLP, { name: 'late' }); // version 2
  await registry.close();
  const workersBefore = liveWorkerCount();
  const answers = await Promise.all(
    Array.from({ length: 8 }, () => postJson(`${srv.url}/v2/models/late/versions/2/infer`, pixels)),
  );
  assert.deepEqual(
    answers.map((a) => a.status),
    new Array(8).fill(200),
  );
  assert.equal(liveWorkerCount(), workersBefore + 1);
});

test('max_batch_size 0: clients send the full shape, the batch dimension is not checked', async () => {
  const ok = await postJson(`${srv.url}/v2/models/fixed/infer`, {
    inputs: [{ name: 'image', shape: [2, 3, 32, 32], datatype: 'FP32', data: new Array(6144).fill(0) }],
  });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
});

test('a broken model is reported; readiness says so; others serve', async () => {
  const ready = await getJson(`${srv.url}/v2/health/ready`);
  assert.equal(ready.status, 503);
  const listing = await getJson(`${srv.url}/v2/models`);
  const broken = (listing.body['models'] as { name: string; error?: string }[]).find(
    (m) => m.name === 'broken',
  );
  assert.match(String(broken?.error), /max_batch_size/);
  const res = await postJson(`${srv.url}/v2/models/broken/infer`, pixels);
  assert.equal(res.status, 503);
  assert.match(String(res.body['error']), /cannot be served/);
  assert.equal((await postJson(`${srv.url}/v2/models/mlp/infer`, pixels)).status, 200);
});

test('a NAME@ALIAS together with /versions/ is refused', async () => {
  const res = await postJson(`${srv.url}/v2/models/fraud@champion/versions/1/infer`, pixels);
  assert.equal(res.status, 400);
  assert.match(String(res.body['error']), /either/);
});
