/**
 * The gRPC frontend end to end over a real socket: every fixture model and the trained digits model
 * answer bit-for-bit the same over JSON, the HTTP binary extension, gRPC raw contents and gRPC typed
 * contents; streaming, repository, statistics and classification over gRPC; bad requests map to
 * INVALID_ARGUMENT / NOT_FOUND with a message and the server keeps serving.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { trainDigitsModel } from '../src/train/index.js';
import { grpcClient, type GrpcTestClient, type Message } from './grpc-client.js';
import {
  FIXTURE_MODELS,
  getJson,
  makeRepo,
  postBinaryTo,
  postJson,
  seededRandom,
  startTestServer,
  type TestServer,
} from './helpers.js';

let srv: TestServer;
let client: GrpcTestClient;
let repo: string;

interface Input {
  name: string;
  datatype: 'FP32' | 'INT64';
  shape: number[];
  data: Float32Array | BigInt64Array;
}

function floats(n: number, seed: number): Float32Array {
  const r = seededRandom(seed);
  return Float32Array.from({ length: n }, () => r());
}

const CASES: { model: string; inputs: Input[] }[] = [
  {
    model: 'digits_mlp',
    inputs: [{ name: 'pixels', datatype: 'FP32', shape: [3, 64], data: floats(192, 1) }],
  },
  {
    model: 'small_cnn',
    inputs: [{ name: 'image', datatype: 'FP32', shape: [2, 3, 32, 32], data: floats(6144, 2) }],
  },
  {
    model: 'text',
    inputs: [
      {
        name: 'input_ids',
        datatype: 'INT64',
        shape: [2, 16],
        data: BigInt64Array.from({ length: 32 }, (_, i) => BigInt((i * 37) % 2000)),
      },
      {
        name: 'attention_mask',
        datatype: 'INT64',
        shape: [2, 16],
        data: BigInt64Array.from({ length: 32 }, (_, i) => (i % 16 < 12 ? 1n : 0n)),
      },
    ],
  },
  {
    model: 'digits',
    inputs: [
      {
        name: 'features',
        datatype: 'FP32',
        shape: [4, 64],
        data: floats(256, 3).map((v) => Math.round(v * 16)),
      },
    ],
  },
];

function jsonData(t: Input): number[] {
  return Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v));
}

function rawBytes(t: Input): Buffer {
  return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

function typedContents(t: Input): Message {
  return t.datatype === 'FP32'
    ? { fp32_contents: Array.from(t.data as Float32Array) }
    : { int64_contents: Array.from(t.data as BigInt64Array, String) };
}

/** Output name → raw little-endian bytes, from a gRPC response. */
function grpcOutputs(res: Message): Map<string, Buffer> {
  const outputs = res['outputs'] as { name: string }[];
  const raw = res['raw_output_contents'] as Buffer[];
  return new Map(outputs.map((o, i) => [o.name, Buffer.from(raw[i] as Buffer)]));
}

