import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { ERROR_CATALOGUE, errors, type ErrorCode } from '../../core/errors.js';
import { grpcError, grpcStatusOf } from './status.js';

test("every code's catalogue gRPC status is a grpc.status, and grpcError sends it with the code", () => {
  for (const code of Object.keys(ERROR_CATALOGUE) as ErrorCode[]) {
    const status = grpcStatusOf(code);
    assert.equal(typeof status, 'number', code);
    assert.equal(grpc.status[status], ERROR_CATALOGUE[code].grpc, code);
    const sent = grpcError(errors.withCode(code, 'what went wrong'));
    assert.equal(sent.code, status, code);
    assert.deepEqual(sent.metadata.get('tend-error-code'), [code]);
  }
});

test('the statuses a client relies on, and what an internal error tells it', () => {
  assert.equal(grpcError(errors.queueFull('iris', 4)).code, grpc.status.RESOURCE_EXHAUSTED);
  assert.deepEqual(grpcError(errors.queueFull('iris', 4)).metadata.get('retry-after'), ['1']);
  assert.equal(grpcError(errors.modelNotFound('iris')).code, grpc.status.NOT_FOUND);
  assert.equal(grpcError(errors.invalidInput('bad shape')).code, grpc.status.INVALID_ARGUMENT);
  assert.equal(grpcError(errors.unauthorized('no token')).code, grpc.status.UNAUTHENTICATED);
  assert.equal(grpcError(errors.queueTimeout('iris', 1000)).code, grpc.status.DEADLINE_EXCEEDED);
  const internal = grpcError(new Error('secret detail'));
  assert.equal(internal.code, grpc.status.INTERNAL);
  assert.equal(internal.details, 'internal error; see the server log');
});
