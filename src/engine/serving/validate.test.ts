import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelSignature } from '../../core/signature.js';
import { validateInputs, validateRequestedOutputs } from './validate.js';
import { hasCode } from '../../core/test-support.test-helper.js';

const scalarModel: ModelSignature = {
  inputs: [{ name: 'x', datatype: 'FP32', onnx_type: 'tensor(float)', shape: [] }],
  outputs: [{ name: 'y', datatype: 'FP32', onnx_type: 'tensor(float)', shape: [] }],
};
const constantModel: ModelSignature = { inputs: [], outputs: scalarModel.outputs };

const invalidInput = (pattern: RegExp) => hasCode('TEND_INVALID_INPUT', pattern);

test('a model without inputs takes an empty request', () => {
  assert.deepEqual(validateInputs('constant', constantModel, 0, []), []);
});

test('an empty request to a model with inputs names what it expects', () => {
  assert.throws(
    () => validateInputs('scalar', scalarModel, 0, []),
    invalidInput(/non-empty "inputs" array: model 'scalar' expects x/),
  );
});

test('0-d scalars and empty tensors pass when the model declares them', () => {
  const scalar = { name: 'x', datatype: 'FP32' as const, shape: [], data: new Float32Array([3]) };
  assert.equal(validateInputs('scalar', scalarModel, 0, [scalar])[0], scalar);
  const anyLength: ModelSignature = {
    inputs: [{ name: 'x', datatype: 'INT64', onnx_type: 'tensor(int64)', shape: ['n', 3] }],
    outputs: [],
  };
  const empty = { name: 'x', datatype: 'INT64' as const, shape: [0, 3], data: new BigInt64Array(0) };
  assert.equal(validateInputs('empty', anyLength, 0, [empty])[0], empty);
  assert.throws(
    () => validateInputs('scalar', scalarModel, 0, [{ ...scalar, shape: [1] }]),
    invalidInput(/must have 0 dimensions/),
  );
});

test('an output requested twice is refused: the answer would carry it twice', () => {
  validateRequestedOutputs('scalar', scalarModel, ['y']);
  assert.throws(
    () => validateRequestedOutputs('scalar', scalarModel, ['y', 'y']),
    invalidInput(/^output 'y' is requested more than once$/),
  );
});
