import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { TendError } from '../core/errors.js';
import { openMonitorDb } from './monitor-db.js';
import { PredictionLog, NO_CLASS } from './prediction-log.js';
import { openTestLog, predictionRow, tempDbPath } from './prediction-log.test-helper.js';

const DAY_MS = 24 * 3600 * 1000;

function batchesSent(log: PredictionLog): () => number {
  const worker = (log as unknown as { worker: Worker }).worker;
  let batches = 0;
  const post = worker.postMessage.bind(worker);
  worker.postMessage = (message: { type: string }, transfer?: readonly ArrayBuffer[]) => {
    if (message.type === 'batch') batches += 1;
    post(message, transfer as ArrayBuffer[]);
  };
  return () => batches;
}

test('recorded rows come back from window() after flush: features, scores, summaries and nulls', async (t) => {
  const { log } = openTestLog(t);
  const now = Date.now();
  log.record(predictionRow({ requestId: 'a', timeMs: now, features: new Float32Array([1.5, -2, 0.1]) }));
  log.record(
    predictionRow({
      requestId: 'b',
      timeMs: now + 1,
      features: null,
      featureSummary: { mean: 0.5, std: 0.25, min: 0, max: 1, count: 3072 },
      probabilities: null,
      predictedClass: 2,
    }),
  );
  log.record(
    predictionRow({
      requestId: 'c',
      row: 3,
      version: 2,
      route: 'canary',
      timeMs: now + 2,
      features: null,
      predictedClass: null,
      probabilities: null,
      value: 41.5,
    }),
  );
  assert.equal(log.window({ model: 'iris' }).count, 0, 'nothing is read before the batch is committed');
  assert.deepEqual(log.stats, { queued: 3, written: 0, dropped: 0 });
  await log.flush();
  assert.deepEqual(log.stats, { queued: 0, written: 3, dropped: 0 });

  const w = log.window({ model: 'iris' });
  assert.equal(w.count, 3);
  assert.deepEqual(w.requestIds, ['a', 'b', 'c']);
  assert.deepEqual([...w.rows], [0, 0, 3]);
  assert.deepEqual([...w.versions], [1, 1, 2]);
  assert.deepEqual(w.routes, ['direct', 'direct', 'canary']);
  assert.deepEqual([...w.timeMs], [now, now + 1, now + 2]);
  assert.deepEqual([...w.latencyMs], [2.5, 2.5, 2.5]);
  assert.deepEqual(w.features[0], new Float32Array([1.5, -2, 0.1]));
  assert.equal(w.features[1], null);
  assert.deepEqual(w.featureSummaries, [null, { mean: 0.5, std: 0.25, min: 0, max: 1, count: 3072 }, null]);
  assert.deepEqual([...w.predictedClass], [0, 2, NO_CLASS]);
  assert.deepEqual(w.probabilities[0], new Float32Array([0.8, 0.15, 0.05]));
  assert.equal(w.probabilities[1], null);
  assert.deepEqual([...w.value], [NaN, NaN, 41.5]);
  assert.deepEqual([...w.label], [NO_CLASS, NO_CLASS, NO_CLASS]);
  assert.ok(w.labelValue.every(Number.isNaN) && w.feedbackTimeMs.every(Number.isNaN));
});

test('window() filters by model, version and time, orders by time, and keeps the newest `last` rows', async (t) => {
  const { log } = openTestLog(t);
  const now = Date.now();
  // Recorded out of time order, as requests finishing out of order are.
  for (const [id, dt, version] of [
    ['r3', 3, 1],
    ['r1', 1, 1],
    ['r2', 2, 2],
    ['r4', 4, 2],
  ] as const) {
    log.record(predictionRow({ requestId: id, timeMs: now + dt, version }));
  }
  log.record(predictionRow({ requestId: 'other', model: 'digits', timeMs: now }));
  await log.flush();
  assert.deepEqual(log.window({ model: 'iris' }).requestIds, ['r1', 'r2', 'r3', 'r4']);
  assert.deepEqual(log.window({ model: 'iris', version: 2 }).requestIds, ['r2', 'r4']);
  assert.deepEqual(log.window({ model: 'iris', sinceMs: now + 2 }).requestIds, ['r2', 'r3', 'r4']);
  assert.deepEqual(log.window({ model: 'iris', last: 2 }).requestIds, ['r3', 'r4']);
  assert.deepEqual(log.window({ model: 'iris', version: 1, last: 1 }).requestIds, ['r3']);
  assert.deepEqual(log.window({ model: 'iris', last: 0 }).count, 0);
  assert.deepEqual(log.window({ model: 'digits' }).requestIds, ['other']);
  assert.equal(log.window({ model: 'absent' }).count, 0);
});

