import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelSignature } from '../../core/signature.js';
import { asProbabilities, captureFeatures, captureOutputs, outputPlan } from './prediction-capture.js';

const digits: ModelSignature = {
  inputs: [{ name: 'pixels', datatype: 'FP32', onnx_type: 't', shape: ['batch', 64] }],
  outputs: [{ name: 'logits', datatype: 'FP32', onnx_type: 't', shape: ['batch', 10] }],
};

test('a [batch, F] input is tabular and a [batch, K] float output is the class scores', () => {
  assert.deepEqual(outputPlan(digits, 64), {
    task: 'classification',
    scoresOutput: 'logits',
    numClasses: 10,
    tabularInput: 'pixels',
  });
  const withLabel: ModelSignature = {
    inputs: digits.inputs,
    outputs: [
      { name: 'probabilities', datatype: 'FP32', onnx_type: 't', shape: ['batch', 3] },
      { name: 'label', datatype: 'INT64', onnx_type: 't', shape: ['batch'] },
    ],
  };
  assert.deepEqual(outputPlan(withLabel, 64), {
    task: 'classification',
    labelOutput: 'label',
    scoresOutput: 'probabilities',
    numClasses: 3,
    tabularInput: 'pixels',
  });
  const regression: ModelSignature = {
    inputs: digits.inputs,
    outputs: [{ name: 'y', datatype: 'FP32', onnx_type: 't', shape: ['batch', 1] }],
  };
  assert.deepEqual(outputPlan(regression, 64), {
    task: 'regression',
    valueOutput: 'y',
    tabularInput: 'pixels',
  });
  const image: ModelSignature = {
    inputs: [{ name: 'image', datatype: 'FP32', onnx_type: 't', shape: ['batch', 3, 32, 32] }],
    outputs: [{ name: 'embedding', datatype: 'FP32', onnx_type: 't', shape: ['batch', 128, 4] }],
  };
  assert.deepEqual(outputPlan(image, 64), { task: 'unknown' });
});

test('features are copied per row; non-tabular inputs get a summary', () => {
  const plan = outputPlan(digits, 64);
  const data = Float32Array.from({ length: 128 }, (_, i) => i);
  const captured = captureFeatures(plan, [{ name: 'pixels', datatype: 'FP32', shape: [2, 64], data }], true);
  assert.equal(captured.rows, 2);
  assert.equal(captured.features[1]?.[0], 64);
  data[64] = -1;
  assert.equal(captured.features[1]?.[0], 64, 'a copy, not a view');
  const image = captureFeatures(
    { task: 'unknown' },
    [{ name: 'image', datatype: 'FP32', shape: [1, 4], data: Float32Array.from([1, 2, 3, 4]) }],
    true,
  );
  assert.equal(image.features[0], null);
  assert.deepEqual(image.summaries[0], { mean: 2.5, std: Math.sqrt(1.25), min: 1, max: 4, count: 4 });
});

test('logits become probabilities; the label output wins over the argmax', () => {
  const p = asProbabilities(Float32Array.from([0, Math.log(3)]));
  assert.ok(Math.abs((p[1] as number) - 0.75) < 1e-6);
  const already = Float32Array.from([0.2, 0.8]);
  assert.equal(asProbabilities(already), already);
  const plan = outputPlan(digits, 64);
  const out = captureOutputs(
    plan,
    [
      {
        name: 'logits',
        datatype: 'FP32',
        shape: [2, 10],
        data: Float32Array.from({ length: 20 }, (_, i) => (i === 13 ? 5 : 0)),
      },
    ],
    1,
    2,
  );
  assert.equal(out.predictedClass, 3);
  assert.equal(out.probabilities?.length, 10);
  const labelled = outputPlan(
    {
      inputs: digits.inputs,
      outputs: [{ name: 'label', datatype: 'INT64', onnx_type: 't', shape: ['batch'] }],
    },
    64,
  );
  assert.equal(
    captureOutputs(
      labelled,
      [{ name: 'label', datatype: 'INT64', shape: [2], data: BigInt64Array.from([4n, 7n]) }],
      1,
      2,
    ).predictedClass,
    7,
  );
});
