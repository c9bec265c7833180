import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, dirname } from 'node:path';
import { TendError } from '../core/errors.js';
import { csvField } from '../core/csv.js';
import { formatFloat32 } from './prediction-log-export.js';
import { PredictionLogReader } from './prediction-log-reader.js';
import { openTestLog, predictionRow } from './prediction-log.test-helper.js';

function collect(run: (write: (chunk: string) => void) => number): { text: string; rows: number } {
  let text = '';
  const rows = run((chunk) => {
    text += chunk;
  });
  return { text, rows };
}

test('float32 values print as the shortest decimal that reads back the same', () => {
  const f = Math.fround;
  assert.equal(formatFloat32(f(0.1)), '0.1');
  assert.equal(formatFloat32(f(5.1)), '5.1');
  assert.equal(formatFloat32(f(-2.75)), '-2.75');
  assert.equal(formatFloat32(f(1 / 3)), '0.33333334');
  assert.equal(formatFloat32(f(1e-10)), '1e-10');
  assert.equal(formatFloat32(f(3.4e38)), '3.4e+38');
  assert.equal(formatFloat32(16), '16');
  assert.equal(formatFloat32(NaN), 'NaN');
  for (let i = 1; i < 2000; i++) {
    const v = f(Math.sin(i) * 10 ** ((i % 20) - 10));
    assert.equal(f(Number(formatFloat32(v))), v);
  }
});

test('CSV fields with commas, quotes or line breaks are quoted (RFC 4180)', () => {
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('two\nlines'), '"two\nlines"');
});

test('CSV export: header with feature and class names, escaped ids, empty cells for nulls and shorter rows', async (t) => {
  const { log } = openTestLog(t);
  const t0 = Math.floor(Date.now() / 1000) * 1000;
  const iso = (ms: number): string => new Date(ms).toISOString();
  log.record(predictionRow({ requestId: 'he said "hi", ok', timeMs: t0, latencyMs: 1.25 }));
  log.record(
    predictionRow({
      requestId: 'short',
      row: 1,
      timeMs: t0 + 1,
      features: new Float32Array([7]),
      featureSummary: null,
      predictedClass: 2,
      probabilities: null,
    }),
  );
  log.record(
    predictionRow({
      requestId: 'v2',
      version: 2,
      timeMs: t0 + 2,
      features: null,
      featureSummary: { mean: 0.5, std: 1, min: -1, max: 2, count: 784 },
    }),
  );
  await log.flush();
  await log.addFeedback([{ id: 'short', row: 1, label: 1 }]);
  const feedbackMs = log.window({ model: 'iris' }).feedbackTimeMs[1] as number;

  const out = collect((write) =>
    log.export({ model: 'iris' }, 'csv', write, ['sepal length', 'sepal,width'], ['setosa', 'versicolor']),
  );
  assert.equal(out.rows, 3);
  assert.deepEqual(out.text.split('\n'), [
    'request_id,row,model,version,route,time,latency_ms,sepal length,"sepal,width",feature_2,feature_mean,feature_std,feature_min,feature_max,feature_count,predicted_class,p_setosa,p_versicolor,p_2,value,label,label_value,feedback_time',
    `"he said ""hi"", ok",0,iris,1,direct,${iso(t0)},1.25,5.1,3.5,1.4,,,,,,setosa,0.8,0.15,0.05,,,,`,
    `short,1,iris,1,direct,${iso(t0 + 1)},2.5,7,,,,,,,,2,,,,,versicolor,,${iso(feedbackMs)}`,
    `v2,0,iris,2,direct,${iso(t0 + 2)},2.5,,,,0.5,1,-1,2,784,setosa,0.8,0.15,0.05,,,,`,
    '',
  ]);

  // Filters; without names, generic column names; a query with no rows gives the header alone.
  const v2 = collect((write) => log.export({ model: 'iris', version: 2 }, 'csv', write));
  assert.equal(v2.rows, 1);
  assert.match(
    v2.text,
    /^request_id,row,model,version,route,time,latency_ms,feature_mean,.*,predicted_class,p_0,p_1,p_2,value/,
  );
  const none = collect((write) => log.export({ model: 'iris', sinceMs: t0 + 3 }, 'csv', write));
  assert.deepEqual(none, {
    rows: 0,
    text: 'request_id,row,model,version,route,time,latency_ms,predicted_class,value,label,label_value,feedback_time\n',
  });
});

