import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyringSource } from '../core/encryption-env.js';
import { TendError } from '../core/errors.js';
import { generateEncryptionKey, keyringOf } from '../core/keyring.js';
import { openMonitorDb } from './monitor-db.js';
import { filesHoldFloat32, openTestLog, predictionRow } from './prediction-log.test-helper.js';
import type { PredictionLog } from './prediction-log.js';

/** A value no other row of these tests holds, so finding its float32 bytes means finding that row. */
const SECRET = 31337.4375;

async function logThree(log: PredictionLog, timeMs = Date.now()): Promise<void> {
  log.record(predictionRow({ requestId: 'keep-1', timeMs, features: new Float32Array([1, 2, 3]) }));
  log.record(
    predictionRow({ requestId: 'forget', timeMs: timeMs + 1, features: new Float32Array([SECRET, 2, 3]) }),
  );
  log.record(
    predictionRow({ requestId: 'keep-2', timeMs: timeMs + 2, features: new Float32Array([4, 5, 6]) }),
  );
  await log.flush();
  await log.addFeedback([
    { id: 'forget', label: 1 },
    { id: 'keep-1', label: 0 },
  ]);
}

test('delete by request ids: the row, its feedback and its float values go, the others stay intact', async (t) => {
  const { log, path } = openTestLog(t);
  await logThree(log);
  assert.ok(filesHoldFloat32(path, SECRET), 'the scan finds the value while it is logged');
  const result = await log.delete({ model: 'iris', requestIds: ['forget', 'never-logged'] });
  assert.equal(result.deleted, 1);
  assert.equal(result.with_feedback, 1);
  assert.equal(result.blocks_rewritten, 1, 'the block shared with the kept rows is rewritten');
  assert.equal(result.reclaimed, true);
  const w = log.window({ model: 'iris' });
  assert.deepEqual(w.requestIds, ['keep-1', 'keep-2']);
  assert.deepEqual([...(w.features[0] ?? [])], [1, 2, 3]);
  assert.deepEqual([...(w.features[1] ?? [])], [4, 5, 6]);
  assert.deepEqual([...w.label], [0, -1], 'the kept rows keep their own feedback');
  assert.equal(log.count(), 2);
  assert.equal(
    filesHoldFloat32(path, SECRET),
    false,
    'the deleted value is in neither monitor.db nor its WAL',
  );
  const feedback = await log.addFeedback([{ id: 'forget', label: 2 }]);
  assert.deepEqual(feedback.unknown_ids, ['forget'], 'feedback for a deleted row finds nothing');
});

test('delete with no selector is refused and deletes nothing', async (t) => {
  const { log } = openTestLog(t);
  await logThree(log);
  await assert.rejects(log.delete({ model: 'iris' }), (err: unknown) => {
    assert.ok(err instanceof TendError);
    assert.equal(err.code, 'TEND_INVALID_ARGUMENT');
    assert.match(err.message, /needs a selector/);
    return true;
  });
  await assert.rejects(log.delete({ model: 'iris', requestIds: [] }), /empty/);
  await assert.rejects(log.delete({ model: 'iris', beforeMs: Number.NaN }), /not a valid time/);
  await assert.rejects(log.delete({ model: 'iris', where: { feature: -1, value: 1 } }), /column index/);
  assert.equal(log.count(), 3);
});

test('delete --before a date and --where a feature value; another model is untouched', async (t) => {
  const { log } = openTestLog(t);
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  await logThree(log, t0);
  log.record(
    predictionRow({ model: 'other', requestId: 'o', timeMs: t0, features: new Float32Array([SECRET]) }),
  );
  await log.flush();
  const where = await log.delete({ model: 'iris', where: { feature: 0, value: 4 } });
  assert.equal(where.deleted, 1);
  assert.deepEqual(log.window({ model: 'iris' }).requestIds, ['keep-1', 'forget']);
  const before = await log.delete({ model: 'iris', beforeMs: t0 + 1 });
  assert.equal(before.deleted, 1);
  assert.deepEqual(log.window({ model: 'iris' }).requestIds, ['forget']);
  const none = await log.delete({ model: 'iris', where: { feature: 99, value: 1 } });
  assert.equal(none.deleted, 0, 'a column past the row width matches nothing');
  const last = await log.delete({ model: 'iris', requestIds: ['forget'] });
  assert.equal(last.blocks_removed, 1, 'a block with no row left is removed');
  assert.equal(log.window({ model: 'other' }).count, 1);
});

test('delete on an encrypted log: blocks are opened, rewritten sealed, and the rest still reads', async (t) => {
  const old = generateEncryptionKey();
  const keyring = keyringOf([generateEncryptionKey(), old]);
  const { log, path } = openTestLog(t, { keys: KeyringSource.of(keyring) });
  await logThree(log);
  assert.equal(filesHoldFloat32(path, SECRET), false, 'sealed blocks hide the value');
  const result = await log.delete({ model: 'iris', requestIds: ['forget'] });
  assert.equal(result.deleted, 1);
  const w = log.window({ model: 'iris' });
  assert.deepEqual(w.requestIds, ['keep-1', 'keep-2']);
  assert.deepEqual([...(w.features[1] ?? [])], [4, 5, 6]);
  const db = openMonitorDb(path, { queryOnly: true });
  t.after(() => db.close());
  const blocks = db.prepare('SELECT data FROM float_blocks').pluck().all() as Buffer[];
  assert.equal(blocks.length, 1);
  assert.equal((blocks[0] as Buffer).byteLength % 4, 1, 'the rewritten block is sealed again');
});
