/**
 * The epoch graph's structure and Adam schedule (no onnxruntime here: the engine's
 * accelerated-training.test.ts runs the graph against the TypeScript trainer).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkModel } from '../onnx/check.js';
import { buildEpochGraph } from './epoch-graph.js';
import {
  adamSchedule,
  batchCount,
  EPOCH_INPUTS,
  EPOCH_OUTPUTS,
  parameterCount,
  type EpochGraphSpec,
} from './epoch-graph-spec.js';
import { Adam } from './optimizer.js';
import { hasCode } from '../core/test-support.test-helper.js';

const base: EpochGraphSpec = {
  sizes: [4, 6, 3],
  activation: 'relu',
  task: 'classification',
  rows: 50,
  batchSize: 16,
  l2: 1e-4,
  beta1: 0.9,
  beta2: 0.999,
};

const isArgError = (pattern: RegExp) => hasCode('TEND_INVALID_ARGUMENT', pattern);

test('the graph is well formed, one Loop over the batches, for every head, activation and depth', () => {
  const specs: EpochGraphSpec[] = [
    base,
    { ...base, validationRows: 7 },
    { ...base, sizes: [4, 3], l2: 0 },
    { ...base, sizes: [4, 8, 5, 1], activation: 'tanh', task: 'regression', validationRows: 3 },
  ];
  for (const spec of specs) {
    const model = buildEpochGraph(spec);
    assert.deepEqual(checkModel(model), [], JSON.stringify(spec));
    const graph = model.graph;
    assert.ok(graph !== undefined);
    assert.equal(model.opsetImport[0]?.version, 17n);
    const loops = graph.node.filter((n) => n.opType === 'Loop');
    assert.equal(loops.length, 1);
    // The trip count is the number of batches, a short last one included.
    const tripCount = graph.initializer.find((t) => t.name === loops[0]?.input[0]);
    assert.equal(
      new BigInt64Array(tripCount?.rawData.slice().buffer ?? new ArrayBuffer(8))[0],
      BigInt(batchCount(spec.rows, spec.batchSize)),
    );
    const validation = (spec.validationRows ?? 0) > 0;
    const inputs = graph.input.map((i) => i.name);
    assert.deepEqual(inputs.includes(EPOCH_INPUTS.validationFeatures), validation);
    const outputs = graph.output.map((o) => o.name);
    assert.deepEqual(outputs.slice(0, 4), [
      EPOCH_OUTPUTS.parameters,
      EPOCH_OUTPUTS.adamM,
      EPOCH_OUTPUTS.adamV,
      EPOCH_OUTPUTS.lossSum,
    ]);
    assert.equal(outputs.includes(EPOCH_OUTPUTS.validationLossSum), validation);
    assert.equal(
      outputs.includes(EPOCH_OUTPUTS.validationCorrect),
      validation && spec.task === 'classification',
    );
    // Every parameter vector is as long as DenseNetwork's layout says.
    const dims = graph.input.find((i) => i.name === EPOCH_INPUTS.parameters)?.type?.value.value;
    assert.ok(dims !== undefined && 'shape' in dims);
    assert.equal(dims.shape?.dim[0]?.value.value, BigInt(parameterCount(spec.sizes)));
  }
});

test('the Adam schedule reproduces optimizer.ts: same parameter path over many steps', () => {
  const rate = { learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
  const adam = new Adam(3, rate);
  const reference = Float64Array.from([0.5, -0.25, 1]);
  const mine = Float64Array.from(reference);
  const m = new Float64Array(3);
  const v = new Float64Array(3);
  const { stepSizes, epsilons } = adamSchedule(1, 40, rate);
  for (let t = 0; t < 40; t++) {
    const gradient = Float64Array.from([Math.sin(t), 0.1 * Math.cos(3 * t), 1e-3]);
    adam.step(reference, gradient);
    for (let i = 0; i < 3; i++) {
      const g = gradient[i] as number;
      m[i] = rate.beta1 * (m[i] as number) + (1 - rate.beta1) * g;
      v[i] = rate.beta2 * (v[i] as number) + (1 - rate.beta2) * g * g;
      mine[i] =
        (mine[i] as number) -
        ((stepSizes[t] as number) * (m[i] as number)) / (Math.sqrt(v[i] as number) + (epsilons[t] as number));
    }
  }
  // The schedule is stored in float32: a relative 6e-8 per step.
  for (let i = 0; i < 3; i++)
    assert.ok(
      Math.abs((mine[i] as number) - (reference[i] as number)) < 1e-6,
      `${mine[i]} vs ${reference[i]}`,
    );
  // A later window starts where the first left off.
  const later = adamSchedule(21, 20, rate);
  assert.deepEqual([...later.stepSizes], [...stepSizes.subarray(20)]);
});

test('bad specs are TEND_INVALID_ARGUMENT naming the problem', () => {
  assert.throws(() => buildEpochGraph({ ...base, sizes: [4] }), isArgError(/layer sizes/));
  assert.throws(() => buildEpochGraph({ ...base, sizes: [4, 0, 3] }), isArgError(/layer sizes/));
  assert.throws(() => buildEpochGraph({ ...base, task: 'regression' }), isArgError(/one output/));
  assert.throws(() => buildEpochGraph({ ...base, sizes: [4, 6, 1] }), isArgError(/two or more outputs/));
  assert.throws(
    () => buildEpochGraph({ ...base, batchSize: 51 }),
    isArgError(/batch size must be in 1\.\.50/),
  );
  assert.throws(() => buildEpochGraph({ ...base, rows: 0 }), isArgError(/rows/));
  assert.throws(() => buildEpochGraph({ ...base, l2: -1 }), isArgError(/l2/));
  assert.throws(() => buildEpochGraph({ ...base, beta2: 1 }), isArgError(/beta2/));
  assert.throws(() => buildEpochGraph({ ...base, validationRows: 1.5 }), isArgError(/validation rows/));
});
