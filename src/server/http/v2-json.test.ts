import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TendError } from '../../core/errors.js';
import { decodeInferRequest } from './v2-json.js';

test('an empty "inputs" array decodes (models without inputs); a missing one does not', () => {
  assert.deepEqual(decodeInferRequest({ inputs: [] }).inputs, []);
  for (const body of [{}, { inputs: 'x' }, { inputs: null }]) {
    assert.throws(
      () => decodeInferRequest(body),
      (err: unknown) =>
        err instanceof TendError && err.code === 'TEND_INVALID_INPUT' && /"inputs" array/.test(err.message),
    );
  }
});