before(async () => {
  const trained = trainDigitsModel({ epochs: 5 });
  repo = makeRepo([
    {
      name: 'digits_mlp',
      model: join(FIXTURE_MODELS, 'digits_mlp.onnx'),
      config: { labels: ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'] },
    },
    { name: 'small_cnn', model: join(FIXTURE_MODELS, 'small_cnn.onnx') },
    { name: 'text', model: join(FIXTURE_MODELS, 'tiny_text_encoder.onnx') },
    { name: 'digits', model: trained.model },
  ]);
  srv = await startTestServer({ repos: [repo], grpc: true });
  client = grpcClient(srv.grpcAddress);
});

after(async () => {
  client?.close();
  await srv?.close();
  rmSync(repo, { recursive: true, force: true });
});

describe('identical outputs over JSON, binary and gRPC', () => {
  for (const c of CASES) {
    test(c.model, async () => {
      const viaJson = await postJson(`${srv.url}/v2/models/${c.model}/infer`, {
        inputs: c.inputs.map((t) => ({
          name: t.name,
          datatype: t.datatype,
          shape: t.shape,
          data: jsonData(t),
        })),
      });
      assert.equal(viaJson.status, 200);
      const viaBinary = await postBinaryTo(
        `${srv.url}/v2/models/${c.model}/infer`,
        {
          inputs: c.inputs.map((t) => ({
            name: t.name,
            datatype: t.datatype,
            shape: t.shape,
            parameters: { binary_data_size: t.data.byteLength },
          })),
          parameters: { binary_data_output: true },
        },
        c.inputs.map(rawBytes),
      );
      assert.equal(viaBinary.status, 200, JSON.stringify(viaBinary.json));
      const viaRaw = await client.call('ModelInfer', {
        model_name: c.model,
        inputs: c.inputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape })),
        raw_input_contents: c.inputs.map(rawBytes),
      });
      const viaTyped = await client.call('ModelInfer', {
        model_name: c.model,
        inputs: c.inputs.map((t) => ({
          name: t.name,
          datatype: t.datatype,
          shape: t.shape,
          contents: typedContents(t),
        })),
      });
      const raw = grpcOutputs(viaRaw);
      const typed = grpcOutputs(viaTyped);
      // JSON in, binary out and binary in, binary out: the same bytes as gRPC, output by output.
      let offset = 0;
      const binaryOutputs = viaBinary.json['outputs'] as {
        name: string;
        datatype: string;
        shape: number[];
        parameters: { binary_data_size: number };
      }[];
      const jsonOutputs = viaJson.body['outputs'] as {
        name: string;
        datatype: string;
        shape: number[];
        data: number[];
      }[];
      assert.ok(binaryOutputs.length > 0);
      assert.equal(jsonOutputs.length, binaryOutputs.length);
      for (const [i, o] of binaryOutputs.entries()) {
        const bytes = Buffer.from(viaBinary.binary.subarray(offset, offset + o.parameters.binary_data_size));
        offset += o.parameters.binary_data_size;
        assert.ok(raw.get(o.name)?.equals(bytes), `${o.name}: gRPC raw differs from HTTP binary`);
        assert.ok(typed.get(o.name)?.equals(bytes), `${o.name}: gRPC typed differs from HTTP binary`);
        // JSON prints float32 values as the doubles they are and int64 as digits: decoding the bytes gives
        // the same numbers.
        const j = jsonOutputs[i];
        assert.deepEqual([j?.name, j?.datatype, j?.shape], [o.name, o.datatype, o.shape]);
        const decoded =
          o.datatype === 'FP32'
            ? Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4))
            : Array.from(new BigInt64Array(bytes.buffer, bytes.byteOffset, bytes.length / 8), Number);
        assert.deepEqual(j?.data, decoded, `${o.name}: JSON differs from binary`);
      }
      const outMeta = viaRaw['outputs'] as { name: string; datatype: string; shape: string[] }[];
      assert.deepEqual(
        outMeta.map((o) => [o.name, o.datatype, o.shape.map(Number)]),
        binaryOutputs.map((o) => [o.name, o.datatype, o.shape]),
      );
      assert.equal(viaRaw['model_name'], c.model);
      assert.equal(viaRaw['model_version'], '1');
    });
  }
});

