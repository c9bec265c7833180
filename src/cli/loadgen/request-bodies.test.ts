import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TendError } from '../../core/errors.js';
import { inferenceServiceDefinition, type ModelInferRequestMessage } from '../../server/grpc/definition.js';
import { decodeModelInferRequest } from '../../server/grpc/infer-codec.js';
import { binaryInputReader, binaryOutputChoice, splitBinaryBody } from '../../server/http/v2-binary.js';
import { decodeInferRequest } from '../../server/http/v2-json.js';
import { encodeModelInferRequest } from './grpc-sender.js';
import { binaryRequest, jsonRequest, syntheticBody, tensorsOfJsonBody } from './request-bodies.js';

const BODY = JSON.stringify({
  inputs: [
    { name: 'pixels', shape: [2, 3], datatype: 'FP32', data: [0.5, 1, 1.5, 2, 2.5, 3] },
    { name: 'ids', shape: [2], datatype: 'INT64', data: [7, -1] },
    { name: 'words', shape: [2], datatype: 'BYTES', data: ['tend', 'é'] },
  ],
});

test('the binary body is what the server parses back into the same tensors, outputs asked in binary', () => {
  const tensors = tensorsOfJsonBody(BODY, 'test');
  const { body, headers } = binaryRequest(tensors);
  assert.equal(headers['content-type'], 'application/octet-stream');
  const length = headers['inference-header-content-length'] ?? '';
  const { json, binary } = splitBinaryBody(body, length);
  const header = JSON.parse(json.toString('utf8')) as unknown;
  const reader = binaryInputReader(binary);
  const decoded = decodeInferRequest(header, reader.read);
  reader.finish();
  assert.deepEqual(decoded.inputs, tensors);
  assert.equal(binaryOutputChoice(header).all, true);
  // 6 floats, 2 int64, and two length-prefixed strings.
  assert.equal(binary.length, 24 + 16 + (4 + 4) + (4 + 2));
});

test('the gRPC request decodes on the server side into the same model, version and tensors', () => {
  const tensors = tensorsOfJsonBody(BODY, 'test');
  const bytes = encodeModelInferRequest('digits', '3', tensors);
  const method = inferenceServiceDefinition()['ModelInfer'];
  const msg = method?.requestDeserialize(bytes) as ModelInferRequestMessage;
  const decoded = decodeModelInferRequest(msg);
  assert.equal(decoded.model, 'digits');
  assert.equal(decoded.version, '3');
  assert.deepEqual(decoded.request.inputs, tensors);
});

test('the JSON body is sent as it is; a synthetic body follows the metadata and --shape', () => {
  assert.equal(jsonRequest(BODY).body.toString('utf8'), BODY);
  const body = JSON.parse(
    syntheticBody(
      [
        { name: 'x', datatype: 'FP32', shape: [-1, 4] },
        { name: 'ids', datatype: 'INT64', shape: [-1, -1] },
      ],
      3,
      new Map([['ids', [3, 5]]]),
    ),
  ) as { inputs: { name: string; shape: number[]; data: unknown[] }[] };
  assert.deepEqual(
    body.inputs.map((i) => [i.name, i.shape, i.data.length]),
    [
      ['x', [3, 4], 12],
      ['ids', [3, 5], 15],
    ],
  );
});

test('a --data body that is not a V2 request is a clear error naming it', () => {
  for (const bad of [
    '{',
    '{"inputs": 3}',
    '{"inputs":[{"name":"x","shape":[2],"datatype":"FP32","data":[1]}]}',
  ]) {
    assert.throws(
      () => tensorsOfJsonBody(bad, '--data req.json'),
      (err: unknown) =>
        err instanceof TendError &&
        err.code === 'TEND_INVALID_ARGUMENT' &&
        err.message.startsWith('--data req.json is not a V2 infer request body: '),
    );
  }
});
