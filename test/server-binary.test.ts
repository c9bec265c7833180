/**
 * The binary tensor extension over a real socket: binary inputs (alone and mixed with JSON ones)
 * and binary outputs give exactly what the JSON path gives; malformed binary bodies answer 400.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import {
  FIXTURE_MODELS,
  makeRepo,
  postBinaryTo,
  postJson,
  seededRandom,
  startTestServer,
  type TestServer,
} from './helpers.js';

let srv: TestServer;
let repo: string;

before(async () => {
  repo = makeRepo([
    { name: 'mlp', model: join(FIXTURE_MODELS, 'digits_mlp.onnx') },
    { name: 'text', model: join(FIXTURE_MODELS, 'tiny_text_encoder.onnx') },
  ]);
  srv = await startTestServer({ repos: [repo] });
});

after(async () => {
  await srv?.close();
  rmSync(repo, { recursive: true, force: true });
});

function postBinary(path: string, header: unknown, chunks: Buffer[], headerLength?: string) {
  return postBinaryTo(`${srv.url}${path}`, header, chunks, headerLength);
}

const rand = seededRandom(3);
const pixels = Float32Array.from({ length: 2 * 64 }, () => rand());
const pixelBytes = Buffer.from(pixels.buffer);

test('binary FP32 input gives exactly the JSON path outputs', async () => {
  const viaJson = await postJson(`${srv.url}/v2/models/mlp/infer`, {
    inputs: [{ name: 'pixels', shape: [2, 64], datatype: 'FP32', data: Array.from(pixels) }],
  });
  const viaBinary = await postBinary(
    '/v2/models/mlp/infer',
    {
      inputs: [
        {
          name: 'pixels',
          shape: [2, 64],
          datatype: 'FP32',
          parameters: { binary_data_size: pixelBytes.length },
        },
      ],
    },
    [pixelBytes],
  );
  assert.equal(viaBinary.status, 200, JSON.stringify(viaBinary.json));
  assert.deepEqual(viaBinary.json['outputs'], viaJson.body['outputs']);
});

test('binary outputs carry the same float32 bits', async () => {
  const viaJson = await postJson(`${srv.url}/v2/models/mlp/infer`, {
    inputs: [{ name: 'pixels', shape: [2, 64], datatype: 'FP32', data: Array.from(pixels) }],
  });
  const res = await postBinary(
    '/v2/models/mlp/infer',
    {
      inputs: [
        {
          name: 'pixels',
          shape: [2, 64],
          datatype: 'FP32',
          parameters: { binary_data_size: pixelBytes.length },
        },
      ],
      parameters: { binary_data_output: true },
    },
    [pixelBytes],
  );
  assert.equal(res.status, 200);
  const out = (res.json['outputs'] as { name: string; parameters: { binary_data_size: number } }[])[0];
  assert.equal(out?.parameters.binary_data_size, 2 * 10 * 4);
  const logits = new Float32Array(
    res.binary.buffer.slice(res.binary.byteOffset, res.binary.byteOffset + res.binary.length),
  );
  const expected = (viaJson.body['outputs'] as { data: number[] }[])[0]?.data;
  assert.deepEqual(Array.from(logits), expected);
});

test('binary and JSON inputs mix in one request; binary_data on one output only', async () => {
  const ids = BigInt64Array.from({ length: 16 }, (_, i) => BigInt((i * 37) % 2000));
  const mask = Array.from({ length: 16 }, (_, i) => (i < 12 ? 1 : 0));
  const viaJson = await postJson(`${srv.url}/v2/models/text/infer`, {
    inputs: [
      { name: 'input_ids', shape: [1, 16], datatype: 'INT64', data: Array.from(ids, Number) },
      { name: 'attention_mask', shape: [1, 16], datatype: 'INT64', data: mask },
    ],
  });
  const res = await postBinary(
    '/v2/models/text/infer',
    {
      inputs: [
        { name: 'input_ids', shape: [1, 16], datatype: 'INT64', parameters: { binary_data_size: 128 } },
        { name: 'attention_mask', shape: [1, 16], datatype: 'INT64', data: mask },
      ],
      outputs: [{ name: 'embedding', parameters: { binary_data: true } }],
    },
    [Buffer.from(ids.buffer)],
  );
  assert.equal(res.status, 200, JSON.stringify(res.json));
  const embedding = new Float32Array(
    res.binary.buffer.slice(res.binary.byteOffset, res.binary.byteOffset + res.binary.length),
  );
  assert.deepEqual(Array.from(embedding), (viaJson.body['outputs'] as { data: number[] }[])[0]?.data);
});

test('malformed binary bodies answer 400 and the server keeps serving', async () => {
  const header = (size: number) => ({
    inputs: [{ name: 'pixels', shape: [2, 64], datatype: 'FP32', parameters: { binary_data_size: size } }],
  });
  const cases: [string, Awaited<ReturnType<typeof postBinary>>, RegExp][] = [
    [
      'size disagrees with the shape',
      await postBinary('/v2/models/mlp/infer', header(100), [pixelBytes.subarray(0, 100)]),
      /needs 512/,
    ],
    [
      'size past the body',
      await postBinary('/v2/models/mlp/infer', header(512), [pixelBytes.subarray(0, 300)]),
      /runs past the end/,
    ],
    [
      'bytes left over',
      await postBinary('/v2/models/mlp/infer', header(512), [pixelBytes, Buffer.alloc(8)]),
      /8 bytes after the binary inputs/,
    ],
    [
      'header length past the body',
      await postBinary('/v2/models/mlp/infer', header(512), [pixelBytes], '999999'),
      /only \d+ bytes/,
    ],
    [
      'header length not a number',
      await postBinary('/v2/models/mlp/infer', header(512), [pixelBytes], 'abc'),
      /non-negative integer/,
    ],
  ];
  for (const [what, res, pattern] of cases) {
    assert.equal(res.status, 400, what);
    assert.match(String(res.json['error']), pattern, what);
  }
  const noHeader = await postJson(`${srv.url}/v2/models/mlp/infer`, header(512));
  assert.equal(noHeader.status, 400);
  assert.match(String(noHeader.body['error']), /no Inference-Header-Content-Length/);
  const ok = await postBinary('/v2/models/mlp/infer', header(512), [pixelBytes]);
  assert.equal(ok.status, 200);
});
