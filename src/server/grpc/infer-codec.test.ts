/** The string limits of src/core/input-limits.ts as the gRPC ModelInferRequest decoder applies them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TendError } from '../../core/errors.js';
import type { InferInputTensor, InferParameter, ModelInferRequestMessage } from './definition.js';
import { decodeModelInferRequest } from './infer-codec.js';

const EMPTY_CONTENTS = {
  bool_contents: [],
  int_contents: [],
  int64_contents: [],
  uint_contents: [],
  uint64_contents: [],
  fp32_contents: [1],
  fp64_contents: [],
  bytes_contents: [],
};

function input(overrides: Partial<InferInputTensor> = {}): InferInputTensor {
  return {
    name: 'x',
    datatype: 'FP32',
    shape: ['1'],
    parameters: {},
    contents: EMPTY_CONTENTS,
    ...overrides,
  };
}

function message(overrides: Partial<ModelInferRequestMessage> = {}): ModelInferRequestMessage {
  return {
    model_name: 'm',
    model_version: '',
    id: '',
    parameters: {},
    inputs: [input()],
    outputs: [],
    raw_input_contents: [],
    ...overrides,
  };
}

const text = (value: string): InferParameter => ({ parameter_choice: 'string_param', string_param: value });

function refused(msg: ModelInferRequestMessage, pattern: RegExp): void {
  assert.throws(
    () => decodeModelInferRequest(msg),
    (err: unknown) =>
      err instanceof TendError &&
      err.code === 'TEND_INVALID_INPUT' &&
      pattern.test(err.message) &&
      err.message.length < 300,
  );
}

test('a 1,000,000-character request id is refused naming the limit; 256 bytes pass', () => {
  refused(message({ id: 'i'.repeat(1_000_000) }), /^request id is 1000000 bytes; the limit is 256$/);
  assert.equal(decodeModelInferRequest(message({ id: 'i'.repeat(256) })).request.id, 'i'.repeat(256));
});

test('input and output names, datatypes and tensor counts are bounded', () => {
  refused(
    message({ inputs: [input({ name: 'n'.repeat(513) })] }),
    /^the name of inputs\[0\] is 513 bytes; the limit is 512$/,
  );
  refused(
    message({ inputs: [input({ datatype: 'F'.repeat(100_000) })] }),
    /^the datatype of input 'x' is 100000 bytes; the limit is 16$/,
  );
  refused(
    message({ outputs: [{ name: 'o'.repeat(600), parameters: {} }] }),
    /^the name of outputs\[0\] is 600 bytes; the limit is 512$/,
  );
  refused(
    message({ inputs: Array.from({ length: 1025 }, () => input()) }),
    /^the request has 1025 inputs; the limit is 1024$/,
  );
  refused(
    message({ outputs: Array.from({ length: 1025 }, () => ({ name: 'y', parameters: {} })) }),
    /^the request has 1025 outputs; the limit is 1024$/,
  );
});

test('parameters of the request, of an input and of an output are bounded in entries, key and value size', () => {
  const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, text('v')]));
  refused(message({ parameters: many }), /^parameters has 65 entries; the limit is 64$/);
  refused(
    message({ parameters: { ['k'.repeat(257)]: text('v') } }),
    /^a key of parameters is 257 bytes; the limit is 256$/,
  );
  refused(
    message({ parameters: { note: text('v'.repeat(1025)) } }),
    /^parameters\.note is 1025 bytes; the limit is 1024$/,
  );
  refused(
    message({ inputs: [input({ parameters: { note: text('v'.repeat(5000)) } })] }),
    /^inputs\[0\]\.parameters\.note is 5000 bytes; the limit is 1024$/,
  );
  refused(
    message({ outputs: [{ name: 'y', parameters: { ['k'.repeat(300)]: text('v') } }] }),
    /^a key of outputs\[0\]\.parameters is 300 bytes; the limit is 256$/,
  );
  const ok = decodeModelInferRequest(
    message({
      parameters: {
        note: text('v'.repeat(1024)),
        priority: { parameter_choice: 'int64_param', int64_param: '2' },
      },
    }),
  );
  assert.equal(ok.request.priority, 2);
});
