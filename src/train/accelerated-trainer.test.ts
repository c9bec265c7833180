/**
 * trainMlpAccelerated's contract with its runner, with fake runners (the engine's
 * accelerated-training.test.ts compares the real onnxruntime path with trainModel).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TendError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { readModel } from '../onnx/model.js';
import {
  acceleratedTrainingSupports,
  trainMlpAccelerated,
  type EpochRunner,
  type EpochRunnerFactory,
} from './accelerated-trainer.js';
import { EPOCH_INPUTS, EPOCH_OUTPUTS } from './epoch-graph-spec.js';
import { dataset } from './reference-data.case.js';

/** A runner that answers every epoch with `answer(inputs)` and records what it saw. */
function fakeRunner(answer: (inputs: Tensor[]) => Tensor[]): {
  open: EpochRunnerFactory;
  graphs: Uint8Array[];
  runs: Tensor[][];
  closed: () => number;
} {
  const graphs: Uint8Array[] = [];
  const runs: Tensor[][] = [];
  let closed = 0;
  const open: EpochRunnerFactory = (graph) => {
    graphs.push(graph);
    const runner: EpochRunner = {
      run: (inputs) => {
        // Copies: the trainer reuses its input buffers from epoch to epoch.
        runs.push(inputs.map((t) => ({ ...t, data: t.data.slice() })));
        return Promise.resolve(answer(inputs));
      },
      close: () => {
        closed++;
        return Promise.resolve();
      },
    };
    return Promise.resolve(runner);
  };
  return { open, graphs, runs, closed: () => closed };
}

/** Echo the parameters back unchanged with a constant loss: enough to drive the epoch loop. */
function echo(inputs: Tensor[]): Tensor[] {
  const byName = new Map(inputs.map((t) => [t.name, t]));
  const out = (name: string, from: string): Tensor => ({ ...(byName.get(from) as Tensor), name });
  const scalar = (name: string, value: number): Tensor => ({
    name,
    datatype: 'FP32',
    shape: [],
    data: new Float32Array([value]),
  });
  return [
    out(EPOCH_OUTPUTS.parameters, EPOCH_INPUTS.parameters),
    out(EPOCH_OUTPUTS.adamM, EPOCH_INPUTS.adamM),
    out(EPOCH_OUTPUTS.adamV, EPOCH_INPUTS.adamV),
    scalar(EPOCH_OUTPUTS.lossSum, 10),
    scalar(EPOCH_OUTPUTS.validationLossSum, 5),
    scalar(EPOCH_OUTPUTS.validationCorrect, 3),
  ];
}

function isError(code: string, pattern: RegExp) {
  return (err: unknown) => err instanceof TendError && err.code === code && pattern.test(err.message);
}

test('each epoch is one run with a fresh row order and the next window of Adam steps; early stopping still applies', async () => {
  const { train } = dataset('iris');
  const fake = fakeRunner(echo);
  const result = await trainMlpAccelerated(
    train,
    { model: 'mlp', hidden: [5], batchSize: 16, epochs: 30, earlyStoppingPatience: 4 },
    fake.open,
  );
  assert.equal(fake.graphs.length, 1);
  assert.equal(
    readModel(fake.graphs[0] as Uint8Array).graph?.node.some((n) => n.opType === 'Loop'),
    true,
  );
  // A validation loss that never improves stops after the first epoch plus the patience.
  assert.equal(fake.runs.length, 5);
  assert.equal(result.stoppedEarly, true);
  assert.equal(fake.closed(), 1);
  const orders = fake.runs.map((inputs) =>
    Array.from(inputs.find((t) => t.name === EPOCH_INPUTS.order)?.data as Int32Array),
  );
  assert.notDeepEqual(orders[0], orders[1]);
  const fitRows = result.model.hyperparameters.train_rows as number;
  assert.deepEqual(
    [...(orders[0] as number[])].sort((a, b) => a - b),
    Array.from({ length: fitRows }, (_, i) => i),
  );
  const steps = fake.runs.map(
    (inputs) => inputs.find((t) => t.name === EPOCH_INPUTS.stepSizes)?.data as Float32Array,
  );
  const batches = Math.ceil(fitRows / 16);
  assert.equal(steps[0]?.length, batches);
  // Bias correction shrinks with t, so the second epoch's first step differs from the first epoch's.
  assert.notEqual(steps[1]?.[0], steps[0]?.[0]);
  const validationRows = train.rows - fitRows;
  assert.equal(result.epochs[0]?.validation_loss, 5 / validationRows);
  assert.equal(result.epochs[0]?.validation_metric, 3 / validationRows);
  assert.equal(result.epochs[0]?.train_loss, 10 / fitRows);
  assert.equal(result.metrics.best_epoch, 1);
});

test('only Adam MLPs are accelerated; the rest is refused before a runner opens', async () => {
  assert.equal(acceleratedTrainingSupports({ model: 'mlp' }), true);
  assert.equal(acceleratedTrainingSupports({ model: 'mlp', optimizer: 'sgd' }), false);
  assert.equal(acceleratedTrainingSupports({ model: 'softmax' }), false);
  const { train } = dataset('iris');
  const fake = fakeRunner(echo);
  await assert.rejects(
    trainMlpAccelerated(train, { model: 'mlp', optimizer: 'sgd' }, fake.open),
    isError('TEND_INVALID_ARGUMENT', /Adam/),
  );
  await assert.rejects(
    trainMlpAccelerated(train, { model: 'softmax' }, fake.open),
    isError('TEND_INVALID_ARGUMENT', /Adam/),
  );
  // trainModel's own checks come first, with its messages.
  await assert.rejects(
    trainMlpAccelerated(train, { model: 'mlp', epochs: 0 }, fake.open),
    isError('TEND_INVALID_ARGUMENT', /epochs must be a positive integer/),
  );
  await assert.rejects(
    trainMlpAccelerated(train, { model: 'mlp', hidden: [0] }, fake.open),
    isError('TEND_INVALID_ARGUMENT', /hidden layer width/),
  );
  assert.equal(fake.graphs.length, 0);
});

test('a runner that fails or answers without an output is closed and the error surfaces', async () => {
  const { train } = dataset('iris');
  const failing = fakeRunner(() => {
    throw new Error('session exploded');
  });
  await assert.rejects(
    trainMlpAccelerated(train, { model: 'mlp', epochs: 3 }, failing.open),
    /session exploded/,
  );
  assert.equal(failing.closed(), 1);
  const empty = fakeRunner(() => []);
  await assert.rejects(
    trainMlpAccelerated(train, { model: 'mlp', epochs: 3 }, empty.open),
    isError('TEND_INTERNAL', /no float32 output 'parameters_out'/),
  );
  assert.equal(empty.closed(), 1);
});