describe('service calls', () => {
  test('liveness, readiness, server and model metadata, model readiness', async () => {
    assert.deepEqual(await client.call('ServerLive', {}), { live: true });
    assert.deepEqual(await client.call('ServerReady', {}), { ready: true });
    const meta = await client.call('ServerMetadata', {});
    assert.equal(meta['name'], 'tend');
    assert.deepEqual(meta['extensions'], [
      'binary_tensor_data',
      'classification',
      'model_configuration',
      'model_repository',
      'statistics',
    ]);
    const model = await client.call('ModelMetadata', { name: 'small_cnn' });
    assert.equal(model['platform'], 'onnxruntime_onnx');
    assert.deepEqual(model['versions'], ['1']);
    const inputs = model['inputs'] as { name: string; datatype: string; shape: string[] }[];
    assert.deepEqual(
      inputs.map((i) => [i.name, i.datatype, i.shape.map(Number)]),
      [['image', 'FP32', [-1, 3, 32, 32]]],
    );
    assert.deepEqual(await client.call('ModelReady', { name: 'small_cnn', version: '1' }), { ready: true });
  });

  test('streaming answers every request, errors in the message, the stream stays open', async () => {
    const good = (id: string) => ({
      model_name: 'digits_mlp',
      id,
      inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 64] }],
      raw_input_contents: [Buffer.from(floats(64, 5).buffer)],
    });
    const answers = await client.stream([
      good('a'),
      good('b'),
      { ...good('bad'), raw_input_contents: [Buffer.alloc(3)] },
      good('c'),
    ]);
    assert.equal(answers.length, 4);
    const byId = new Map(answers.map((a) => [(a['infer_response'] as Message)['id'], a]));
    for (const id of ['a', 'b', 'c']) assert.equal(byId.get(id)?.['error_message'], '');
    assert.match(
      String(byId.get('bad')?.['error_message']),
      /raw_input_contents is 3 bytes but shape \[1,64\] of FP32 needs 256/,
    );
  });

  test('classification over gRPC returns BYTES "score:index:label"', async () => {
    const res = await client.call('ModelInfer', {
      model_name: 'digits_mlp',
      inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 64] }],
      outputs: [{ name: 'logits', parameters: { classification: { int64_param: 2 } } }],
      raw_input_contents: [Buffer.from(floats(64, 6).buffer)],
    });
    const out = (res['outputs'] as { datatype: string; shape: string[] }[])[0];
    assert.equal(out?.datatype, 'BYTES');
    assert.deepEqual(out?.shape.map(Number), [1, 2]);
    const raw = (res['raw_output_contents'] as Buffer[])[0] as Buffer;
    const first = raw.toString('utf8', 4, 4 + raw.readUInt32LE(0));
    assert.match(first, /^-?[0-9.e-]+:[0-9]:(zero|one|two|three|four|five|six|seven|eight|nine)$/);
  });

  test('repository index, unload and load over gRPC', async () => {
    const index = await client.call('RepositoryIndex', { ready: true });
    assert.deepEqual(
      (index['models'] as { name: string }[]).map((m) => m.name),
      ['digits', 'digits_mlp', 'small_cnn', 'text'],
    );
    await client.call('RepositoryModelUnload', { model_name: 'text' });
    const unavailable = await client.fail('ModelInfer', {
      model_name: 'text',
      inputs: CASES[2]?.inputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape })),
      raw_input_contents: CASES[2]?.inputs.map(rawBytes),
    });
    assert.equal(unavailable.code, grpc.status.UNAVAILABLE);
    await client.call('RepositoryModelLoad', { model_name: 'text' });
    assert.deepEqual(await client.call('ModelReady', { name: 'text' }), { ready: true });
    const missing = await client.fail('RepositoryModelLoad', { model_name: 'nope' });
    assert.equal(missing.code, grpc.status.NOT_FOUND);
  });

  test('statistics agree between gRPC and HTTP and count rows, executions and batch sizes', async () => {
    const before = (await client.call('ModelStatistics', { name: 'small_cnn', version: '1' }))[
      'model_stats'
    ] as Message[];
    const count0 = Number(before[0]?.['inference_count']);
    await client.call('ModelInfer', {
      model_name: 'small_cnn',
      inputs: [{ name: 'image', datatype: 'FP32', shape: [2, 3, 32, 32] }],
      raw_input_contents: [Buffer.from(floats(6144, 8).buffer)],
    });
    await client.fail('ModelInfer', {
      model_name: 'small_cnn',
      inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 3, 32, 32] }],
      raw_input_contents: [Buffer.alloc(4)],
    });
    const viaGrpc = (
      (await client.call('ModelStatistics', { name: 'small_cnn', version: '1' }))['model_stats'] as Message[]
    )[0] as Message;
    const viaHttp = (
      (await getJson(`${srv.url}/v2/models/small_cnn/versions/1/stats`)).body['model_stats'] as Message[]
    )[0] as Message;
    assert.equal(Number(viaGrpc['inference_count']), count0 + 2, 'a request of batch 2 counts 2');
    assert.equal(Number(viaHttp['inference_count']), Number(viaGrpc['inference_count']));
    assert.equal(Number(viaHttp['execution_count']), Number(viaGrpc['execution_count']));
    const stats = viaHttp['inference_stats'] as Record<string, { count: number; ns: number }>;
    assert.deepEqual(Object.keys(stats), [
      'success',
      'fail',
      'queue',
      'compute_input',
      'compute_infer',
      'compute_output',
    ]);
    assert.ok((stats['success']?.count ?? 0) >= 2);
    assert.ok((stats['compute_infer']?.ns ?? 0) > 0);
    const batches = viaHttp['batch_stats'] as { batch_size: number }[];
    assert.ok(batches.some((b) => b.batch_size === 2));
    const all = (await getJson(`${srv.url}/v2/models/stats`)).body['model_stats'] as Message[];
    assert.deepEqual(
      all.map((m) => m['name']),
      ['digits', 'digits_mlp', 'small_cnn', 'text'],
    );
    assert.equal((await getJson(`${srv.url}/v2/models/nope/stats`)).status, 404);
  });
});