test('rows of several models and versions in one batch keep their own features and scores', async (t) => {
  const { log } = openTestLog(t);
  const now = Date.now();
  const rows = [
    { model: 'iris', version: 1, width: 3 },
    { model: 'digits', version: 1, width: 64 },
    { model: 'iris', version: 2, width: 4 },
    { model: 'iris', version: 1, width: 3 },
    { model: 'digits', version: 1, width: 0 },
  ];
  rows.forEach(({ model, version, width }, i) =>
    log.record(
      predictionRow({
        requestId: `r${i}`,
        model,
        version,
        timeMs: now + i,
        features: Float32Array.from({ length: width }, (_, j) => i * 100 + j),
        probabilities: i === 3 ? null : new Float32Array([i, -i]),
      }),
    ),
  );
  await log.flush();
  const iris1 = log.window({ model: 'iris', version: 1 });
  assert.deepEqual(iris1.requestIds, ['r0', 'r3']);
  assert.deepEqual(iris1.features, [new Float32Array([0, 1, 2]), new Float32Array([300, 301, 302])]);
  assert.deepEqual(iris1.probabilities, [new Float32Array([0, -0]), null]);
  const iris2 = log.window({ model: 'iris', version: 2 });
  assert.deepEqual(iris2.features, [new Float32Array([200, 201, 202, 203])]);
  const digits = log.window({ model: 'digits' });
  assert.equal(digits.features[0]?.length, 64);
  assert.equal(digits.features[0]?.[63], 163);
  assert.deepEqual(digits.features[1], new Float32Array(0));
  assert.deepEqual(digits.probabilities[1], new Float32Array([4, -4]));
});

test('window() refuses a bad query with TEND_INVALID_ARGUMENT', (t) => {
  const { log } = openTestLog(t);
  for (const query of [
    { model: '' },
    { model: 'iris', version: 1.5 },
    { model: 'iris', last: -1 },
    { model: 'iris', sinceMs: NaN },
  ]) {
    assert.throws(
      () => log.window(query),
      (err: unknown) => err instanceof TendError && err.code === 'TEND_INVALID_ARGUMENT',
    );
  }
});

