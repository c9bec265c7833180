import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, dirname } from 'node:path';
import { TendError } from '../core/errors.js';
import { MONITOR_SCHEMA_VERSION, blobFloat32, float32Blob, openMonitorDb } from './monitor-db.js';
import { tempDbPath } from './prediction-log.test-helper.js';

const code = (expected: string) => (err: unknown) => err instanceof TendError && err.code === expected;

test('a new monitor.db gets the current schema, WAL and the query indexes', (t) => {
  const path = tempDbPath(t);
  const db = openMonitorDb(path);
  t.after(() => db.close());
  assert.equal(db.pragma('user_version', { simple: true }), MONITOR_SCHEMA_VERSION);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(db.pragma('synchronous', { simple: true }), 1, 'NORMAL');
  const indexes = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'predictions'")
    .pluck()
    .all();
  for (const name of ['predictions_model_version_time', 'predictions_request'])
    assert.ok(indexes.includes(name), name);
  // Indexes every logged row would pay for without a reader needing them are gone.
  for (const name of ['predictions_model_time', 'predictions_time']) assert.ok(!indexes.includes(name), name);
  // Opening again migrates nothing and keeps the data.
  db.prepare(
    "INSERT INTO predictions (request_id, row_index, model, version, route, time_ms, latency_ms) VALUES ('r', 0, 'm', 1, 'direct', 1, 1)",
  ).run();
  const again = openMonitorDb(path, { mustExist: true });
  assert.equal(again.prepare('SELECT count(*) FROM predictions').pluck().get(), 1);
  again.close();
});

test('a query-only connection refuses writes', (t) => {
  const db = openMonitorDb(tempDbPath(t), { queryOnly: true });
  t.after(() => db.close());
  assert.throws(() => db.prepare('DELETE FROM predictions').run(), /readonly|query_only/i);
});

test('a file from a newer tend, a missing file with mustExist and a non-database are refused with clear codes', (t) => {
  const path = tempDbPath(t);
  const db = openMonitorDb(path);
  db.pragma(`user_version = ${MONITOR_SCHEMA_VERSION + 1}`);
  db.close();
  assert.throws(
    () => openMonitorDb(path),
    (err: unknown) => code('TEND_INVALID_CONFIG')(err) && /newer than this tend/.test((err as Error).message),
  );
  assert.throws(
    () => openMonitorDb(join(dirname(path), 'missing.db'), { mustExist: true }),
    code('TEND_NOT_FOUND'),
  );
  assert.throws(() => openMonitorDb(dirname(path)), code('TEND_INVALID_ARGUMENT'));
});

test('float32 arrays round-trip through BLOB bytes, aligned (a view) or not (a copy)', () => {
  const values = new Float32Array([1.5, -0.25, 3e-8, 7]);
  const blob = float32Blob(values.subarray(1));
  assert.equal(blob.byteLength, 12);
  assert.deepEqual(blobFloat32(blob), new Float32Array([-0.25, 3e-8, 7]));
  const unaligned = new Uint8Array(17).subarray(1);
  unaligned.set(new Uint8Array(values.buffer));
  const read = blobFloat32(unaligned);
  assert.deepEqual(read, values);
  assert.notEqual(read.buffer, unaligned.buffer);
});
