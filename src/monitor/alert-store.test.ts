import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  MemoryAlertEventStore,
  SqliteAlertEventStore,
  type AlertEvent,
  type AlertEventStore,
} from './alert-store.js';
import { tempDir } from '../core/test-support.test-helper.js';

function event(over: Partial<AlertEvent>): AlertEvent {
  return {
    rule: 'acc',
    model: 'digits',
    version: '1',
    metric: 'accuracy',
    state: 'firing',
    value: 0.8,
    op: '<',
    threshold: 0.9,
    samples: 120,
    severity: 'warning',
    started_at: '2025-01-01T00:00:00.000Z',
    at: '2025-01-01T00:00:00.000Z',
    message: 'acc: accuracy of digits version 1 is 0.8000',
    ...over,
  };
}

const EVENTS: AlertEvent[] = [
  event({}),
  event({
    rule: 'errors',
    metric: 'error_rate',
    op: '>',
    threshold: 0.05,
    value: 0.5,
    at: '2025-01-01T00:01:00.000Z',
    severity: 'critical',
  }),
  event({ model: 'iris', at: '2025-01-01T00:02:00.000Z' }),
  event({ state: 'resolved', value: null, samples: 0, at: '2025-01-01T00:03:00.000Z' }),
  event({ at: '2025-01-01T00:04:00.000Z', started_at: '2025-01-01T00:04:00.000Z' }),
];

/** The behaviour every store shares. */
function storeCase(name: string, open: () => { store: AlertEventStore; close(): void }) {
  test(`${name}: events listed newest first, filtered, limited, and equal to what was appended`, () => {
    const { store, close } = open();
    try {
      assert.deepEqual(store.list(), []);
      assert.deepEqual(store.latestPerSeries(), []);
      for (const e of EVENTS) store.append(e);
      assert.deepEqual(store.list(), [...EVENTS].reverse());
      assert.deepEqual(store.list({ limit: 2 }), [EVENTS[4], EVENTS[3]]);
      assert.deepEqual(store.list({ rule: 'errors' }), [EVENTS[1]]);
      assert.deepEqual(store.list({ model: 'iris' }), [EVENTS[2]]);
      assert.deepEqual(store.list({ since: '2025-01-01T00:02:00.000Z', rule: 'acc' }), [
        EVENTS[4],
        EVENTS[3],
        EVENTS[2],
      ]);
      assert.deepEqual(store.list({ rule: 'nope' }), []);
      const latest = store.latestPerSeries();
      assert.equal(latest.length, 3);
      assert.deepEqual(
        latest.find((e) => e.rule === 'acc' && e.model === 'digits'),
        EVENTS[4],
      );
      assert.deepEqual(
        latest.find((e) => e.model === 'iris'),
        EVENTS[2],
      );
    } finally {
      close();
    }
  });
}

storeCase('memory', () => ({ store: new MemoryAlertEventStore(), close: () => undefined }));

storeCase('sqlite', () => {
  const db = new Database(':memory:');
  return { store: new SqliteAlertEventStore(db), close: () => db.close() };
});

test('memory store keeps the newest events up to its capacity', () => {
  const store = new MemoryAlertEventStore(2);
  for (const e of EVENTS) store.append(e);
  assert.deepEqual(store.list(), [EVENTS[4], EVENTS[3]]);
});

test('sqlite store: the table lives in the caller’s database, survives reopening, and shares it with other tables', () => {
  const dir = tempDir('alert-store');
  try {
    const path = join(dir, 'monitor.db');
    const db = new Database(path);
    db.exec('CREATE TABLE predictions (id INTEGER PRIMARY KEY)');
    const store = new SqliteAlertEventStore(db);
    for (const e of EVENTS) store.append(e);
    new SqliteAlertEventStore(db); // a second store on the same handle: CREATE IF NOT EXISTS
    db.close();
    const reopened = new Database(path);
    const again = new SqliteAlertEventStore(reopened);
    assert.deepEqual(again.list({ limit: 1 }), [EVENTS[4]]);
    const tables = reopened
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .pluck()
      .all();
    assert.deepEqual(
      tables.filter((t) => t !== 'sqlite_sequence'),
      ['alert_events', 'predictions'],
    );
    assert.throws(
      () =>
        reopened
          .prepare(
            "INSERT INTO alert_events (rule, model, version, metric, state, op, threshold, samples, severity, started_at, at, at_ms, message) VALUES ('r','m','1','accuracy','bogus','<',1,1,'info','t','t',0,'x')",
          )
          .run(),
      /CHECK constraint/,
    );
    reopened.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sqlite store: a non-finite value is kept as null rather than failing the insert', () => {
  const db = new Database(':memory:');
  const store = new SqliteAlertEventStore(db);
  store.append(event({ value: Number.NaN }));
  assert.equal(store.list()[0]?.value, null);
  db.close();
});
