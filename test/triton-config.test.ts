/**
 * Triton's model configuration extension: `GET /v2/models/{m}[/versions/{v}]/config` and the gRPC
 * `ModelConfig` rpc answer every served model (repository models with and without a config.yaml, a
 * registry model) in Triton's ModelConfig shape, from the config the server actually runs; the gRPC
 * answer decoded with the project's own protos equals the HTTP JSON; unknown models and versions are
 * refused with NOT_FOUND / 404 and a TEND_* code. Also: the /docs page lists the operations.
 * (Debian's python3-grpcio reads the same rpc in test/server-grpc-python.test.ts.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { Registry } from '../src/registry/index.js';
import { grpcClient, type GrpcTestClient, type Message } from './grpc-client.js';
import { FIXTURE_MODELS, getJson, makeRepo, startTestServer, tempDir, type TestServer } from './helpers.js';

let srv: TestServer;
let client: GrpcTestClient;
let repo: string;
let home: string;

before(async () => {
  repo = makeRepo([
    {
      name: 'digits_mlp',
      model: join(FIXTURE_MODELS, 'digits_mlp.onnx'),
      config: {
        max_batch_size: 32,
        dynamic_batching: {
          max_queue_delay_microseconds: 500,
          preferred_batch_size: [8, 16],
          max_queue_size: 100,
          default_timeout_microseconds: 2_000_000,
          priority_levels: 2,
        },
        instance_group: [{ count: 2 }],
        parameters: { intra_op_thread_count: 1 },
      },
    },
    { name: 'small_cnn', model: join(FIXTURE_MODELS, 'small_cnn.onnx') },
    { name: 'unbatched', model: join(FIXTURE_MODELS, 'digits_mlp.onnx'), config: { max_batch_size: 0 } },
  ]);
  home = tempDir('triton-config');
  const registry = await Registry.open(home);
  await registry.models.push(join(FIXTURE_MODELS, 'tiny_text_encoder.onnx'), { name: 'text' });
  await registry.close();
  srv = await startTestServer({ repos: [repo], home, grpc: true });
  client = grpcClient(srv.grpcAddress);
});

after(async () => {
  client?.close();
  await srv?.close();
  rmSync(repo, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

async function httpConfig(path: string): Promise<Record<string, unknown>> {
  const res = await getJson(`${srv.url}${path}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

/** A gRPC answer (64-bit numbers as strings, oneof names beside the members) in the HTTP JSON's form. */
function plain(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => plain(v, key));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === 'policy_choice' || k === 'scheduling_choice') continue;
      out[k] = plain(v, k);
    }
    return out;
  }
  const int64Fields = [
    'dims',
    'max_queue_delay_microseconds',
    'priority_levels',
    'default_priority_level',
    'default_timeout_microseconds',
    'versions',
  ];
  return typeof value === 'string' && int64Fields.includes(key) ? Number(value) : value;
}

