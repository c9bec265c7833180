/**
 * An independent client: Debian's python3-grpcio with stubs that python3-grpc-tools generates from
 * proto/grpc_service.proto at test time (scripts/gen-grpc-python.sh) runs test/python/v2_client.py
 * against a real tend server. Its outputs must be bit-identical to the Node gRPC client's and the HTTP
 * JSON path's; bad requests must give the right status and message; the server keeps serving.
 * Skipped where /usr/bin/python3 cannot import grpc and grpc_tools; under CI=true (which installs them) that fails.
 */
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { grpcClient, type GrpcTestClient, type Message } from './grpc-client.js';
import {
  FIXTURE_MODELS,
  ROOT,
  getJson,
  makeRepo,
  postJson,
  seededRandom,
  startTestServer,
  tempDir,
  type TestServer,
} from './helpers.js';

const PYTHON = '/usr/bin/python3';
const UNKNOWN_MODEL = 'no_such_model';
const STREAM_COUNT = 3;

/** Why the suite cannot run here, or undefined when it can. */
function pythonGrpcMissing(): string | undefined {
  const probe = spawnSync(PYTHON, ['-c', 'import grpc, grpc_tools.protoc'], { encoding: 'utf8' });
  if (probe.error) return `${PYTHON} not runnable (${probe.error.message})`;
  if (probe.status !== 0)
    return `${PYTHON} cannot import grpc / grpc_tools (apt-get install python3-grpcio python3-grpc-tools)`;
  return undefined;
}
const missing = pythonGrpcMissing();

interface Input {
  name: string;
  datatype: 'FP32' | 'INT64';
  shape: number[];
  data: Float32Array | BigInt64Array;
}

function floats(n: number, seed: number): Float32Array {
  const r = seededRandom(seed);
  return Float32Array.from({ length: n }, () => r() * 2 - 1);
}

const CASES: { model: string; inputs: Input[] }[] = [
  // The first case also feeds the stream and the bad requests of the Python client.
  {
    model: 'digits_mlp',
    inputs: [{ name: 'pixels', datatype: 'FP32', shape: [3, 64], data: floats(192, 11) }],
  },
  {
    model: 'small_cnn',
    inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 3, 32, 32], data: floats(3072, 12) }],
  },
  {
    model: 'text',
    inputs: [
      {
        name: 'input_ids',
        datatype: 'INT64',
        shape: [2, 8],
        data: BigInt64Array.from({ length: 16 }, (_, i) => BigInt((i * 131 + 7) % 2000)),
      },
      {
        name: 'attention_mask',
        datatype: 'INT64',
        shape: [2, 8],
        data: BigInt64Array.from({ length: 16 }, (_, i) => (i % 8 < 6 ? 1n : 0n)),
      },
    ],
  },
];
const FIRST = CASES[0] as (typeof CASES)[number];
const FIRST_ROWS = FIRST.inputs[0]?.shape[0] ?? 0;