describe('bad requests map to gRPC statuses with a message', () => {
  const image = (extra: Message = {}): Message => ({
    model_name: 'small_cnn',
    inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 3, 32, 32] }],
    raw_input_contents: [Buffer.from(floats(3072, 9).buffer)],
    ...extra,
  });
  const cases: [string, Message, grpc.status, RegExp][] = [
    [
      'raw contents of the wrong size',
      image({ raw_input_contents: [Buffer.alloc(100)] }),
      grpc.status.INVALID_ARGUMENT,
      /raw_input_contents is 100 bytes but shape \[1,3,32,32\] of FP32 needs 12288/,
    ],
    [
      'more raw contents than inputs',
      image({ raw_input_contents: [Buffer.alloc(12288), Buffer.alloc(4)] }),
      grpc.status.INVALID_ARGUMENT,
      /raw_input_contents has 2 entries but the request has 1 inputs/,
    ],
    [
      'typed contents of the wrong length',
      image({
        raw_input_contents: [],
        inputs: [
          { name: 'image', datatype: 'FP32', shape: [1, 3, 32, 32], contents: { fp32_contents: [1, 2] } },
        ],
      }),
      grpc.status.INVALID_ARGUMENT,
      /fp32_contents has 2 elements but shape \[1, 3, 32, 32\] needs 3072/,
    ],
    [
      'contents in the wrong field',
      image({
        raw_input_contents: [],
        inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 1], contents: { int_contents: [1] } }],
      }),
      grpc.status.INVALID_ARGUMENT,
      /other than fp32_contents/,
    ],
    [
      'FP16 as typed contents',
      image({
        raw_input_contents: [],
        inputs: [{ name: 'image', datatype: 'FP16', shape: [1], contents: {} }],
      }),
      grpc.status.INVALID_ARGUMENT,
      /FP16 has no typed contents field/,
    ],
    [
      'no contents at all',
      image({ raw_input_contents: [] }),
      grpc.status.INVALID_ARGUMENT,
      /has no contents/,
    ],
    [
      'BYTES with a truncated length prefix',
      {
        model_name: 'small_cnn',
        inputs: [{ name: 'image', datatype: 'BYTES', shape: [1] }],
        raw_input_contents: [Buffer.from([1, 0])],
      },
      grpc.status.INVALID_ARGUMENT,
      /truncated length prefix/,
    ],
    [
      'an unknown datatype',
      image({ inputs: [{ name: 'image', datatype: 'FP8', shape: [1, 3, 32, 32] }] }),
      grpc.status.INVALID_ARGUMENT,
      /unknown datatype 'FP8'/,
    ],
    [
      'a wrong input name',
      image({ inputs: [{ name: 'img', datatype: 'FP32', shape: [1, 3, 32, 32] }] }),
      grpc.status.INVALID_ARGUMENT,
      /unknown input 'img'/,
    ],
    ['no model name', image({ model_name: '' }), grpc.status.INVALID_ARGUMENT, /model_name is required/],
    ['an unknown model', image({ model_name: 'nope' }), grpc.status.NOT_FOUND, /model 'nope' not found/],
    ['an unknown version', image({ model_version: '7' }), grpc.status.NOT_FOUND, /no version '7'/],
    [
      'a bad classification k',
      image({ outputs: [{ name: 'logits', parameters: { classification: { string_param: 'x' } } }] }),
      grpc.status.INVALID_ARGUMENT,
      /classification must be an integer/,
    ],
  ];
  for (const [what, request, code, message] of cases) {
    test(what, async () => {
      const err = await client.fail('ModelInfer', request);
      assert.equal(err.code, code, err.details);
      assert.match(err.details, message);
      assert.ok(err.metadata.get('tend-error-code')[0]);
      const ok = await client.call('ModelInfer', image());
      assert.equal(ok['model_name'], 'small_cnn');
    });
  }
});

