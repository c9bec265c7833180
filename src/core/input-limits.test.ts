import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TendError } from './errors.js';
import {
  MAX_MODEL_NAME_LENGTH,
  MAX_REQUEST_ID_BYTES,
  MAX_VERSION_REF_BYTES,
  checkModelRef,
  checkParameterKeys,
  checkRequestId,
  isOverBytes,
  tooLong,
} from './input-limits.js';

function refused(fn: () => void, message: RegExp): void {
  assert.throws(
    fn,
    (err: unknown) =>
      err instanceof TendError &&
      err.code === 'TEND_INVALID_INPUT' &&
      err.status === 400 &&
      message.test(err.message),
  );
}

test('isOverBytes counts UTF-8 bytes, not UTF-16 units', () => {
  assert.equal(isOverBytes('a'.repeat(256), 256), false);
  assert.equal(isOverBytes('a'.repeat(257), 256), true);
  assert.equal(isOverBytes('', 0), false);
  // 'é' is 2 bytes, '€' 3, '😀' 4 (two UTF-16 units): within the length bound, over the byte bound.
  assert.equal(isOverBytes('é'.repeat(128), 256), false);
  assert.equal(isOverBytes('é'.repeat(129), 256), true);
  assert.equal(isOverBytes('€'.repeat(85), 256), false);
  assert.equal(isOverBytes('€'.repeat(86), 256), true);
  assert.equal(isOverBytes('😀'.repeat(64), 256), false);
  assert.equal(isOverBytes('😀'.repeat(65), 256), true);
  // A lone surrogate is sent as U+FFFD (3 bytes).
  assert.equal(isOverBytes('\ud800'.repeat(86), 256), true);
});

test('a request id over 256 bytes is refused naming the field, its size and the limit', () => {
  checkRequestId('x'.repeat(MAX_REQUEST_ID_BYTES));
  checkRequestId('');
  refused(() => checkRequestId('x'.repeat(1_000_000)), /^request id is 1000000 bytes; the limit is 256$/);
  refused(() => checkRequestId('€'.repeat(100)), /^request id is 300 bytes; the limit is 256$/);
});

test('tooLong never echoes the value', () => {
  const err = tooLong('request id', 'secret'.repeat(1000), 256);
  assert.equal(err.message.includes('secret'), false);
});

test('model and version references are bounded before any lookup', () => {
  checkModelRef('m'.repeat(MAX_MODEL_NAME_LENGTH), undefined);
  checkModelRef(`${'m'.repeat(MAX_MODEL_NAME_LENGTH)}@${'a'.repeat(MAX_VERSION_REF_BYTES)}`, undefined);
  checkModelRef('digits', '3');
  refused(
    () => checkModelRef('m'.repeat(MAX_MODEL_NAME_LENGTH + 1), undefined),
    /^model name is 129 bytes; the limit is 128$/,
  );
  refused(
    () => checkModelRef('m'.repeat(1_000_000), undefined),
    /^model name is 1000000 bytes; the limit is 128$/,
  );
  refused(
    () => checkModelRef(`m@${'a'.repeat(MAX_VERSION_REF_BYTES + 1)}`, undefined),
    /^model version is 65 bytes; the limit is 64$/,
  );
  refused(
    () => checkModelRef(`${'m'.repeat(MAX_MODEL_NAME_LENGTH + 1)}@live`, undefined),
    /^model name is 129 bytes/,
  );
  refused(
    () => checkModelRef('digits', '9'.repeat(100_000)),
    /^model version is 100000 bytes; the limit is 64$/,
  );
});

test('parameter keys about to be listed in a message are bounded in number and size', () => {
  checkParameterKeys('parameters', ['config', 'files']);
  refused(
    () =>
      checkParameterKeys(
        'parameters',
        Array.from({ length: 65 }, (_, i) => `k${i}`),
      ),
    /^parameters has 65 entries; the limit is 64$/,
  );
  refused(
    () => checkParameterKeys('parameters', ['k'.repeat(300)]),
    /^a key of parameters is 300 bytes; the limit is 256$/,
  );
});
