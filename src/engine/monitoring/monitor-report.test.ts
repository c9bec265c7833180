import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TendError } from '../../core/errors.js';
import type { ModelSignature } from '../../core/signature.js';
import type { Tensor } from '../../core/tensor.js';
import { detectDrift } from '../../monitor/drift.js';
import { buildMonitorReport, currentFromCsv, driftedFeatures, type ReportEngine } from './monitor-report.js';
import { referenceFromCsv } from '../serving/reference-data.js';
import type { InferRequest, InferResponse } from '../serving/run-request.js';
import type { ServedVersion } from '../serving/served-version.js';

/** A stand-in for a loaded classifier of two features: class 'b' when a + b > 1 (probabilities as outputs). */
function fakeVersion(
  options: { datatype?: 'FP32' | 'INT64'; classes?: string[]; maxBatchSize?: number } = {},
): ServedVersion {
  const signature: ModelSignature = {
    inputs: [
      { name: 'x', datatype: options.datatype ?? 'FP32', onnx_type: 'tensor(float)', shape: ['batch', 2] },
    ],
    outputs: [{ name: 'probabilities', datatype: 'FP32', onnx_type: 'tensor(float)', shape: ['batch', 2] }],
  };
  const fake = {
    model: 'toy',
    version: 3,
    signature,
    maxBatchSize: options.maxBatchSize ?? 4,
    config: {},
    classes: options.classes ?? ['a', 'b'],
  };
  return fake as unknown as ServedVersion;
}

class FakeEngine implements ReportEngine {
  readonly shapes: number[][] = [];
  constructor(private readonly sv: ServedVersion) {}
  resolve(name: string): Promise<ServedVersion> {
    if (name !== 'toy')
      return Promise.reject(new TendError('TEND_MODEL_NOT_FOUND', `model '${name}' not found`));
    return Promise.resolve(this.sv);
  }
  infer(_sv: ServedVersion, request: InferRequest): Promise<InferResponse> {
    const input = request.inputs[0] as Tensor;
    this.shapes.push(input.shape);
    const data = input.data as Float32Array;
    const n = input.shape[0] as number;
    const p = new Float32Array(n * 2);
    for (let r = 0; r < n; r++) {
      const b = (data[2 * r] as number) + (data[2 * r + 1] as number) > 1 ? 0.9 : 0.1;
      p[2 * r] = 1 - b;
      p[2 * r + 1] = b;
    }
    return Promise.resolve({
      model_name: 'toy',
      model_version: '3',
      id: 'x',
      outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [n, 2], data: p }],
    });
  }
}

/** Rows of two features and the class name the fake model predicts for them. */
function csv(
  rows: number,
  shift: number,
  header = 'f1,f2,target',
  labelOf = (a: number, b: number) => (a + b > 1 ? 'b' : 'a'),
): string {
  const lines = [header];
  for (let i = 0; i < rows; i++) {
    const a = ((i * 37) % 100) / 100 + shift;
    const b = ((i * 61) % 100) / 100;
    lines.push(`${a},${b},${labelOf(a, b)}`);
  }
  return `${lines.join('\n')}\n`;
}

const reference = referenceFromCsv(csv(200, 0), 'ref.csv', 2, 3);

test('current columns: matched by name in any order, the target named like the reference or last', () => {
  const swapped = currentFromCsv('f2,f1,target\n1,2,a\n3,4,b\n', 'cur.csv', reference, true);
  assert.deepEqual(swapped.features, { f1: [2, 4], f2: [1, 3] });
  assert.deepEqual(swapped.target, { name: 'target', values: ['a', 'b'] });
  const renamed = currentFromCsv('f1,f2,truth\n1,2,a\n', 'cur.csv', reference, true);
  assert.equal(renamed.target?.name, 'truth');
  assert.equal(currentFromCsv('f1,f2\n1,2\n', 'cur.csv', reference, false).target, null);
});

test('mismatched current columns are refused with the names that differ', () => {
  const refuse = (text: string, labels: boolean, message: RegExp) =>
    assert.throws(
      () => currentFromCsv(text, 'cur.csv', reference, labels),
      (err: unknown) =>
        err instanceof TendError && err.code === 'TEND_INVALID_ARGUMENT' && message.test(err.message),
    );
  refuse('f1,target\n1,a\n', false, /cur\.csv lacks feature column\(s\) 'f2'/);
  refuse('f1,f2,extra,target\n1,2,3,a\n', false, /has column\(s\) 'extra' the reference does not/);
  refuse('f1,g2,target\n1,2,a\n', false, /lacks feature column\(s\) 'f2' and has column\(s\) 'g2'/);
  refuse('f1,f2\n1,2\n', true, /no ground truth for --labels: add a column 'target'/);
});