describe('deadlines', () => {
  test('a call whose deadline passes while queued leaves the queue unrun and counts as failed', async () => {
    // A lone request waits up to 3 s for a batch of 64 that never comes: the 200 ms deadline passes first.
    const slowRepo = makeRepo([
      {
        name: 'slow',
        model: join(FIXTURE_MODELS, 'digits_mlp.onnx'),
        config: { dynamic_batching: { max_queue_delay_microseconds: 3_000_000, preferred_batch_size: [64] } },
      },
    ]);
    const slow = await startTestServer({ repos: [slowRepo], grpc: true });
    const c = grpcClient(slow.grpcAddress);
    try {
      const err = (await c
        .call(
          'ModelInfer',
          {
            model_name: 'slow',
            inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 64] }],
            raw_input_contents: [Buffer.alloc(256)],
          },
          { deadlineMs: 200 },
        )
        .then(
          () => undefined,
          (e: unknown) => e,
        )) as grpc.ServiceError | undefined;
      assert.equal(err?.code, grpc.status.DEADLINE_EXCEEDED);
      let stats: Message[] = [];
      for (let tries = 0; tries < 50; tries++) {
        stats = (await slow.engine.table.statistics('slow')) as unknown as Message[];
        if ((stats[0]?.['inference_stats'] as { fail: { count: number } }).fail.count === 1) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal((stats[0]?.['inference_stats'] as { fail: { count: number } }).fail.count, 1);
      assert.equal(stats[0]?.['execution_count'], 0, 'the model never ran it');
      assert.equal(slow.engine.table.listServed()[0]?.versions[0]?.batcher?.pendingCount, 0);
    } finally {
      c.close();
      await slow.close();
      rmSync(slowRepo, { recursive: true, force: true });
    }
  });
});

