/**
 * monitor.db: the monitoring store, a SQLite file of its own so that logging never contends with the
 * registry. One writer (the log-writer worker thread) and any number of readers; WAL lets readers run
 * while the writer commits, and synchronous=NORMAL in WAL keeps every commit across a process kill.
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { TendError, errors } from '../core/errors.js';

/** The prediction log's database file in a tend home. */
export const MONITOR_DB_FILE = 'monitor.db';

export type MonitorDatabase = Database.Database;

/**
 * Migrations in order; `PRAGMA user_version` records how many ran. Append, never edit: a file written
 * by an older tend is brought forward, one written by a newer tend is refused.
 */
const MIGRATIONS: readonly string[] = [
  // Features and class scores live in float_blocks, one block per (batch, model, version): reading
  // the 10 000 newest rows of a model then reads a handful of blobs instead of 20 000 small ones,
  // which would cost more than the rest of the query (each BLOB becomes a Buffer of its own).
  `CREATE TABLE float_blocks (
     id INTEGER PRIMARY KEY,
     data BLOB NOT NULL
   );
   CREATE TABLE predictions (
     id INTEGER PRIMARY KEY,
     request_id TEXT NOT NULL,
     row_index INTEGER NOT NULL,
     model TEXT NOT NULL,
     version INTEGER NOT NULL,
     route TEXT NOT NULL,
     time_ms INTEGER NOT NULL,
     latency_ms REAL NOT NULL,
     -- features (features_count values, NULL: none) then class scores, from value floats_at of the block
     block_id INTEGER,
     floats_at INTEGER,
     features_count INTEGER,
     probabilities_count INTEGER,
     summary_mean REAL,
     summary_std REAL,
     summary_min REAL,
     summary_max REAL,
     summary_count INTEGER,
     predicted_class INTEGER,
     value REAL,
     label INTEGER,
     label_value REAL,
     feedback_ms INTEGER
   );
   CREATE INDEX predictions_model_version_time ON predictions (model, version, time_ms);
   CREATE INDEX predictions_model_time ON predictions (model, time_ms);
   CREATE INDEX predictions_request ON predictions (request_id, row_index);
   CREATE INDEX predictions_time ON predictions (time_ms);`,
  // Every index is paid on every logged row by the writer thread, which shares the cores with the
  // server: keep the two the readers and feedback need. Model-wide reads sort instead, and retention
  // finds its cut by id (rows arrive in time order) instead of by a time index.
  `DROP INDEX IF EXISTS predictions_model_time;
   DROP INDEX IF EXISTS predictions_time;`,
];

export const MONITOR_SCHEMA_VERSION = MIGRATIONS.length;

export interface OpenMonitorDbOptions {
  /** Fail instead of creating the file when it does not exist (for readers such as `tend log export`). */
  mustExist?: boolean;
  /** Refuse writes on this connection (readers); migrations still run first. */
  queryOnly?: boolean;
  /** How long to wait for another connection's write lock (default 5000). */
  busyTimeoutMs?: number;
}

function migrate(db: MonitorDatabase, path: string): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw errors.invalidConfig(
      `monitor database ${path} has schema version ${current}, newer than this tend understands (${MIGRATIONS.length}); upgrade tend`,
    );
  }
  if (current === MIGRATIONS.length) return;
  // IMMEDIATE: two processes opening a new file at once serialize here; the second finds the work done.
  db.transaction(() => {
    const now = db.pragma('user_version', { simple: true }) as number;
    for (let i = now; i < MIGRATIONS.length; i++) db.exec(MIGRATIONS[i] as string);
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  }).immediate();
}

/**
 * Open (creating and migrating when needed) the monitor database at `path`.
 * @throws TendError TEND_NOT_FOUND when `mustExist` and the file is missing; TEND_INVALID_ARGUMENT when
 * the file is not a SQLite database; TEND_INVALID_CONFIG when it comes from a newer tend.
 */
export function openMonitorDb(path: string, options: OpenMonitorDbOptions = {}): MonitorDatabase {
  const busyTimeoutMs = Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000));
  if (options.mustExist === true && path !== ':memory:' && !existsSync(path)) {
    throw errors.notFound(`monitor database ${path} does not exist — nothing has been logged yet`);
  }
  let db: MonitorDatabase;
  try {
    db = new Database(path, { timeout: busyTimeoutMs });
  } catch (err) {
    throw errors.invalidArgument(`cannot open the monitor database ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    migrate(db, path);
    if (options.queryOnly === true) db.pragma('query_only = ON');
  } catch (err) {
    db.close();
    if (err instanceof TendError) throw err;
    throw errors.invalidArgument(`cannot open the monitor database ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return db;
}

/** The bytes of a float32 array as a BLOB value (a view: the driver copies when it binds). */
export function float32Blob(values: Float32Array): Buffer {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
}

/** A BLOB of float32 bytes back as a Float32Array (a view when aligned, else a copy). */
export function blobFloat32(blob: Buffer | Uint8Array): Float32Array {
  const count = blob.byteLength >>> 2;
  if (blob.byteOffset % 4 === 0) return new Float32Array(blob.buffer, blob.byteOffset, count);
  const copy = new Float32Array(count);
  new Uint8Array(copy.buffer).set(blob.subarray(0, count * 4));
  return copy;
}
