import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkFeedback } from './prediction-log-feedback.js';

test('a feedback id over the request id limit is rejected and not echoed', () => {
  const { valid, rejected } = checkFeedback([
    { id: 'a', label: 1 },
    { id: 'x'.repeat(1_000_000), label: 1 },
  ]);
  assert.equal(valid.length, 1);
  assert.deepEqual(rejected, [
    { id: null, error: 'item 1: id is 1000000 bytes; the limit is 256 (request ids are no longer)' },
  ]);
});