describe('limits on client strings over gRPC (src/core/input-limits.ts)', () => {
  const pixels = () => ({
    name: 'pixels',
    datatype: 'FP32',
    shape: [1, 64],
    contents: { fp32_contents: new Array<number>(64).fill(0.5) },
  });

  async function invalid(
    method: string,
    request: Message,
    message: string,
    options: { metadata?: Record<string, string> } = {},
  ): Promise<void> {
    const err = await client.fail(method, request, options);
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT, err.details);
    assert.equal(err.details, message);
    assert.equal(err.metadata.get('tend-error-code')[0], 'TEND_INVALID_INPUT');
  }

  before(async () => {
    await srv.engine.registry.models.push(join(FIXTURE_MODELS, 'digits_mlp.onnx'), { name: 'sticky' });
    await srv.engine.registry.models.push(join(FIXTURE_MODELS, 'digits_mlp.onnx'), { name: 'sticky' });
    await srv.engine.deployments.apply(
      'sticky',
      {
        champion: 1,
        experiment: {
          variants: [
            { version: 1, weight: 1 },
            { version: 2, weight: 1 },
          ],
          sticky_by: 'x-user',
        },
      },
      { action: 'put' },
    );
  });

  test('a 1,000,000-character request id is INVALID_ARGUMENT naming the limit, and the server keeps serving', async () => {
    await invalid(
      'ModelInfer',
      { model_name: 'digits_mlp', id: 'i'.repeat(1_000_000), inputs: [pixels()] },
      'request id is 1000000 bytes; the limit is 256',
    );
    const ok = await client.call('ModelInfer', {
      model_name: 'digits_mlp',
      id: 'i'.repeat(256),
      inputs: [pixels()],
    });
    assert.equal(ok['id'], 'i'.repeat(256));
  });

  test('names, datatypes, parameters and model references over their limits are INVALID_ARGUMENT', async () => {
    await invalid(
      'ModelInfer',
      { model_name: 'digits_mlp', inputs: [{ ...pixels(), name: 'n'.repeat(10_000) }] },
      'the name of inputs[0] is 10000 bytes; the limit is 512',
    );
    await invalid(
      'ModelInfer',
      { model_name: 'digits_mlp', inputs: [{ ...pixels(), datatype: 'F'.repeat(10_000) }] },
      "the datatype of input 'pixels' is 10000 bytes; the limit is 16",
    );
    await invalid(
      'ModelInfer',
      { model_name: 'digits_mlp', inputs: [pixels()], outputs: [{ name: 'o'.repeat(10_000) }] },
      'the name of outputs[0] is 10000 bytes; the limit is 512',
    );
    await invalid(
      'ModelInfer',
      {
        model_name: 'digits_mlp',
        inputs: [pixels()],
        parameters: { note: { string_param: 'v'.repeat(10_000) } },
      },
      'parameters.note is 10000 bytes; the limit is 1024',
    );
    await invalid(
      'ModelInfer',
      {
        model_name: 'digits_mlp',
        inputs: [pixels()],
        parameters: { ['k'.repeat(10_000)]: { bool_param: true } },
      },
      'a key of parameters is 10000 bytes; the limit is 256',
    );
    await invalid(
      'ModelInfer',
      { model_name: 'm'.repeat(100_000), inputs: [pixels()] },
      'model name is 100000 bytes; the limit is 128',
    );
    await invalid(
      'ModelInfer',
      { model_name: 'digits_mlp', model_version: '1'.repeat(1000), inputs: [pixels()] },
      'model version is 1000 bytes; the limit is 64',
    );
    await invalid(
      'ModelMetadata',
      { name: 'm'.repeat(100_000) },
      'model name is 100000 bytes; the limit is 128',
    );
    await invalid(
      'RepositoryModelLoad',
      { model_name: 'm'.repeat(100_000) },
      'model name is 100000 bytes; the limit is 128',
    );
  });

  test('a sticky routing metadata value over 256 bytes is INVALID_ARGUMENT; one within it routes', async () => {
    await invalid(
      'ModelInfer',
      { model_name: 'sticky', inputs: [pixels()] },
      "the value of header 'x-user' is 8000 bytes; the limit is 256",
      { metadata: { 'x-user': 'u'.repeat(8000) } },
    );
    const ok = await client.call(
      'ModelInfer',
      { model_name: 'sticky', inputs: [pixels()] },
      { metadata: { 'x-user': 'u'.repeat(256) } },
    );
    assert.equal(ok['model_name'], 'sticky');
  });

  test('a refused stream message answers without echoing an oversized id, and the stream goes on', async () => {
    const answers = await client.stream([
      { model_name: 'digits_mlp', id: 'i'.repeat(100_000), inputs: [pixels()] },
      { model_name: 'digits_mlp', id: 'next', inputs: [pixels()] },
    ]);
    assert.equal(answers.length, 2);
    // Answers come in the order they finish.
    const refusedAnswer = answers.find((a) => a['error_message'] !== '') as Message;
    const okAnswer = answers.find((a) => a['error_message'] === '') as Message;
    assert.equal(refusedAnswer['error_message'], 'request id is 100000 bytes; the limit is 256');
    assert.equal((refusedAnswer['infer_response'] as Message)['id'], '');
    assert.equal((okAnswer['infer_response'] as Message)['id'], 'next');
  });
});