test('JSON lines export: one object per row, arrays whole, features by name when names are given', async (t) => {
  const { log } = openTestLog(t);
  const t0 = Math.floor(Date.now() / 1000) * 1000;
  log.record(predictionRow({ requestId: 'a', timeMs: t0 }));
  log.record(
    predictionRow({
      requestId: 'b',
      timeMs: t0 + 1,
      features: null,
      probabilities: null,
      predictedClass: null,
      value: -3.5,
    }),
  );
  await log.flush();
  await log.addFeedback([{ id: 'b', value: -3 }]);

  const out = collect((write) => log.export({ model: 'iris' }, 'jsonl', write));
  const lines = out.text
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.equal(out.rows, 2);
  assert.deepEqual(lines[0], {
    request_id: 'a',
    row: 0,
    model: 'iris',
    version: 1,
    route: 'direct',
    time: new Date(t0).toISOString(),
    latency_ms: 2.5,
    features: [5.1, 3.5, 1.4],
    feature_summary: null,
    predicted_class: 0,
    probabilities: [0.8, 0.15, 0.05],
    value: null,
    label: null,
    label_value: null,
    feedback_time: null,
  });
  assert.equal(lines[1]?.value, -3.5);
  assert.equal(lines[1]?.label_value, -3);
  assert.equal(typeof lines[1]?.feedback_time, 'string');

  const named = collect((write) =>
    log.export({ model: 'iris', sinceMs: t0 }, 'jsonl', write, ['sepal_length', 'sepal_width']),
  );
  assert.deepEqual((JSON.parse(named.text.split('\n')[0] as string) as { features: unknown }).features, {
    sepal_length: 5.1,
    sepal_width: 3.5,
    feature_2: 1.4,
  });
  assert.equal(collect((write) => log.export({ model: 'nothing' }, 'jsonl', write)).text, '');
  assert.throws(
    () => log.export({ model: 'iris' }, 'xml' as 'csv', () => undefined),
    (err: unknown) => err instanceof TendError && err.code === 'TEND_INVALID_ARGUMENT',
  );
});

test('NDJSON export: the JSON lines with @timestamp first, or a _bulk body with --bulk-index', async (t) => {
  const { log } = openTestLog(t);
  const t0 = Math.floor(Date.now() / 1000) * 1000;
  log.record(predictionRow({ requestId: 'a', timeMs: t0 }));
  log.record(predictionRow({ requestId: 'b', timeMs: t0 + 1 }));
  await log.flush();
  const jsonl = collect((write) => log.export({ model: 'iris' }, 'jsonl', write))
    .text.trimEnd()
    .split('\n');
  const plain = collect((write) => log.export({ model: 'iris' }, 'ndjson', write));
  assert.equal(plain.rows, 2);
  const docs = plain.text.trimEnd().split('\n');
  assert.equal(docs.length, 2);
  docs.forEach((line, i) => {
    const doc = JSON.parse(line) as Record<string, unknown>;
    assert.equal(Object.keys(doc)[0], '@timestamp');
    assert.equal(doc['@timestamp'], doc['time']);
    const { '@timestamp': _stamp, ...rest } = doc;
    assert.deepEqual(rest, JSON.parse(jsonl[i] as string));
  });
  const bulk = collect((write) =>
    log.export({ model: 'iris' }, 'ndjson', write, undefined, undefined, { bulkIndex: 'tend-preds' }),
  );
  const lines = bulk.text.trimEnd().split('\n');
  assert.equal(bulk.rows, 2);
  assert.deepEqual(
    lines.map((l) => Object.keys(JSON.parse(l) as object)[0]),
    ['index', '@timestamp', 'index', '@timestamp'],
  );
  assert.deepEqual(JSON.parse(lines[0] as string), { index: { _index: 'tend-preds' } });
});

test('exports page through many rows with equal timestamps without losing or repeating any', async (t) => {
  const { log, path } = openTestLog(t);
  const t0 = Date.now();
  for (let i = 0; i < 2345; i++)
    log.record(predictionRow({ requestId: `r${i}`, timeMs: t0 + (i < 1500 ? 0 : 1) }));
  await log.flush();
  const chunks: string[] = [];
  assert.equal(
    log.export({ model: 'iris' }, 'jsonl', (chunk) => chunks.push(chunk)),
    2345,
  );
  assert.equal(chunks.length, 3, 'pages of 1000 rows');
  const ids = chunks
    .join('')
    .trimEnd()
    .split('\n')
    .map((line) => (JSON.parse(line) as { request_id: string }).request_id);
  assert.deepEqual(
    ids,
    Array.from({ length: 2345 }, (_, i) => `r${i}`),
  );

  // A separate read-only connection (as `tend log export` next to a running server) sees the same rows.
  const reader = PredictionLogReader.open(path);
  t.after(() => reader.close());
  assert.equal(
    reader.export({ model: 'iris', sinceMs: t0 + 1 }, 'csv', () => undefined),
    845,
  );
  assert.throws(() => PredictionLogReader.open(join(dirname(path), 'missing.db')), {
    code: 'TEND_NOT_FOUND',
  });
});