describe("Triton's model configuration", () => {
  test('answers for every served model, with the tensors of its metadata', async () => {
    const models = (await getJson(`${srv.url}/v2/models`)).body['models'] as { name: string }[];
    assert.deepEqual(models.map((m) => m.name).sort(), ['digits_mlp', 'small_cnn', 'text', 'unbatched']);
    for (const { name } of models) {
      const config = await httpConfig(`/v2/models/${name}/config`);
      const meta = (await getJson(`${srv.url}/v2/models/${name}`)).body as {
        inputs: { name: string; datatype: string; shape: number[] }[];
        outputs: { name: string; datatype: string; shape: number[] }[];
      };
      assert.equal(config['name'], name);
      assert.equal(config['platform'], 'onnxruntime_onnx');
      assert.equal(config['backend'], 'onnxruntime');
      const batched = (config['max_batch_size'] as number) > 0;
      for (const [kind, specs] of [
        ['input', meta.inputs],
        ['output', meta.outputs],
      ] as const) {
        const tensors = config[kind] as { name: string; data_type: string; dims: number[] }[];
        assert.deepEqual(
          tensors.map((t) => [t.name, t.data_type, t.dims]),
          specs.map((s) => [s.name, `TYPE_${s.datatype}`, batched ? s.shape.slice(1) : s.shape]),
          `${name} ${kind}`,
        );
      }
    }
  });

  test("a config.yaml's batching, instances and session settings, in Triton's names", async () => {
    const config = await httpConfig('/v2/models/digits_mlp/config');
    assert.equal(config['max_batch_size'], 32);
    assert.deepEqual(config['version_policy'], { latest: { num_versions: 1 } });
    assert.deepEqual(config['input'], [
      {
        name: 'pixels',
        data_type: 'TYPE_FP32',
        format: 'FORMAT_NONE',
        dims: [64],
        is_shape_tensor: false,
        allow_ragged_batch: false,
        optional: false,
      },
    ]);
    assert.deepEqual(config['dynamic_batching'], {
      preferred_batch_size: [8, 16],
      max_queue_delay_microseconds: 500,
      preserve_ordering: false,
      priority_levels: 2,
      default_priority_level: 2,
      default_queue_policy: {
        timeout_action: 'REJECT',
        default_timeout_microseconds: 2_000_000,
        allow_timeout_override: true,
        max_queue_size: 100,
      },
    });
    assert.deepEqual(config['instance_group'], [
      {
        name: 'digits_mlp_0',
        kind: 'KIND_CPU',
        count: 2,
        gpus: [],
        profile: [],
        passive: false,
        host_policy: '',
      },
    ]);
    assert.deepEqual(config['parameters'], {
      graph_optimization_level: { string_value: 'all' },
      isolation: { string_value: 'thread' },
      intra_op_thread_count: { string_value: '1' },
    });
    const unbatched = await httpConfig('/v2/models/unbatched/config');
    assert.equal(unbatched['max_batch_size'], 0);
    assert.equal(unbatched['dynamic_batching'], undefined, 'no batching without a batch dimension');
    assert.deepEqual((unbatched['input'] as { dims: number[] }[])[0]?.dims, [-1, 64]);
    // Defaults: a model without config.yaml batches at 64 with the default queue.
    const cnn = await httpConfig('/v2/models/small_cnn/config');
    assert.equal(cnn['max_batch_size'], 64);
    assert.deepEqual((cnn['input'] as { dims: number[] }[])[0]?.dims, [3, 32, 32]);
    assert.equal((cnn['dynamic_batching'] as Record<string, unknown>)['max_queue_delay_microseconds'], 0);
  });

  test('a version in the URL; unknown models and versions are 404 with a code', async () => {
    assert.deepEqual(
      await httpConfig('/v2/models/text/versions/1/config'),
      await httpConfig('/v2/models/text/config'),
    );
    const unknown = await getJson(`${srv.url}/v2/models/nope/config`);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body['code'], 'TEND_MODEL_NOT_FOUND');
    const version = await getJson(`${srv.url}/v2/models/text/versions/9/config`);
    assert.equal(version.status, 404);
    assert.match(String(version.body['error']), /9/);
    assert.ok(
      ((await getJson(`${srv.url}/v2`)).body['extensions'] as string[]).includes('model_configuration'),
    );
  });

  test("gRPC ModelConfig, decoded with the project's protos, equals the HTTP JSON", async () => {
    for (const name of ['digits_mlp', 'small_cnn', 'text', 'unbatched']) {
      const answer = await client.call('ModelConfig', { name });
      assert.deepEqual(plain(answer['config']), await httpConfig(`/v2/models/${name}/config`), name);
    }
    const versioned = await client.call('ModelConfig', { name: 'text', version: '1' });
    assert.equal((versioned['config'] as Message)['name'], 'text');
    const unknown = await client.fail('ModelConfig', { name: 'nope' });
    assert.equal(unknown.code, grpc.status.NOT_FOUND);
    assert.match(unknown.details, /nope/);
    const empty = await client.fail('ModelConfig', { name: '' });
    assert.equal(empty.code, grpc.status.INVALID_ARGUMENT);
    // The server keeps serving: the other rpcs of the same client still answer.
    assert.equal((await client.call('ModelMetadata', { name: 'text' }))['name'], 'text');
  });

  test('/docs lists the operations of the OpenAPI document, with a link to it', async () => {
    const res = await fetch(`${srv.url}/docs`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    const html = await res.text();
    assert.match(html, /href="\/docs\/openapi\.json"/);
    assert.match(html, /\/api\/v1\/deployments\/\{endpoint\}/);
    assert.match(html, /\/v2\/models\/\{model\}\/config/);
    assert.doesNotMatch(html, /<script/);
  });
});
