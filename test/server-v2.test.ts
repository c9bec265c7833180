/**
 * The V2 JSON server end to end over a real socket: outputs equal onnxruntime run directly, and
 * under load a full queue (503), a queue timeout (504) and clients hanging up while queued. Metadata,
 * health, metrics and every bad-input path are route tests in src/server/http/app.test.ts (inject).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { createDirectSession } from '../src/runtime/index.js';
import type { Tensor } from '../src/core/tensor.js';
import { trainDigitsModel } from '../src/train/index.js';
import {
  FIXTURE_MODELS,
  makeRepo,
  postJson,
  seededRandom,
  startTestServer,
  type TestServer,
} from './helpers.js';

const DIGITS_MLP = join(FIXTURE_MODELS, 'digits_mlp.onnx');
const SMALL_CNN = join(FIXTURE_MODELS, 'small_cnn.onnx');
const TEXT = join(FIXTURE_MODELS, 'tiny_text_encoder.onnx');

let srv: TestServer;
let repo: string;
let demoModel: Uint8Array;
let demoRows: Float32Array;

function floats(n: number, rand: () => number, scale = 1): number[] {
  return Array.from({ length: n }, () => Math.fround(rand() * scale));
}

async function direct(modelPath: string, inputs: Tensor[]): Promise<Tensor[]> {
  const s = await createDirectSession(modelPath, { graphOptimizationLevel: 'all' });
  try {
    return await s.run(inputs);
  } finally {
    await s.release();
  }
}

function outputData(body: Record<string, unknown>, name: string): unknown[] {
  const outputs = body['outputs'] as { name: string; data: unknown[] }[];
  const out = outputs.find((o) => o.name === name);
  assert.ok(out, `output ${name} in ${JSON.stringify(body).slice(0, 200)}`);
  return out.data;
}

before(async () => {
  const trained = trainDigitsModel({ epochs: 30 });
  demoModel = trained.model;
  demoRows = trained.testSet.features;
  repo = makeRepo([
    { name: 'digits_mlp', model: DIGITS_MLP },
    { name: 'small_cnn', model: SMALL_CNN },
    { name: 'text', model: TEXT },
    { name: 'digits', model: demoModel },
    {
      name: 'cnn_queue',
      model: SMALL_CNN,
      config: { max_batch_size: 1, dynamic_batching: { max_queue_size: 2 } },
    },
    { name: 'cnn_serial', model: SMALL_CNN, config: { max_batch_size: 1 } },
    {
      name: 'cnn_timeout',
      model: SMALL_CNN,
      config: { max_batch_size: 1, dynamic_batching: { default_timeout_microseconds: 1 } },
    },
  ]);
  srv = await startTestServer({ repos: [repo], config: { body_limit_bytes: 4 * 1024 * 1024 } });
});

after(async () => {
  await srv?.close();
  rmSync(repo, { recursive: true, force: true });
});

describe('served outputs equal onnxruntime-node run directly', () => {
  test('digits demo model, one request at a time: identical', async () => {
    const rows = 5;
    const data = Array.from(demoRows.subarray(0, rows * 64));
    const res = await postJson(`${srv.url}/v2/models/digits/infer`, {
      inputs: [{ name: 'features', shape: [rows, 64], datatype: 'FP32', data }],
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const [probs, label] = await direct(join(repo, 'digits', '1', 'model.onnx'), [
      { name: 'features', datatype: 'FP32', shape: [rows, 64], data: Float32Array.from(data) },
    ]);
    assert.deepEqual(outputData(res.body, 'probabilities'), Array.from(probs?.data as Float32Array));
    assert.deepEqual(outputData(res.body, 'label'), Array.from(label?.data as BigInt64Array, Number));
    assert.equal(res.body['model_version'], '1');
  });

  for (const [name, path, make] of [
    [
      'digits_mlp',
      DIGITS_MLP,
      (r: () => number) => [
        { name: 'pixels', datatype: 'FP32' as const, shape: [3, 64], values: floats(192, r) },
      ],
    ],
    [
      'small_cnn',
      SMALL_CNN,
      (r: () => number) => [
        { name: 'image', datatype: 'FP32' as const, shape: [2, 3, 32, 32], values: floats(6144, r) },
      ],
    ],
    [
      'text',
      TEXT,
      (r: () => number) => [
        {
          name: 'input_ids',
          datatype: 'INT64' as const,
          shape: [2, 16],
          values: Array.from({ length: 32 }, () => Math.floor(r() * 2000)),
        },
        {
          name: 'attention_mask',
          datatype: 'INT64' as const,
          shape: [2, 16],
          values: Array.from({ length: 32 }, (_, i) => (i % 16 < 12 ? 1 : 0)),
        },
      ],
    ],
  ] as const) {
    test(`${name}: identical to a direct session on the same batch`, async () => {
      const inputs = make(seededRandom(7));
      const res = await postJson(`${srv.url}/v2/models/${name}/infer`, {
        inputs: inputs.map((i) => ({ name: i.name, shape: i.shape, datatype: i.datatype, data: i.values })),
      });
      assert.equal(res.status, 200, JSON.stringify(res.body).slice(0, 300));
      const expected = await direct(
        path,
        inputs.map((i) => ({
          name: i.name,
          datatype: i.datatype,
          shape: [...i.shape],
          data:
            i.datatype === 'INT64'
              ? BigInt64Array.from(i.values, (v) => BigInt(v))
              : Float32Array.from(i.values),
        })),
      );
      for (const out of expected)
        assert.deepEqual(outputData(res.body, out.name), Array.from(out.data as Float32Array));
    });
  }

  test('co-batched requests agree with single runs within 1e-6 relative', async () => {
    const n = 24;
    const bodies = Array.from({ length: n }, (_, i) => ({
      inputs: [
        {
          name: 'features',
          shape: [1, 64],
          datatype: 'FP32',
          data: Array.from(demoRows.subarray(i * 64, (i + 1) * 64)),
        },
      ],
    }));
    const answers = await Promise.all(bodies.map((b) => postJson(`${srv.url}/v2/models/digits/infer`, b)));
    const all = await direct(join(repo, 'digits', '1', 'model.onnx'), [
      { name: 'features', datatype: 'FP32', shape: [n, 64], data: demoRows.slice(0, n * 64) },
    ]);
    const expected = all[0]?.data as Float32Array;
    answers.forEach((a, i) => {
      assert.equal(a.status, 200);
      const got = outputData(a.body, 'probabilities') as number[];
      got.forEach((v, j) => {
        const want = expected[i * 10 + j] as number;
        assert.ok(
          Math.abs(v - want) <= 1e-6 * Math.max(Math.abs(want), 1e-30) || Math.abs(v - want) < 1e-12,
          `row ${i} col ${j}: ${v} vs ${want}`,
        );
      });
    });
  });
});

describe('a loaded server answers 503 / 504 with {"error"} and keeps serving', () => {
  test('queue full → 503 with Retry-After', async () => {
    const body = {
      inputs: [{ name: 'image', shape: [1, 3, 32, 32], datatype: 'FP32', data: new Array(3072).fill(0.1) }],
    };
    const answers = await Promise.all(
      Array.from({ length: 40 }, () => postJson(`${srv.url}/v2/models/cnn_queue/infer`, body)),
    );
    const full = answers.filter((a) => a.status === 503);
    assert.ok(
      full.length > 0,
      `some of 40 requests meet a full queue of 2 (statuses ${answers.map((a) => a.status).join(',')})`,
    );
    assert.ok(answers.some((a) => a.status === 200));
    for (const a of full) {
      assert.equal(a.headers.get('retry-after'), '1');
      assert.match(String(a.body['error']), /queue of model 'cnn_queue:1' is full/);
      assert.equal(a.body['code'], 'TEND_QUEUE_FULL');
    }
    assert.equal(answers.filter((a) => a.status !== 200 && a.status !== 503).length, 0);
    const after = await postJson(`${srv.url}/v2/models/cnn_queue/infer`, body);
    assert.equal(after.status, 200);
  });
  test('queue timeout → 504', async () => {
    const body = {
      inputs: [{ name: 'image', shape: [1, 3, 32, 32], datatype: 'FP32', data: new Array(3072).fill(0.1) }],
    };
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => postJson(`${srv.url}/v2/models/cnn_timeout/infer`, body)),
    );
    const timedOut = answers.filter((a) => a.status === 504);
    assert.ok(timedOut.length > 0, `statuses ${answers.map((a) => a.status).join(',')}`);
    for (const a of timedOut) {
      assert.match(String(a.body['error']), /timed out/);
      assert.equal(a.body['code'], 'TEND_QUEUE_TIMEOUT');
    }
    assert.equal(answers.filter((a) => a.status !== 200 && a.status !== 504).length, 0);
  });
  test('a client that hangs up while queued is dropped from the queue', async () => {
    const body = JSON.stringify({
      inputs: [{ name: 'image', shape: [1, 3, 32, 32], datatype: 'FP32', data: new Array(3072).fill(0.1) }],
    });
    const count = async (outcome: string) => {
      const text = await (await fetch(`${srv.url}/metrics`)).text();
      const m = new RegExp(
        `tend_inference_requests_total\\{model="cnn_serial",version="1",outcome="${outcome}"\\} (\\d+)`,
      ).exec(text);
      return m ? Number(m[1]) : 0;
    };
    const controllers = Array.from({ length: 40 }, () => new AbortController());
    const sent = controllers.map((c) =>
      fetch(`${srv.url}/v2/models/cnn_serial/infer`, { method: 'POST', body, signal: c.signal }).then(
        (r) => r.status,
        () => 'aborted',
      ),
    );
    await new Promise((r) => setTimeout(r, 20));
    controllers.slice(10).forEach((c) => c.abort());
    const statuses = await Promise.all(sent);
    assert.deepEqual(statuses.slice(0, 10), new Array(10).fill(200));
    // The queue drains quickly once the aborted requests leave it; give the server a moment to settle.
    await new Promise((r) => setTimeout(r, 200));
    const rejected = await count('rejected');
    assert.ok(rejected > 0, `some aborted requests left the queue unrun (statuses ${statuses.join(',')})`);
    assert.ok((await count('success')) + rejected <= 40);
    assert.equal(await count('failure'), 0);
    const after = await postJson(`${srv.url}/v2/models/cnn_serial/infer`, body);
    assert.equal(after.status, 200);
  });
});
