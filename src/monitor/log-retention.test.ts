import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TendError } from '../core/errors.js';
import { retentionGroups } from './log-retention.js';
import { openMonitorDb } from './monitor-db.js';
import { PredictionLog } from './prediction-log.js';
import { openTestLog, predictionRow, tempDbPath } from './prediction-log.test-helper.js';

const DAY_MS = 24 * 3600 * 1000;

test('retentionGroups: the longest age cuts everything, shorter ages by group, the server age for the rest', () => {
  assert.deepEqual(retentionGroups(7, {}), { longestMs: 7, groups: [] });
  assert.deepEqual(retentionGroups(7, { a: 1, b: 1, c: 7, d: 30 }), {
    longestMs: 30,
    groups: [
      { retentionMs: 7, models: [], others: true },
      { retentionMs: 1, models: ['a', 'b'], others: false },
    ],
  });
});

test('per-model retention: shorter and longer than the server, emptied blocks removed, the rest intact', async (t) => {
  const { log, path } = openTestLog(t, {
    retentionMs: 7 * DAY_MS,
    modelRetentionMs: { short: 1 * DAY_MS, long: 30 * DAY_MS },
  });
  const now = Date.now();
  // Batches in time order, each with rows of the three models (one float block per model per batch).
  for (const ageDays of [40, 20, 3, 0.5]) {
    for (const model of ['short', 'long', 'iris'])
      log.record(
        predictionRow({
          model,
          requestId: `${model}-${ageDays}`,
          timeMs: now - ageDays * DAY_MS,
          features: new Float32Array([ageDays, 1, 2]),
        }),
      );
    await log.flush();
  }
  assert.equal(log.count(), 12);
  const deleted = await log.applyRetention(now);
  assert.equal(deleted, 1 + 1 + 2 + 2, '40 days: all three; 20 days: short and iris; 3 days: short');
  assert.deepEqual(log.window({ model: 'long' }).requestIds, ['long-20', 'long-3', 'long-0.5']);
  assert.deepEqual(log.window({ model: 'iris' }).requestIds, ['iris-3', 'iris-0.5']);
  const short = log.window({ model: 'short' });
  assert.deepEqual(short.requestIds, ['short-0.5']);
  assert.deepEqual([...(short.features[0] ?? [])], [0.5, 1, 2]);
  const db = openMonitorDb(path, { queryOnly: true });
  t.after(() => db.close());
  const blocks = db.prepare('SELECT count(*) FROM float_blocks').pluck().get();
  assert.equal(blocks, 6, 'one block per remaining row: the emptied ones in the middle are gone');
  assert.equal(await log.applyRetention(now), 0);
});

test('a bad per-model retention is refused at open', (t) => {
  assert.throws(
    () => PredictionLog.open({ path: tempDbPath(t), modelRetentionMs: { m: -1 } }),
    (err: unknown) =>
      err instanceof TendError && err.code === 'TEND_INVALID_CONFIG' && /model m/.test(err.message),
  );
});