test('the report runs every row in batches of the largest batch and agrees with detectDrift', async () => {
  const sv = fakeVersion();
  const engine = new FakeEngine(sv);
  const report = await buildMonitorReport(engine, {
    model: 'toy',
    reference: { text: csv(200, 0), source: 'ref.csv' },
    current: { text: csv(10, 0.4), source: 'cur.csv' },
    labels: true,
    now: new Date(0),
  });
  assert.deepEqual(engine.shapes, [
    [4, 2],
    [4, 2],
    [2, 2],
  ]);
  assert.equal(report.model, 'toy');
  assert.equal(report.version, '3');
  assert.equal(report.generated_at, '1970-01-01T00:00:00.000Z');
  assert.equal(report.task, 'classification');
  assert.deepEqual(report.classes, ['a', 'b']);
  assert.deepEqual(report.current, { source: 'cur.csv', rows: 10, target: 'target' });
  // The labels are the fake model's own rule: every prediction is right.
  assert.equal(report.labelled, 10);
  assert.equal((report.quality as { accuracy: number }).accuracy, 1);
  assert.equal(report.quality_note, null);

  // The same verdicts from the drift tests directly: float32 features, the target against the predictions.
  const cur = currentFromCsv(csv(10, 0.4), 'cur.csv', reference, false);
  const f32 = (values: readonly (number | string | null)[]) => values.map((v) => Math.fround(v as number));
  const predicted = (cur.features['f1'] ?? []).map((a, i) =>
    (a as number) + ((cur.features['f2'] ?? [])[i] as number) > 1 ? 1 : 0,
  );
  const expected = detectDrift(
    { ...reference.features, prediction: reference.target?.values ?? [] },
    { f1: f32(cur.features['f1'] ?? []), f2: f32(cur.features['f2'] ?? []), prediction: predicted },
    { predictionColumn: 'prediction' },
  );
  assert.deepEqual(report.drift, expected);
  assert.deepEqual(
    driftedFeatures(report),
    expected.features.filter((f) => f.drifted).map((f) => f.name),
  );
  assert.ok(driftedFeatures(report).includes('f1'), JSON.stringify(report.drift?.features));
  assert.ok(report.data_quality && report.histograms?.['f1']);
});

test('without --labels there is no quality, and says why', async () => {
  const report = await buildMonitorReport(new FakeEngine(fakeVersion()), {
    model: 'toy',
    reference: { text: csv(50, 0), source: 'ref.csv' },
    current: { text: csv(20, 0), source: 'cur.csv' },
    labels: false,
  });
  assert.equal(report.quality, null);
  assert.equal(report.labelled, 0);
  assert.match(report.quality_note ?? '', /--labels/);
  assert.equal(report.current.target, null);
  assert.ok(report.drift);
});

test('bad data and unsuitable models give clear errors', async () => {
  const run = (sv: ServedVersion, current: string, labels = false, ref = csv(50, 0)) =>
    buildMonitorReport(new FakeEngine(sv), {
      model: 'toy',
      reference: { text: ref, source: 'ref.csv' },
      current: { text: current, source: 'cur.csv' },
      labels,
    });
  await assert.rejects(
    run(fakeVersion(), 'f1,f2,target\n1,x,a\n'),
    /cur\.csv, line 2, column 'f2': 'x' is not a number/,
  );
  await assert.rejects(
    run(fakeVersion(), 'f1,f2,target\n1,2,c\n', true),
    /line 2, column 'target': 'c' is not a class of the model \(classes: a, b\)/,
  );
  await assert.rejects(
    run(fakeVersion(), 'f1,f2,target\n1,2,a\n', false, 'f1,f2,f3,f4\n1,2,3,4\n'),
    /ref\.csv: 4 columns, but the model takes 2 features/,
  );
  await assert.rejects(
    run(fakeVersion({ datatype: 'INT64' }), 'f1,f2,target\n1,2,a\n'),
    /FP32 or FP64 \[batch, features\] input/,
  );
  await assert.rejects(
    buildMonitorReport(new FakeEngine(fakeVersion()), {
      model: 'nope',
      reference: { text: '', source: 'r' },
      current: { text: '', source: 'c' },
      labels: false,
    }),
    (err: unknown) => err instanceof TendError && err.code === 'TEND_MODEL_NOT_FOUND',
  );
});

test('class indices are labels too, and a missing label leaves its row out', async () => {
  const current = 'f1,f2,target\n0.9,0.9,1\n0.1,0.1,0\n0.1,0.2,\n';
  const report = await buildMonitorReport(new FakeEngine(fakeVersion({ classes: [] })), {
    model: 'toy',
    reference: { text: csv(50, 0), source: 'ref.csv' },
    current: { text: current, source: 'cur.csv' },
    labels: true,
  });
  assert.equal(report.labelled, 2);
  assert.equal((report.quality as { accuracy: number }).accuracy, 1);
});