function rawBytes(t: Input): Buffer {
  return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

interface PyOutput {
  name: string;
  datatype: string;
  shape: number[];
  raw_b64: string;
  data: number[] | null;
}
interface PyInfer {
  model_name: string;
  model_version: string;
  id: string;
  raw_output_count: number;
  outputs: PyOutput[];
}
interface PyStatus {
  code: string;
  details: string;
  tend_error_code: string | null;
}
type Attempt<T> = { ok: T; error?: undefined } | { ok?: undefined; error: PyStatus };
interface PyReport {
  versions: Record<string, string>;
  server_live: Message;
  server_ready: Message;
  server_metadata: Message;
  models: Record<
    string,
    {
      metadata: Attempt<Message>;
      config: Attempt<Message>;
      ready: Attempt<Message>;
      raw: Attempt<PyInfer>;
      typed: Attempt<PyInfer>;
    }
  >;
  stream: Attempt<{ error_message: string; id: string; response: PyInfer | null }[]>;
  bad: {
    wrong_size: Attempt<PyInfer>;
    wrong_size_bytes: number;
    unknown_model: Attempt<PyInfer>;
    unknown_model_metadata: Attempt<Message>;
  };
  after_bad: Attempt<PyInfer>;
  statistics: Attempt<{ model_stats: Message[] }>;
  repository_index: Attempt<{ models: { name: string; version: string; state: string; reason: string }[] }>;
}

/** Run a command without blocking the event loop (the server under test lives in this process). */
function run(
  command: string,
  args: string[],
  stdin = '',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'], timeout: 60_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

/** The successful value of a Python call, or a failure naming the status it got. */
function ok<T>(a: Attempt<T>, what: string): T {
  if (a.error) assert.fail(`${what}: ${a.error.code} ${a.error.details}`);
  return a.ok as T;
}

function failure<T>(a: Attempt<T>, what: string): PyStatus {
  if (!a.error) assert.fail(`${what} was expected to fail`);
  return a.error;
}

/** What the Python client reported for one model. */
function pyModel(name: string): PyReport['models'][string] {
  const got = py.models[name];
  assert.ok(got, `the Python client reported nothing for ${name}`);
  return got;
}

/** Skip where the client cannot run — except under CI=true, which installs it: there a missing client fails. */
function skipped(t: TestContext): boolean {
  if (missing === undefined) return false;
  if (process.env['CI'] === 'true')
    assert.fail(`CI=true and the independent Python gRPC client cannot run: ${missing}`);
  t.skip(missing);
  return true;
}

let srv: TestServer;
let node: GrpcTestClient;
let repo: string;
let stubDir: string;
let py: PyReport;
/** HTTP statistics of the first model, read right after the Python client and before any Node call. */
let httpStatsAfterPython: Message;

before(async () => {
  if (missing !== undefined) return;
  repo = makeRepo([
    { name: 'digits_mlp', model: join(FIXTURE_MODELS, 'digits_mlp.onnx') },
    { name: 'small_cnn', model: join(FIXTURE_MODELS, 'small_cnn.onnx') },
    { name: 'text', model: join(FIXTURE_MODELS, 'tiny_text_encoder.onnx') },
  ]);
  stubDir = tempDir('py-stubs');
  const [server, gen] = await Promise.all([
    startTestServer({ repos: [repo], grpc: true }),
    run('scripts/gen-grpc-python.sh', [stubDir]),
  ]);
  srv = server;
  assert.equal(gen.code, 0, `gen-grpc-python.sh failed: ${gen.stderr}`);
  const spec = {
    cases: CASES.map((c) => ({
      model: c.model,
      inputs: c.inputs.map((t) => ({
        name: t.name,
        datatype: t.datatype,
        shape: t.shape,
        raw_b64: rawBytes(t).toString('base64'),
      })),
    })),
    stream_count: STREAM_COUNT,
    unknown_model: UNKNOWN_MODEL,
  };
  const client = await run(
    PYTHON,
    ['test/python/v2_client.py', srv.grpcAddress, stubDir],
    JSON.stringify(spec),
  );
  assert.equal(client.code, 0, `v2_client.py failed: ${client.stderr}`);
  py = JSON.parse(client.stdout) as PyReport;
  httpStatsAfterPython = (
    (await getJson(`${srv.url}/v2/models/${FIRST.model}/stats`)).body['model_stats'] as Message[]
  )[0] as Message;
  node = grpcClient(srv.grpcAddress);
});

after(async () => {
  node?.close();
  await srv?.close();
  if (repo) rmSync(repo, { recursive: true, force: true });
  if (stubDir) rmSync(stubDir, { recursive: true, force: true });
});

describe('python grpcio client', () => {
  test('health and server metadata agree with HTTP', async (t) => {
    if (skipped(t)) return;
    t.diagnostic(
      `python ${py.versions['python']}, grpcio ${py.versions['grpcio']}, protobuf ${py.versions['protobuf']} (${py.versions['protobuf_implementation']})`,
    );
    assert.deepEqual(py.server_live, { live: true });
    assert.deepEqual(py.server_ready, { ready: true });
    const http = (await getJson(`${srv.url}/v2`)).body;
    assert.deepEqual(py.server_metadata, {
      name: http['name'],
      version: http['version'],
      extensions: http['extensions'],
    });
  });

  test('model metadata and readiness agree with HTTP', async (t) => {
    if (skipped(t)) return;
    for (const c of CASES) {
      const got = pyModel(c.model);
      const http = (await getJson(`${srv.url}/v2/models/${c.model}`)).body;
      const meta = ok(got.metadata, `${c.model} metadata`);
      assert.deepEqual(meta, {
        name: http['name'],
        versions: http['versions'],
        platform: http['platform'],
        inputs: http['inputs'],
        outputs: http['outputs'],
      });
      assert.deepEqual(ok(got.ready, `${c.model} ready`), { ready: true });
    }
  });

  test("the model configuration in Triton's shape equals HTTP's /config", async (t) => {
    if (skipped(t)) return;
    for (const c of CASES) {
      const config = ok(pyModel(c.model).config, `${c.model} config`);
      const http = await getJson(`${srv.url}/v2/models/${c.model}/config`);
      assert.equal(http.status, 200);
      assert.deepEqual(config, http.body, `${c.model}: Python's ModelConfig differs from HTTP's`);
      assert.equal(config['platform'], 'onnxruntime_onnx');
    }
  });

  test('raw and typed contents give the bytes the Node gRPC client and HTTP JSON give', async (t) => {
    if (skipped(t)) return;
    for (const c of CASES) {
      const got = pyModel(c.model);
      const raw = ok(got.raw, `${c.model} raw`);
      const typed = ok(got.typed, `${c.model} typed`);
      const viaNode = await node.call('ModelInfer', {
        model_name: c.model,
        inputs: c.inputs.map((x) => ({ name: x.name, datatype: x.datatype, shape: x.shape })),
        raw_input_contents: c.inputs.map(rawBytes),
      });
      const viaJson = await postJson(`${srv.url}/v2/models/${c.model}/infer`, {
        inputs: c.inputs.map((x) => ({
          name: x.name,
          datatype: x.datatype,
          shape: x.shape,
          data: Array.from(x.data as ArrayLike<number | bigint>, Number),
        })),
      });
      assert.equal(viaJson.status, 200, JSON.stringify(viaJson.body));
      const nodeMeta = viaNode['outputs'] as { name: string; datatype: string; shape: string[] }[];
      const nodeRaw = viaNode['raw_output_contents'] as Buffer[];
      const jsonOutputs = viaJson.body['outputs'] as {
        name: string;
        datatype: string;
        shape: number[];
        data: number[];
      }[];
      for (const answer of [raw, typed]) {
        assert.equal(answer.model_name, c.model);
        assert.equal(answer.model_version, '1');
        assert.equal(
          answer.raw_output_count,
          answer.outputs.length,
          'one raw_output_contents entry per output',
        );
        assert.deepEqual(
          answer.outputs.map((o) => [o.name, o.datatype, o.shape]),
          nodeMeta.map((o) => [o.name, o.datatype, o.shape.map(Number)]),
        );
        assert.deepEqual(
          answer.outputs.map((o) => [o.name, o.datatype, o.shape]),
          jsonOutputs.map((o) => [o.name, o.datatype, o.shape]),
        );
        for (const [i, o] of answer.outputs.entries()) {
          const bytes = Buffer.from(o.raw_b64, 'base64');
          assert.ok(bytes.length > 0, `${c.model}/${o.name} has bytes`);
          assert.ok(
            bytes.equals(nodeRaw[i] as Buffer),
            `${c.model}/${o.name}: Python bytes differ from the Node gRPC client's`,
          );
          // Python decodes float32 to the double it is and prints it round-trippably: the JSON path's numbers exactly.
          assert.deepEqual(
            o.data,
            jsonOutputs[i]?.data,
            `${c.model}/${o.name}: Python elements differ from HTTP JSON`,
          );
          const jsonBytes =
            o.datatype === 'FP32'
              ? Buffer.from(Float32Array.from(jsonOutputs[i]?.data ?? []).buffer)
              : undefined;
          if (jsonBytes)
            assert.ok(bytes.equals(jsonBytes), `${c.model}/${o.name}: Python bytes differ from HTTP JSON`);
        }
      }
    }
  });

  test('streaming answers every request, the truncated one with error_message', async (t) => {
    if (skipped(t)) return;
    const answers = ok(py.stream, 'ModelStreamInfer');
    assert.equal(answers.length, STREAM_COUNT + 1);
    const byId = new Map(answers.map((a) => [a.id, a]));
    const bad = byId.get('s_bad');
    assert.match(
      bad?.error_message ?? '',
      /raw_input_contents is 3 bytes but shape \[3,64\] of FP32 needs 768/,
    );
    const single = ok(pyModel(FIRST.model).raw, 'single infer');
    for (let i = 0; i < STREAM_COUNT; i++) {
      const a = byId.get(`s${i}`);
      assert.equal(a?.error_message, '', `s${i}`);
      const out = a?.response?.outputs[0];
      const ref = single.outputs[0];
      assert.deepEqual([out?.name, out?.datatype, out?.shape], [ref?.name, ref?.datatype, ref?.shape]);
      // Stream requests may be batched together: a different batch may round differently, so close, not equal.
      const got = out?.data ?? [];
      assert.equal(got.length, ref?.data?.length);
      for (const [j, v] of got.entries())
        assert.ok(Math.abs(v - (ref?.data?.[j] ?? NaN)) <= 1e-5 * (1 + Math.abs(v)), `s${i}[${j}]`);
    }
  });

  test('bad requests: INVALID_ARGUMENT and NOT_FOUND with messages and tend codes', (t) => {
    if (skipped(t)) return;
    const wrongSize = failure(py.bad.wrong_size, 'raw contents of the wrong size');
    assert.equal(wrongSize.code, 'INVALID_ARGUMENT');
    assert.equal(py.bad.wrong_size_bytes, 764);
    assert.match(wrongSize.details, /raw_input_contents is 764 bytes but shape \[3,64\] of FP32 needs 768/);
    assert.ok(wrongSize.tend_error_code, 'tend-error-code trailer');
    const unknown = failure(py.bad.unknown_model, 'an unknown model');
    assert.equal(unknown.code, 'NOT_FOUND');
    assert.match(unknown.details, new RegExp(`model '${UNKNOWN_MODEL}' not found`));
    assert.equal(unknown.tend_error_code, 'TEND_MODEL_NOT_FOUND');
    const unknownMeta = failure(py.bad.unknown_model_metadata, 'metadata of an unknown model');
    assert.equal(unknownMeta.code, 'NOT_FOUND');
    assert.match(unknownMeta.details, new RegExp(UNKNOWN_MODEL));
  });

  test('statistics count the Python calls and agree with HTTP', (t) => {
    if (skipped(t)) return;
    const stats = ok(py.statistics, 'ModelStatistics').model_stats;
    assert.equal(stats.length, 1);
    const s = stats[0] as Message;
    assert.deepEqual([s['name'], s['version']], [FIRST.model, '1']);
    // raw + typed + the good stream requests + the request after the bad ones, FIRST_ROWS rows each; failures
    // count nothing.
    assert.equal(s['inference_count'], (3 + STREAM_COUNT) * FIRST_ROWS);
    assert.ok(Number(s['execution_count']) >= 1 && Number(s['execution_count']) <= 3 + STREAM_COUNT);
    assert.equal(s['inference_count'], httpStatsAfterPython['inference_count']);
    assert.equal(s['execution_count'], httpStatsAfterPython['execution_count']);
    const grpcSuccess = (s['inference_stats'] as Record<string, { count: number }>)['success'];
    const httpSuccess = (httpStatsAfterPython['inference_stats'] as Record<string, { count: number }>)[
      'success'
    ];
    assert.equal(grpcSuccess?.count, httpSuccess?.count);
  });

  test('repository index lists the ready models', (t) => {
    if (skipped(t)) return;
    const index = ok(py.repository_index, 'RepositoryIndex').models;
    assert.deepEqual(
      index.map((m) => [m.name, m.state]),
      CASES.map((c) => [c.model, 'READY']).sort(),
    );
  });

  test('the server keeps serving after the Python client', async (t) => {
    if (skipped(t)) return;
    const afterBad = ok(py.after_bad, 'ModelInfer after the bad requests');
    assert.equal(afterBad.model_name, FIRST.model);
    assert.deepEqual(await node.call('ServerLive', {}), { live: true });
    const again = await node.call('ModelInfer', {
      model_name: FIRST.model,
      inputs: FIRST.inputs.map((x) => ({ name: x.name, datatype: x.datatype, shape: x.shape })),
      raw_input_contents: FIRST.inputs.map(rawBytes),
    });
    const bytes = (again['raw_output_contents'] as Buffer[])[0] as Buffer;
    assert.ok(bytes.equals(Buffer.from(afterBad.outputs[0]?.raw_b64 ?? '', 'base64')));
  });
});
