/** Hostile V2 JSON found by the fuzzer (test/fuzz): values nested too deep for JSON.stringify. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TendError } from '../../core/errors.js';
import { decodeInferRequest, parseJsonBody } from './v2-json.js';
import { previewValue } from './value-preview.js';

const DEPTH = 100_000;

function deepObject(): string {
  return `${'{"a":'.repeat(DEPTH)}1${'}'.repeat(DEPTH)}`;
}

function deepArray(): string {
  return `${'['.repeat(DEPTH)}1${']'.repeat(DEPTH)}`;
}

function refusedAsInput(body: string, message: RegExp): void {
  assert.throws(
    () => decodeInferRequest(parseJsonBody(Buffer.from(body))),
    (err: unknown) =>
      err instanceof TendError &&
      err.code === 'TEND_INVALID_INPUT' &&
      message.test(err.message) &&
      err.message.length < 400,
  );
}

test('a data element nested 100 000 deep is a clear 400, not a stack overflow (500)', () => {
  refusedAsInput(
    `{"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[${deepObject()}]}]}`,
    /element 0 is \{"a":\{"a":.*\}, expected a number for FP32/,
  );
  refusedAsInput(
    `{"inputs":[{"name":"x","datatype":"BYTES","shape":[1],"data":[${deepObject()}]}]}`,
    /expected a string/,
  );
});

test('a shape or a datatype nested 100 000 deep is a clear 400', () => {
  refusedAsInput(
    `{"inputs":[{"name":"x","datatype":"FP32","shape":[1,${deepArray()}],"data":[1]}]}`,
    /'shape' must be an array of non-negative integers, got \[1,\[\[\[/,
  );
  refusedAsInput(
    `{"inputs":[{"name":"x","datatype":${deepObject()},"shape":[1],"data":[1]}]}`,
    /unknown datatype \{"a":/,
  );
});

test('parameters.classification nested 100 000 deep, or not a number, is a clear 400', () => {
  const input = '{"name":"x","datatype":"FP32","shape":[1],"data":[1]}';
  refusedAsInput(
    `{"inputs":[${input}],"outputs":[{"name":"y","parameters":{"classification":${deepObject()}}}]}`,
    /classification must be an integer, got \{"a":/,
  );
  refusedAsInput(
    `{"inputs":[${input}],"outputs":[{"name":"y","parameters":{"classification":"3"}}]}`,
    /classification must be an integer, got "3"/,
  );
  // A number still goes through the engine's range check.
  refusedAsInput(
    `{"inputs":[${input}],"outputs":[{"name":"y","parameters":{"classification":0}}]}`,
    /classification must be an integer from 1/,
  );
});

test('previewValue: short, bounded in depth, never throws', () => {
  assert.equal(previewValue([1, 'a', null, true]), '[1,"a",null,true]');
  assert.equal(previewValue({ a: [1, { b: 2 }] }), '{"a":[1,{"b":2}]}');
  assert.equal(previewValue('x'.repeat(100)), `"${'x'.repeat(39)}…`);
  assert.equal(previewValue([[[[[[1]]]]]]), '[[[[[…]]]]]');
  assert.equal(previewValue(undefined), 'undefined');
  const deep = JSON.parse(deepObject()) as unknown;
  assert.match(previewValue(deep, 20), /^\{"a":\{"a":\{"a":\{"a/);
  assert.ok(
    previewValue(
      Array.from({ length: 1e6 }, (_, i) => i),
      50,
    ).length <= 51,
  );
});
