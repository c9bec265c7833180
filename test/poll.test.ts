/**
 * Model control `poll`: changes in the repositories and the registry are applied while serving,
 * with the zero-downtime rule (new versions warm first, old ones drain), version policies honoured,
 * failed versions never served, and the repository load/unload API refused.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBackgroundLoad } from './background-load.js';
import {
  FIXTURE_MODELS,
  getJson,
  makeRepo,
  postJson,
  seededRandom,
  startTestServer,
  tempDir,
  type TestServer,
} from './helpers.js';

const DIGITS_MLP = join(FIXTURE_MODELS, 'digits_mlp.onnx');
const SMALL_CNN = join(FIXTURE_MODELS, 'small_cnn.onnx');
const NEVER = 3_600_000;

function digitsBody(seed = 1): Record<string, unknown> {
  const r = seededRandom(seed);
  return {
    inputs: [
      {
        name: 'pixels',
        datatype: 'FP32',
        shape: [1, 64],
        data: Array.from({ length: 64 }, () => Math.fround(r())),
      },
    ],
  };
}

function dropVersion(repo: string, model: string, version: number, file = DIGITS_MLP): void {
  // Written beside and renamed in, as a deploy script would; a partial copy is covered below.
  const staging = join(repo, model, `.v${version}`);
  mkdirSync(staging, { recursive: true });
  cpSync(file, join(staging, 'model.onnx'));
  renameSync(staging, join(repo, model, String(version)));
}

async function indexOf(srv: TestServer, model: string): Promise<[string, string][]> {
  const index = await postJson(`${srv.url}/v2/repository/index`, {});
  return (index.body as unknown as { name: string; version: string; state: string }[])
    .filter((e) => e.name === model)
    .map((e) => [e.version, e.state]);
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe('model control poll: repositories', () => {
  let srv: TestServer;
  let repo: string;

  before(async () => {
    repo = makeRepo([{ name: 'digits', model: DIGITS_MLP }]);
    srv = await startTestServer({
      repos: [repo],
      config: { model_control_mode: 'poll', poll_interval_ms: NEVER },
    });
  });
  after(async () => {
    await srv.close();
    rmSync(repo, { recursive: true, force: true });
  });

  test('load and unload through the API are refused with the reason', async () => {
    for (const action of ['load', 'unload']) {
      const res = await postJson(`${srv.url}/v2/repository/models/digits/${action}`, {});
      assert.equal(res.status, 403);
      assert.match(String(res.body['error']), /--model-control poll/);
    }
  });

  test('a new version replaces the old one (latest 1): the old one unloads', async () => {
    dropVersion(repo, 'digits', 2);
    await srv.engine.pollNow();
    assert.deepEqual(await indexOf(srv, 'digits'), [['2', 'READY']]);
    const res = await postJson(`${srv.url}/v2/models/digits/infer`, digitsBody());
    assert.equal(res.body['model_version'], '2');
  });

  test('a half-written file is not served; once complete it is', async () => {
    const bytes = readFileSync(DIGITS_MLP);
    mkdirSync(join(repo, 'digits', '3'));
    writeFileSync(join(repo, 'digits', '3', 'model.onnx'), bytes.subarray(0, 200));
    await srv.engine.pollNow();
    const res = await postJson(`${srv.url}/v2/models/digits/infer`, digitsBody());
    assert.equal(res.status, 200);
    assert.equal(res.body['model_version'], '2', 'the version serving before keeps serving');
    assert.deepEqual(await indexOf(srv, 'digits'), [
      ['2', 'READY'],
      ['3', 'UNAVAILABLE'],
    ]);
    // The same bytes are not tried again on the next look; new bytes are.
    await srv.engine.pollNow();
    assert.deepEqual(await indexOf(srv, 'digits'), [
      ['2', 'READY'],
      ['3', 'UNAVAILABLE'],
    ]);
    writeFileSync(join(repo, 'digits', '3', 'model.onnx'), bytes);
    await srv.engine.pollNow();
    assert.deepEqual(await indexOf(srv, 'digits'), [['3', 'READY']]);
  });

  test('a changed config.yaml reloads the model with its new version policy', async () => {
    writeFileSync(join(repo, 'digits', 'config.yaml'), 'version_policy:\n  all: {}\n');
    await srv.engine.pollNow();
    assert.deepEqual(await indexOf(srv, 'digits'), [
      ['1', 'READY'],
      ['2', 'READY'],
      ['3', 'READY'],
    ]);
    const v1 = await postJson(`${srv.url}/v2/models/digits/versions/1/infer`, digitsBody());
    assert.equal(v1.status, 200);
  });

  test('an invalid config.yaml leaves the model serving as before', async () => {
    writeFileSync(join(repo, 'digits', 'config.yaml'), 'max_batch_size: -4\n');
    await srv.engine.pollNow();
    assert.deepEqual(await indexOf(srv, 'digits'), [
      ['1', 'READY'],
      ['2', 'READY'],
      ['3', 'READY'],
    ]);
    assert.equal(
      (await postJson(`${srv.url}/v2/models/digits/infer`, digitsBody())).body['model_version'],
      '3',
    );
    writeFileSync(join(repo, 'digits', 'config.yaml'), 'version_policy:\n  latest:\n    num_versions: 1\n');
    await srv.engine.pollNow();
    assert.deepEqual(await indexOf(srv, 'digits'), [['3', 'READY']]);
  });

  test('a model folder added is served; one removed is unloaded', async () => {
    mkdirSync(join(repo, 'cnn'));
    dropVersion(repo, 'cnn', 1, SMALL_CNN);
    await srv.engine.pollNow();
    assert.deepEqual(await indexOf(srv, 'cnn'), [['1', 'READY']]);
    assert.equal((await getJson(`${srv.url}/v2/models/cnn/ready`)).status, 200);
    rmSync(join(repo, 'cnn'), { recursive: true });
    await srv.engine.pollNow();
    assert.deepEqual(await indexOf(srv, 'cnn'), []);
    assert.equal((await getJson(`${srv.url}/v2/models/cnn`)).status, 404);
    assert.equal((await getJson(`${srv.url}/v2/health/ready`)).status, 200);
  });
});

describe('model control poll: the registry', () => {
  let srv: TestServer;

  before(async () => {
    srv = await startTestServer({ config: { model_control_mode: 'poll', poll_interval_ms: NEVER } });
    await srv.engine.registry.models.push(DIGITS_MLP, { name: 'reg' });
    await srv.engine.pollNow();
  });
  after(() => srv.close());

  test('a model pushed after start is loaded by the next look', async () => {
    const v = await getJson(`${srv.url}/v2/models/reg/versions/1/ready`);
    assert.equal(v.status, 200);
  });

  test('a new version becomes the default; the previous one unloads unless an alias needs it', async () => {
    await srv.engine.registry.models.setAlias('reg', 'stable', 1);
    await srv.engine.registry.models.push(DIGITS_MLP, { name: 'reg' });
    await srv.engine.pollNow();
    assert.equal((await postJson(`${srv.url}/v2/models/reg/infer`, digitsBody())).body['model_version'], '2');
    assert.deepEqual(await indexOf(srv, 'reg'), [
      ['1', 'READY'],
      ['2', 'READY'],
    ]);
    await srv.engine.registry.models.removeAlias('reg', 'stable');
    await srv.engine.pollNow();
    assert.deepEqual(await indexOf(srv, 'reg'), [['2', 'READY']]);
  });

  test('an archived version unloads, an unarchived one comes back', async () => {
    await srv.engine.registry.models.push(DIGITS_MLP, { name: 'reg' });
    await srv.engine.pollNow();
    assert.deepEqual(await indexOf(srv, 'reg'), [['3', 'READY']]);
    await srv.engine.registry.models.archiveVersion('reg', 3);
    await srv.engine.pollNow();
    assert.deepEqual(await indexOf(srv, 'reg'), [['2', 'READY']], 'the newest version not archived serves');
    assert.equal((await postJson(`${srv.url}/v2/models/reg/infer`, digitsBody())).body['model_version'], '2');
    await srv.engine.registry.models.unarchiveVersion('reg', 3);
    await srv.engine.pollNow();
    assert.deepEqual(await indexOf(srv, 'reg'), [['3', 'READY']]);
  });

  test('a model with nothing to serve (its only version archived) does not cost readiness', async () => {
    await srv.engine.registry.models.push(DIGITS_MLP, { name: 'lonely' });
    await srv.engine.registry.models.archiveVersion('lonely', 1);
    await srv.engine.pollNow();
    assert.equal((await getJson(`${srv.url}/v2/health/ready`)).status, 200);
    assert.deepEqual(await indexOf(srv, 'lonely'), [['', 'UNAVAILABLE']]);
  });

  test('a deleted version unloads', async () => {
    await srv.engine.registry.models.archiveVersion('reg', 3);
    await srv.engine.registry.models.deleteVersion('reg', 3);
    await srv.engine.pollNow();
    assert.deepEqual(await indexOf(srv, 'reg'), [['2', 'READY']]);
    const gone = await postJson(`${srv.url}/v2/models/reg/versions/3/infer`, digitsBody());
    assert.equal(gone.status, 404);
  });
});

describe('model control poll: versions dropped into a repository under load', () => {
  test('every request succeeds while five versions arrive; the newest serves last', async () => {
    const repo = makeRepo([{ name: 'digits', model: DIGITS_MLP }]);
    const srv = await startTestServer({
      repos: [repo],
      config: { model_control_mode: 'poll', poll_interval_ms: 100 },
    });
    const load = startBackgroundLoad(`${srv.url}/v2/models/digits/infer`, digitsBody(), 4);
    try {
      await load.started;
      for (let v = 2; v <= 6; v++) {
        dropVersion(repo, 'digits', v);
        await until(
          async () => (await indexOf(srv, 'digits')).join() === [[String(v), 'READY']].join(),
          `version ${v} alone to serve`,
        );
      }
      await new Promise((r) => setTimeout(r, 300)); // some requests on the last version
    } finally {
      const result = await load.stop();
      await srv.close();
      rmSync(repo, { recursive: true, force: true });
      console.log(
        `poll under load: ${result.ok} requests at ${result.rate_per_s}/s, ${result.failed} failed, by version ${JSON.stringify(result.by_version)}`,
      );
      assert.equal(result.failed, 0, `failed requests: ${result.error_samples.join(' | ')}`);
      assert.ok(result.ok > 0);
      assert.ok((result.by_version['6'] ?? 0) > 0, 'the newest version answered');
    }
  });
});

describe('poll interval validation', () => {
  test('an interval below 50 ms is refused', async () => {
    await assert.rejects(
      startTestServer({ home: tempDir('home'), config: { model_control_mode: 'poll', poll_interval_ms: 1 } }),
      /poll_interval_ms/,
    );
  });
});
