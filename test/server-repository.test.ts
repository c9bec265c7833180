/**
 * The model repository extension over HTTP: explicit load / reload / unload with Triton's semantics
 * (a failed load leaves the serving version in place, a reload keeps answering every request), and
 * the classification extension on a served model. The index, the refusals and model control `none`
 * are route tests in src/server/http/repository-routes.test.ts (inject).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  FIXTURE_MODELS,
  getJson,
  makeRepo,
  postJson,
  seededRandom,
  startTestServer,
  type TestServer,
} from './helpers.js';

const DIGITS_MLP = join(FIXTURE_MODELS, 'digits_mlp.onnx');
const SMALL_CNN = join(FIXTURE_MODELS, 'small_cnn.onnx');

function digitsBody(seed = 1, rows = 1): Record<string, unknown> {
  const r = seededRandom(seed);
  return {
    inputs: [
      {
        name: 'pixels',
        datatype: 'FP32',
        shape: [rows, 64],
        data: Array.from({ length: 64 * rows }, () => Math.fround(r())),
      },
    ],
  };
}

describe('repository extension', () => {
  let srv: TestServer;
  let repo: string;

  before(async () => {
    repo = makeRepo([{ name: 'digits', model: DIGITS_MLP }]);
    srv = await startTestServer({ repos: [repo] });
  });
  after(async () => {
    await srv.close();
    rmSync(repo, { recursive: true, force: true });
  });

  test('a model added to the repository after start loads on request and serves', async () => {
    mkdirSync(join(repo, 'cnn', '1'), { recursive: true });
    cpSync(SMALL_CNN, join(repo, 'cnn', '1', 'model.onnx'));
    const load = await postJson(`${srv.url}/v2/repository/models/cnn/load`, '');
    assert.equal(load.status, 200, JSON.stringify(load.body));
    const r = seededRandom(3);
    const res = await postJson(`${srv.url}/v2/models/cnn/infer`, {
      inputs: [
        {
          name: 'image',
          datatype: 'FP32',
          shape: [1, 3, 32, 32],
          data: Array.from({ length: 3072 }, () => r()),
        },
      ],
    });
    assert.equal(res.status, 200);
    assert.equal((await getJson(`${srv.url}/v2/health/ready`)).status, 200);
  });

  test('a reload picks up a new version and keeps answering every request meanwhile', async () => {
    mkdirSync(join(repo, 'digits', '2'), { recursive: true });
    cpSync(DIGITS_MLP, join(repo, 'digits', '2', 'model.onnx'));
    let stop = false;
    const statuses: number[] = [];
    const traffic = (async () => {
      while (!stop) statuses.push((await postJson(`${srv.url}/v2/models/digits/infer`, digitsBody())).status);
    })();
    const load = await postJson(`${srv.url}/v2/repository/models/digits/load`, {});
    assert.equal(load.status, 200, JSON.stringify(load.body));
    for (let i = 0; i < 20; i++)
      statuses.push((await postJson(`${srv.url}/v2/models/digits/infer`, digitsBody())).status);
    stop = true;
    await traffic;
    assert.ok(statuses.length > 20);
    assert.deepEqual([...new Set(statuses)], [200], 'no request failed during the swap');
    const res = await postJson(`${srv.url}/v2/models/digits/infer`, digitsBody());
    assert.equal(res.body['model_version'], '2');
    const index = await postJson(`${srv.url}/v2/repository/index`, {});
    const digits = (index.body as unknown as { name: string; version: string; state: string }[]).filter(
      (e) => e.name === 'digits',
    );
    assert.deepEqual(
      digits.map((e) => [e.version, e.state]),
      [['2', 'READY']],
    );
  });

  test('a load that fails leaves the serving version in place and says so', async () => {
    mkdirSync(join(repo, 'digits', '3'), { recursive: true });
    writeFileSync(join(repo, 'digits', '3', 'model.onnx'), 'not an onnx file');
    const load = await postJson(`${srv.url}/v2/repository/models/digits/load`, {});
    assert.equal(load.status, 400);
    assert.equal(load.body['code'], 'TEND_MODEL_LOAD_FAILED');
    assert.match(String(load.body['error']), /version 3: .*; version 2 keeps serving/);
    const res = await postJson(`${srv.url}/v2/models/digits/infer`, digitsBody());
    assert.equal(res.status, 200);
    assert.equal(res.body['model_version'], '2');
    rmSync(join(repo, 'digits', '3'), { recursive: true, force: true });
  });

  test('unload stops serving (503) without hurting readiness; load brings it back', async () => {
    const unload = await postJson(`${srv.url}/v2/repository/models/cnn/unload`, '');
    assert.equal(unload.status, 200);
    const r = seededRandom(4);
    const res = await postJson(`${srv.url}/v2/models/cnn/infer`, {
      inputs: [
        {
          name: 'image',
          datatype: 'FP32',
          shape: [1, 3, 32, 32],
          data: Array.from({ length: 3072 }, () => r()),
        },
      ],
    });
    assert.equal(res.status, 503);
    assert.match(String(res.body['error']), /unloaded/);
    const index = await postJson(`${srv.url}/v2/repository/index`, {});
    assert.deepEqual(
      (index.body as unknown as { name: string; state: string; reason: string }[])
        .filter((e) => e.name === 'cnn')
        .map((e) => [e.state, e.reason]),
      [['UNAVAILABLE', 'unloaded']],
    );
    assert.equal((await getJson(`${srv.url}/v2/health/ready`)).status, 200);
    assert.equal((await postJson(`${srv.url}/v2/repository/models/cnn/load`, '')).status, 200);
    assert.equal((await postJson(`${srv.url}/v2/models/digits/infer`, digitsBody())).status, 200);
  });
});

describe('classification extension', () => {
  let srv: TestServer;
  let repo: string;
  const labels = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
  before(async () => {
    repo = makeRepo([
      { name: 'digits', model: DIGITS_MLP, config: { labels } },
      { name: 'plain', model: DIGITS_MLP },
    ]);
    srv = await startTestServer({ repos: [repo] });
  });
  after(async () => {
    await srv.close();
    rmSync(repo, { recursive: true, force: true });
  });

  test('top-k of each row as "score:index:label", in the order of the raw scores', async () => {
    const body = digitsBody(9, 2);
    const raw = await postJson(`${srv.url}/v2/models/digits/infer`, body);
    const logits = ((raw.body['outputs'] as { data: number[] }[])[0] as { data: number[] }).data;
    const res = await postJson(`${srv.url}/v2/models/digits/infer`, {
      ...body,
      outputs: [{ name: 'logits', parameters: { classification: 3 } }],
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const out = (
      res.body['outputs'] as { name: string; datatype: string; shape: number[]; data: string[] }[]
    )[0];
    assert.ok(out);
    assert.equal(out.datatype, 'BYTES');
    assert.deepEqual(out.shape, [2, 3]);
    for (let row = 0; row < 2; row++) {
      const scores = logits.slice(row * 10, row * 10 + 10);
      const top = scores
        .map((v, i) => [v, i] as const)
        .sort((a, b) => b[0] - a[0])
        .slice(0, 3);
      assert.deepEqual(
        out.data.slice(row * 3, row * 3 + 3),
        top.map(([v, i]) => `${v}:${i}:${labels[i]}`),
      );
    }
  });

  test('without labels the strings are "score:index"; bad k and unknown outputs are 400', async () => {
    const res = await postJson(`${srv.url}/v2/models/plain/infer`, {
      ...digitsBody(),
      outputs: [{ name: 'logits', parameters: { classification: 1 } }],
    });
    const out = (res.body['outputs'] as { data: string[] }[])[0];
    assert.match(String(out?.data[0]), /^-?[0-9.e+-]+:[0-9]$/);
    const badK = await postJson(`${srv.url}/v2/models/plain/infer`, {
      ...digitsBody(),
      outputs: [{ name: 'logits', parameters: { classification: 0 } }],
    });
    assert.equal(badK.status, 400);
    assert.match(String(badK.body['error']), /classification must be an integer/);
    const unknown = await postJson(`${srv.url}/v2/models/plain/infer`, {
      ...digitsBody(),
      outputs: [{ name: 'nope', parameters: { classification: 2 } }],
    });
    assert.equal(unknown.status, 400);
    assert.equal((await postJson(`${srv.url}/v2/models/plain/infer`, digitsBody())).status, 200);
  });
});
