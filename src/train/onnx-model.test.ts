/**
 * Every model kind exported to ONNX computes in onnxruntime what the TypeScript model computes
 * (argmax equal, probabilities within 1e-5, regression values within 1e-4 relative), and reads back
 * into the same model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { extractModelInfo, GraphBuilder, readModel, writeModel } from '../onnx/index.js';
import { exportTrainedModel, importTrainedModel } from './onnx-model.js';
import { dataset } from './reference-data.case.js';
import { Random } from './random.js';
import { trainModel, type TrainOptions } from './trainer.js';
import type { TrainedModel } from './trained-model.js';
import { readTrainingCsv } from './training-csv.js';
import type { TrainingTable } from './training-table.js';
import { hasCode } from '../core/test-support.test-helper.js';

async function runOnnx(
  bytes: Uint8Array,
  x: Float32Array,
  rows: number,
  width: number,
): Promise<ort.InferenceSession.ReturnType> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    return await session.run({ features: new ort.Tensor('float32', x, [rows, width]) });
  } finally {
    await session.release();
  }
}

/** Check onnxruntime against the TypeScript model on the rows of `table` (as float32, what clients send). */
async function assertOnnxAgrees(model: TrainedModel, table: TrainingTable): Promise<void> {
  const x = Float32Array.from(table.features);
  const width = table.featureColumns.length;
  const out = await runOnnx(exportTrainedModel(model), x, table.rows, width);
  if (model.task === 'classification') {
    const expected = model.predictProba(x, table.rows);
    const labels = model.predictLabels(x, table.rows);
    const probabilities = out.probabilities?.data as Float32Array;
    assert.deepEqual(out.probabilities?.dims, [table.rows, model.classes?.length]);
    let worst = 0;
    for (let i = 0; i < expected.length; i++)
      worst = Math.max(worst, Math.abs((probabilities[i] as number) - (expected[i] as number)));
    assert.ok(worst <= 1e-5, `${model.kind}: probabilities differ by ${worst}`);
    assert.deepEqual([...(out.label?.data as BigInt64Array)].map(Number), [...labels]);
  } else {
    const expected = model.predictValues(x, table.rows);
    const prediction = out.prediction?.data as Float32Array;
    assert.deepEqual(out.prediction?.dims, [table.rows, 1]);
    for (let i = 0; i < expected.length; i++) {
      const e = expected[i] as number;
      assert.ok(
        Math.abs((prediction[i] as number) - e) <= 1e-4 * Math.max(1, Math.abs(e)),
        `${model.kind}: ${prediction[i]} vs ${e}`,
      );
    }
  }
}

/** A table with an integer-coded column 'shop' (codes 3, 5, 9) among numeric ones. */
function categoricalTable(task: 'classification' | 'regression'): TrainingTable {
  const random = new Random(4);
  const lines = ['size,shop,weight,y'];
  for (let i = 0; i < 120; i++) {
    const shop = [3, 5, 9][i % 3] as number;
    const size = random.uniformRange(0, 10);
    const weight = random.normal(50, 10);
    const score = size + (shop === 5 ? 4 : 0) - 0.05 * weight;
    lines.push(
      `${size},${shop},${weight},${task === 'classification' ? (score > 3 ? 'big' : 'small') : 2 * score + random.normal()}`,
    );
  }
  return readTrainingCsv(lines.join('\n'), 'shops.csv', 'y', task);
}

const iris = () => dataset('iris').all;
const cases: { name: string; table: () => TrainingTable; options: TrainOptions }[] = [
  { name: 'linear', table: () => dataset('diabetes').all, options: { model: 'linear' } },
  { name: 'ridge', table: () => dataset('diabetes').all, options: { model: 'ridge', l2: 10 } },
  { name: 'logistic', table: () => dataset('breast_cancer').all, options: { model: 'logistic' } },
  { name: 'softmax', table: iris, options: { model: 'softmax' } },
  { name: 'mlp relu, two hidden layers', table: iris, options: { model: 'mlp', hidden: [8, 6], epochs: 20 } },
  { name: 'mlp tanh', table: iris, options: { model: 'mlp', hidden: [8], activation: 'tanh', epochs: 20 } },
  {
    name: 'mlp regressor',
    table: () => dataset('diabetes').all,
    options: { model: 'mlp', hidden: [8], epochs: 10 },
  },
  {
    name: 'logistic with a categorical column',
    table: () => categoricalTable('classification'),
    options: { model: 'logistic', categorical: ['shop'] },
  },
  {
    name: 'mlp with a categorical column',
    table: () => categoricalTable('classification'),
    options: { model: 'mlp', hidden: [6], epochs: 10, categorical: ['shop'] },
  },
  {
    name: 'ridge with a categorical column',
    table: () => categoricalTable('regression'),
    options: { model: 'ridge', categorical: ['shop'] },
  },
];

