/** The string limits of src/core/input-limits.ts as the V2 JSON decoder applies them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TendError } from '../../core/errors.js';
import { decodeInferRequest } from './v2-json.js';

const INPUT = { name: 'x', datatype: 'FP32', shape: [1], data: [1] };

function refused(body: unknown, message: RegExp): void {
  assert.throws(
    () => decodeInferRequest(body),
    (err: unknown) =>
      err instanceof TendError &&
      err.code === 'TEND_INVALID_INPUT' &&
      message.test(err.message) &&
      err.message.length < 300,
  );
}

test('a 1,000,000-character request id is refused naming the limit; 256 bytes pass', () => {
  refused({ id: 'i'.repeat(1_000_000), inputs: [INPUT] }, /^request id is 1000000 bytes; the limit is 256$/);
  assert.equal(decodeInferRequest({ id: 'i'.repeat(256), inputs: [INPUT] }).id, 'i'.repeat(256));
});

test('input and output names, datatypes and tensor counts are bounded', () => {
  refused(
    { inputs: [{ ...INPUT, name: 'n'.repeat(513) }] },
    /^the name of inputs\[0\] is 513 bytes; the limit is 512$/,
  );
  refused(
    { inputs: [{ ...INPUT, datatype: 'F'.repeat(100_000) }] },
    /^the datatype of input 'x' is 100000 bytes; the limit is 16$/,
  );
  refused(
    { inputs: [INPUT], outputs: [{ name: 'o'.repeat(600) }] },
    /^the name of outputs\[0\] is 600 bytes; the limit is 512$/,
  );
  refused(
    { inputs: Array.from({ length: 1025 }, () => INPUT) },
    /^the request has 1025 inputs; the limit is 1024$/,
  );
  refused(
    { inputs: [INPUT], outputs: Array.from({ length: 1025 }, () => ({ name: 'y' })) },
    /^the request has 1025 outputs; the limit is 1024$/,
  );
  assert.deepEqual(
    decodeInferRequest({
      inputs: [{ ...INPUT, name: 'n'.repeat(512) }],
      outputs: [{ name: 'o'.repeat(512) }],
    }).outputs,
    ['o'.repeat(512)],
  );
});

test('parameters of the request, of an input and of an output are bounded in entries, key and value size', () => {
  const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, i]));
  refused({ inputs: [INPUT], parameters: many }, /^parameters has 65 entries; the limit is 64$/);
  refused(
    { inputs: [INPUT], parameters: { ['k'.repeat(257)]: 1 } },
    /^a key of parameters is 257 bytes; the limit is 256$/,
  );
  refused(
    { inputs: [INPUT], parameters: { note: 'v'.repeat(1025) } },
    /^parameters\.note is 1025 bytes; the limit is 1024$/,
  );
  refused(
    { inputs: [INPUT], parameters: { note: { deep: 'v' } } },
    /^parameters\.note must be a string, a number or a boolean$/,
  );
  refused(
    { inputs: [{ ...INPUT, parameters: { note: 'v'.repeat(5000) } }] },
    /^inputs\[0\]\.parameters\.note is 5000 bytes; the limit is 1024$/,
  );
  refused({ inputs: [{ ...INPUT, parameters: 'x' }] }, /^input 'x': 'parameters' must be an object$/);
  refused(
    { inputs: [INPUT], outputs: [{ name: 'y', parameters: { ['k'.repeat(300)]: true } }] },
    /^a key of outputs\[0\]\.parameters is 300 bytes; the limit is 256$/,
  );
  // Within the limits, and null (taken as absent) at the input level, all pass.
  const ok = decodeInferRequest({
    inputs: [{ ...INPUT, parameters: null }],
    parameters: {
      ...Object.fromEntries(Array.from({ length: 62 }, (_, i) => [`k${i}`, 'v'.repeat(1024)])),
      priority: 1,
      timeout: 5,
    },
    outputs: [{ name: 'y', parameters: { binary_data: true } }],
  });
  assert.equal(ok.priority, 1);
});