test('rows recorded in one tick go to the writer as one batch; later rows as later batches', async (t) => {
  const { log } = openTestLog(t, { flushIntervalMs: 5 });
  const batches = batchesSent(log);
  const base = Date.now() - 10_000;
  for (let i = 0; i < 2500; i++) log.record(predictionRow({ requestId: `r${i}`, timeMs: base + i }));
  await log.flush();
  assert.equal(batches(), 1);
  assert.equal(log.stats.written, 2500);
  for (let i = 0; i < 3; i++) {
    log.record(predictionRow({ requestId: `late${i}` }));
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.equal(batches(), 4, 'each row was sent by the interval timer, without flush()');
  await log.flush();
  assert.equal(batches(), 4, 'nothing was left to send');
  assert.equal(log.stats.written, 2503);
  const w = log.window({ model: 'iris', last: 2503 });
  assert.equal(w.count, 2503);
  assert.equal(w.requestIds[2499], 'r2499');
});

test('a full queue drops rows and counts them; record() never throws', async (t) => {
  const { log } = openTestLog(t, { maxQueueRows: 100 });
  for (let i = 0; i < 150; i++) log.record(predictionRow({ requestId: `r${i}` }));
  assert.deepEqual(log.stats, { queued: 100, written: 0, dropped: 50 });
  await log.flush();
  assert.deepEqual(log.stats, { queued: 0, written: 100, dropped: 50 });
  // Rows the database refuses (a NaN version) or that cannot be packed are counted, not thrown; the rest of
  // the batch is kept.
  log.record(predictionRow({ requestId: 'bad', version: NaN }));
  log.record(null as unknown as ReturnType<typeof predictionRow>);
  log.record(predictionRow({ requestId: 'good' }));
  await log.flush();
  assert.deepEqual(log.stats, { queued: 0, written: 101, dropped: 52 });
  assert.equal(log.window({ model: 'iris', last: 1 }).requestIds[0], 'good');
});

test('feedback: accepted, unknown ids, rejected items, replacement of an earlier label', async (t) => {
  const { log } = openTestLog(t);
  log.record(predictionRow({ requestId: 'a' }));
  for (let row = 0; row < 3; row++) log.record(predictionRow({ requestId: 'multi', row }));
  log.record(predictionRow({ requestId: 'reg', predictedClass: null, probabilities: null, value: 3.5 }));
  // Not flushed: feedback writes the queued rows first, so these count.
  const result = await log.addFeedback([
    { id: 'a', row: 0, label: 1 },
    { id: 'multi', row: 2, label: 0 },
    { id: 'multi', label: 2 }, // row defaults to 0
    { id: 'multi', row: 7, label: 1 },
    { id: 'nobody', row: 0, label: 1 },
    { id: 'nobody', row: 1, label: 1 },
    { id: 'reg', value: 4.25 },
    { row: 0, label: 1 },
    { id: 'a', row: -1, label: 1 },
    { id: 'a', row: 0, label: 1.5 },
    { id: 'a', row: 0, label: 1, value: 2 },
    { id: 'a', row: 0 },
    { id: 'a', value: Infinity },
    'not an object',
  ]);
  assert.equal(result.accepted, 4);
  assert.deepEqual(result.unknown_ids.sort(), ['multi', 'nobody']);
  assert.deepEqual(
    result.rejected.map((r) => r.id),
    [null, 'a', 'a', 'a', 'a', 'a', null],
  );
  assert.match(result.rejected[0]?.error ?? '', /^item 7: id must be a non-empty string/);
  assert.match(result.rejected[1]?.error ?? '', /row must be a non-negative integer, got -1/);
  assert.match(result.rejected[2]?.error ?? '', /label must be a class index .* got 1\.5/);
  assert.match(result.rejected[3]?.error ?? '', /either label or value, not both/);
  assert.match(result.rejected[4]?.error ?? '', /give label .* or value/);
  assert.match(result.rejected[5]?.error ?? '', /value must be a finite number/);

  let w = log.window({ model: 'iris' });
  const labelOf = (id: string, row = 0): number =>
    w.label[w.requestIds.findIndex((r, i) => r === id && w.rows[i] === row)] as number;
  assert.equal(labelOf('a'), 1);
  assert.equal(labelOf('multi', 0), 2);
  assert.equal(labelOf('multi', 1), NO_CLASS);
  assert.equal(labelOf('multi', 2), 0);
  assert.equal(w.labelValue[w.requestIds.indexOf('reg')], 4.25);
  assert.ok((w.feedbackTimeMs[0] as number) > 0);

  // A later label replaces the earlier one; a value replaces a label.
  assert.deepEqual(await log.addFeedback([{ id: 'a', row: 0, label: 2 }]), {
    accepted: 1,
    unknown_ids: [],
    rejected: [],
  });
  w = log.window({ model: 'iris' });
  assert.equal(labelOf('a'), 2);
  await log.addFeedback([{ id: 'a', row: 0, value: 1 }]);
  w = log.window({ model: 'iris' });
  assert.equal(labelOf('a'), NO_CLASS);
  assert.equal(w.labelValue[0], 1);
});

test('late feedback (after the rows were flushed long ago) and feedback before the prediction', async (t) => {
  const { log } = openTestLog(t);
  assert.deepEqual(await log.addFeedback([{ id: 'early', row: 0, label: 1 }]), {
    accepted: 0,
    unknown_ids: ['early'],
    rejected: [],
  });
  log.record(predictionRow({ requestId: 'early' }));
  await log.flush();
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(await log.addFeedback([{ id: 'early', row: 0, label: 1 }]), {
    accepted: 1,
    unknown_ids: [],
    rejected: [],
  });
  assert.deepEqual(await log.addFeedback([]), { accepted: 0, unknown_ids: [], rejected: [] });
  await assert.rejects(log.addFeedback({ id: 'x' } as unknown as unknown[]), {
    code: 'TEND_INVALID_ARGUMENT',
  });
});

test('retention deletes rows older than retentionMs and the oldest rows beyond maxRows', async (t) => {
  const { log, path } = openTestLog(t, { retentionMs: 7 * DAY_MS, maxRows: 5 });
  const now = Date.now();
  log.record(predictionRow({ requestId: 'old', timeMs: now - 10 * DAY_MS }));
  log.record(predictionRow({ requestId: 'recent', timeMs: now - DAY_MS }));
  log.record(predictionRow({ requestId: 'now', timeMs: now }));
  await log.flush();
  assert.equal(log.window({ model: 'iris' }).count, 3, 'retention runs on its interval, not on every batch');
  assert.equal(await log.applyRetention(now), 1);
  assert.deepEqual(log.window({ model: 'iris' }).requestIds, ['recent', 'now']);
  assert.equal(await log.applyRetention(now + 6.5 * DAY_MS), 1);
  assert.deepEqual(log.window({ model: 'iris' }).requestIds, ['now']);

  // Beyond maxRows the writer trims at once, oldest recorded first.
  for (let i = 0; i < 7; i++) log.record(predictionRow({ requestId: `n${i}`, timeMs: now + 1 + i }));
  await log.flush();
  assert.deepEqual(log.window({ model: 'iris' }).requestIds, ['n2', 'n3', 'n4', 'n5', 'n6']);
  assert.equal(await log.applyRetention(now), 0);
  assert.deepEqual(log.window({ model: 'iris' }).features[0], new Float32Array([5.1, 3.5, 1.4]));

  // Blocks whose rows are all gone go with them.
  const db = openMonitorDb(path, { queryOnly: true });
  t.after(() => db.close());
  const blocks = (): number => db.prepare('SELECT count(*) FROM float_blocks').pluck().get() as number;
  assert.equal(blocks(), 1, 'the first batch block went with its rows');
  assert.equal(await log.applyRetention(now + 30 * DAY_MS), 5);
  assert.equal(blocks(), 0);
});

test('rows survive close and reopen; a closed log drops new rows', async (t) => {
  const path = tempDbPath(t);
  const first = PredictionLog.open({ path });
  for (let i = 0; i < 10; i++) first.record(predictionRow({ requestId: `r${i}` }));
  await first.close();
  await first.close();
  first.record(predictionRow({ requestId: 'after-close' }));
  assert.deepEqual(first.stats, { queued: 0, written: 10, dropped: 1 });
  await first.flush();

  const second = PredictionLog.open({ path });
  t.after(() => second.close());
  assert.equal(second.window({ model: 'iris' }).count, 10);
  second.record(predictionRow({ requestId: 'r10' }));
  await second.flush();
  assert.equal(second.count(), 11);
});

test('a writer that dies fails flush with TEND_INTERNAL and drops later rows instead of throwing', async (t) => {
  const { log } = openTestLog(t);
  log.record(predictionRow());
  await log.flush();
  const worker = (log as unknown as { worker: Worker }).worker;
  await worker.terminate();
  await new Promise((resolve) => setImmediate(resolve));
  log.record(predictionRow({ requestId: 'lost' }));
  await assert.rejects(
    log.flush(),
    (err: unknown) => err instanceof TendError && err.code === 'TEND_INTERNAL',
  );
  await assert.rejects(log.addFeedback([{ id: 'req-1', label: 1 }]), { code: 'TEND_INTERNAL' });
  assert.deepEqual(log.stats, { queued: 0, written: 1, dropped: 1 });
  assert.equal(log.window({ model: 'iris' }).count, 1, 'committed rows stay readable');
  await log.close();
});

test('open() refuses bad options and files that are not databases', (t) => {
  const path = tempDbPath(t);
  const code = (expected: string) => (err: unknown) => err instanceof TendError && err.code === expected;
  assert.throws(() => PredictionLog.open({ path: ':memory:' }), code('TEND_INVALID_ARGUMENT'));
  assert.throws(() => PredictionLog.open({ path, maxRows: 0 }), code('TEND_INVALID_CONFIG'));
  assert.throws(() => PredictionLog.open({ path, maxQueueRows: 1.5 }), code('TEND_INVALID_CONFIG'));
  assert.throws(() => PredictionLog.open({ path, retentionMs: -1 }), code('TEND_INVALID_CONFIG'));
  assert.throws(() => PredictionLog.open({ path, flushIntervalMs: NaN }), code('TEND_INVALID_CONFIG'));
  writeFileSync(path, 'this is not a SQLite database, but it is long enough to have a header of some sort.');
  assert.throws(() => PredictionLog.open({ path }), code('TEND_INVALID_ARGUMENT'));
});