for (const c of cases) {
  test(`${c.name}: onnxruntime agrees with TypeScript, and the model reads back unchanged`, async () => {
    const table = c.table();
    const { model } = trainModel(table, c.options);
    await assertOnnxAgrees(model, table);
    const bytes = exportTrainedModel(model, { 'tend.run': 'r1' });
    const again = importTrainedModel(bytes);
    assert.equal(again.kind, model.kind);
    assert.equal(again.task, model.task);
    assert.deepEqual(again.featureColumns, model.featureColumns);
    assert.equal(again.targetColumn, model.targetColumn);
    assert.deepEqual(again.classes, model.classes);
    assert.deepEqual(again.preprocessing, model.preprocessing);
    assert.deepEqual(again.network.sizes, model.network.sizes);
    assert.equal(again.network.activation, model.network.activation);
    assert.deepEqual(again.network.parameters, model.network.parameters);
    assert.deepEqual(again.hyperparameters, model.hyperparameters);
    const x = Float32Array.from(table.features);
    assert.deepEqual(again.outputs(x, table.rows), model.outputs(x, table.rows));
    // Exporting the imported model writes the same bytes.
    assert.deepEqual(exportTrainedModel(again, { 'tend.run': 'r1' }), bytes);
  });
}

test('the graph has the serving signature and metadata of the existing digits model', () => {
  const { model } = trainModel(iris(), { model: 'softmax' });
  const info = extractModelInfo(
    readModel(exportTrainedModel(model, { owner: 'team-a', model_kind: 'ignored' })),
  );
  assert.deepEqual(
    info.signature.inputs.map((i) => [i.name, i.datatype, i.shape]),
    [['features', 'FP32', ['batch', 4]]],
  );
  assert.deepEqual(
    info.signature.outputs.map((o) => [o.name, o.datatype, o.shape]),
    [
      ['probabilities', 'FP32', ['batch', 3]],
      ['label', 'INT64', ['batch']],
    ],
  );
  assert.equal(info.metadata.classes, JSON.stringify(['setosa', 'versicolor', 'virginica']));
  assert.equal(
    info.metadata.feature_columns,
    JSON.stringify(['sepal_length', 'sepal_width', 'petal_length', 'petal_width']),
  );
  assert.equal(info.metadata.target_column, 'species');
  assert.equal(info.metadata.owner, 'team-a');
  // The trainer's own keys cannot be overridden by the caller's metadata.
  assert.equal(info.metadata.model_kind, 'softmax');
  assert.equal(info.metadata.tend_trainer, '1');
  const regression = extractModelInfo(
    readModel(exportTrainedModel(trainModel(dataset('diabetes').all, { model: 'linear' }).model)),
  );
  assert.deepEqual(
    regression.signature.outputs.map((o) => [o.name, o.datatype, o.shape]),
    [['prediction', 'FP32', ['batch', 1]]],
  );
});

test('importTrainedModel rejects models tend did not write, and damaged metadata, with TEND_INVALID_MODEL', () => {
  const isInvalidModel = (pattern: RegExp) => hasCode('TEND_INVALID_MODEL', pattern);
  const foreign = writeModel(
    new GraphBuilder('g')
      .input('x', 'FP32', ['batch', 2])
      .output('y', 'FP32', ['batch', 2])
      .node('Relu', ['x'], ['y'])
      .build(),
  );
  assert.throws(() => importTrainedModel(foreign), isInvalidModel(/not written by tend's trainers/));
  assert.throws(() => importTrainedModel(new Uint8Array([1, 2, 3])), isInvalidModel(/not an ONNX model/));
  const { model } = trainModel(iris(), { model: 'softmax' });
  const damage = (edit: (meta: Map<string, string>) => void, dropInitializer?: string): Uint8Array => {
    const proto = readModel(exportTrainedModel(model));
    const meta = new Map(proto.metadataProps.map((p) => [p.key, p.value]));
    edit(meta);
    proto.metadataProps = proto.metadataProps.filter((p) => meta.has(p.key));
    for (const p of proto.metadataProps) p.value = meta.get(p.key) as string;
    if (dropInitializer !== undefined && proto.graph !== undefined)
      proto.graph.initializer = proto.graph.initializer.filter((t) => t.name !== dropInitializer);
    return writeModel(proto);
  };
  assert.throws(
    () => importTrainedModel(damage((m) => m.set('tend_trainer', '9'))),
    isInvalidModel(/unsupported trainer format '9'/),
  );
  assert.throws(
    () => importTrainedModel(damage((m) => m.set('model_kind', 'forest'))),
    isInvalidModel(/'model_kind' must be one of/),
  );
  assert.throws(
    () => importTrainedModel(damage((m) => m.set('feature_columns', '{oops'))),
    isInvalidModel(/'feature_columns' is not valid JSON/),
  );
  assert.throws(
    () => importTrainedModel(damage((m) => m.set('classes', '["a","b"]'))),
    isInvalidModel(/do not fit together.*3 outputs/),
  );
  assert.throws(
    () => importTrainedModel(damage((m) => m.set('feature_columns', '["a"]'))),
    isInvalidModel(/feature_mean' has 4 values, expected 1/),
  );
  assert.throws(
    () => importTrainedModel(damage(() => undefined, 'layer0_bias')),
    isInvalidModel(/no initializer 'layer0_bias'/),
  );
  assert.throws(
    () => importTrainedModel(damage((m) => m.delete('target_column'))),
    isInvalidModel(/no 'target_column'/),
  );
});
