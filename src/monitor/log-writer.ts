/**
 * Entry of the prediction log's writer thread: the only connection that writes predictions to
 * monitor.db. Each batch is one transaction; feedback and retention run between batches, in the
 * order they were sent.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { sealFloatBlock } from './float-block-seal.js';
import { floatBlocks } from './log-writer-blocks.js';
import type { FromWriter, PackedBatch, ToWriter, ValidFeedback, WriterInit } from './log-writer-protocol.js';
import { NUM, NUMBERS_PER_ROW } from './log-writer-protocol.js';
import { float32Blob, openMonitorDb, type MonitorDatabase } from './monitor-db.js';
import { keyringOf, type Keyring } from '../core/keyring.js';
import { deletePredictions } from './prediction-log-delete.js';
import { deleteGroupBelow, dropEmptiedBlocks, retentionGroups, type TouchedBlocks } from './log-retention.js';

if (parentPort === null) throw new Error('monitor/log-writer must run in a worker thread');
const port = parentPort;
const init = workerData as WriterInit;
const sealKey =
  init.sealKey === undefined ? undefined : { id: init.sealKey.id, key: Buffer.from(init.sealKey.key) };
const keyring: Keyring | null =
  init.keyring === undefined || init.keyring.length === 0
    ? null
    : keyringOf(init.keyring.map((k) => ({ id: k.id, key: Buffer.from(k.key) })));

/** Rows deleted per statement, so that one large retention pass does not hold the lock for seconds. */
const DELETE_CHUNK_ROWS = 20_000;

function post(message: FromWriter): void {
  port.postMessage(message);
}

function nullable(n: number): number | null {
  return Number.isNaN(n) ? null : n;
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

interface InsertResult {
  written: number;
  firstError: string | undefined;
}

class LogWriter {
  private readonly insert;
  private readonly insertBlock;
  private readonly updateFeedback;
  private readonly deleteOlder;
  private readonly timeAtOrAfter;
  private readonly idRange;
  private readonly idAfterOldest;
  private readonly deleteUpTo;
  private readonly oldestBlockInUse;
  private readonly deleteBlocksBelow;
  private readonly deleteAllBlocks;
  private readonly insertBatch: (batch: PackedBatch, skipBad: boolean) => InsertResult;
  private readonly applyFeedback: (
    items: ValidFeedback[],
    timeMs: number,
  ) => { accepted: number; unknownIds: string[] };
  /** Rows in the table, kept up to date so the row limit is enforced without counting each time. */
  private rowCount: number;

  constructor(private readonly db: MonitorDatabase) {
    this.insert = db.prepare(
      `INSERT INTO predictions (request_id, row_index, model, version, route, time_ms, latency_ms, block_id, floats_at,
         features_count, probabilities_count, summary_mean, summary_std, summary_min, summary_max, summary_count,
         predicted_class, value)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertBlock = db.prepare('INSERT INTO float_blocks (data) VALUES (?)');
    this.updateFeedback = db.prepare(
      'UPDATE predictions SET label = ?, label_value = ?, feedback_ms = ? WHERE request_id = ? AND row_index = ?',
    );
    this.timeAtOrAfter = db.prepare('SELECT id, time_ms FROM predictions WHERE id >= ? ORDER BY id LIMIT 1');
    this.idRange = db.prepare('SELECT min(id) AS lo, max(id) AS hi FROM predictions');
    this.deleteOlder = db.prepare(
      `DELETE FROM predictions WHERE id IN (SELECT id FROM predictions WHERE id < ? ORDER BY id LIMIT ${DELETE_CHUNK_ROWS})`,
    );
    this.idAfterOldest = db.prepare('SELECT id FROM predictions ORDER BY id LIMIT 1 OFFSET ?').pluck();
    this.deleteUpTo = db.prepare('DELETE FROM predictions WHERE id <= ?');
    this.oldestBlockInUse = db
      .prepare('SELECT block_id FROM predictions WHERE block_id IS NOT NULL ORDER BY id LIMIT 1')
      .pluck();
    this.deleteBlocksBelow = db.prepare('DELETE FROM float_blocks WHERE id < ?');
    this.deleteAllBlocks = db.prepare('DELETE FROM float_blocks');
    this.rowCount = db.prepare('SELECT count(*) FROM predictions').pluck().get() as number;
    this.insertBatch = db.transaction((batch: PackedBatch, skipBad: boolean) =>
      this.insertRows(batch, skipBad),
    );
    this.applyFeedback = db.transaction((items: ValidFeedback[], timeMs: number) =>
      this.feedbackRows(items, timeMs),
    );
  }

  /**
   * One transaction per batch. Should the database refuse a row (a NaN version, say), the batch is
   * inserted again without it, so one bad row does not cost the other rows of its batch.
   */
  write(batch: PackedBatch): { written: number; error?: string } {
    let result: InsertResult;
    try {
      result = this.insertBatch(batch, false);
    } catch {
      result = this.insertBatch(batch, true);
    }
    this.rowCount += result.written;
    if (this.rowCount > init.maxRows) this.trimToMaxRows();
    return result.firstError === undefined
      ? { written: result.written }
      : { written: result.written, error: result.firstError };
  }

  feedback(items: ValidFeedback[], timeMs: number): { accepted: number; unknownIds: string[] } {
    return this.applyFeedback(items, timeMs);
  }

  /** Rows deleted by someone else (a deletion request): the count the row limit uses goes down. */
  forget(rows: number): void {
    this.rowCount = Math.max(0, this.rowCount - rows);
  }

  /** Delete rows older than the retention age, then the oldest rows beyond the row limit. */
  retention(nowMs: number): number {
    let deleted = 0;
    // Per-model ages: the plain id cut goes as far as the longest age, then each shorter age's models.
    const perModel = init.modelRetentionMs ?? {};
    const { longestMs, groups } = retentionGroups(init.retentionMs, perModel);
    const cutoff = this.firstIdAtOrAfter(nowMs - longestMs);
    for (;;) {
      const changes = this.deleteOlder.run(cutoff).changes;
      deleted += changes;
      if (changes < DELETE_CHUNK_ROWS) break;
    }
    const touched: TouchedBlocks = new Map();
    const named = Object.keys(perModel);
    for (const group of groups)
      deleted += deleteGroupBelow(
        this.db,
        group,
        named,
        this.firstIdAtOrAfter(nowMs - group.retentionMs),
        touched,
      );
    this.rowCount -= deleted;
    deleted += this.trimToMaxRows();
    if (deleted > 0) {
      this.dropUnusedBlocks();
      dropEmptiedBlocks(this.db, touched);
    }
    return deleted;
  }

  /**
   * The first row id whose time is at or after `timeMs` (one past the last row when none is): rows
   * arrive in time order, so a binary search over ids finds the retention cut without a time index.
   */
  private firstIdAtOrAfter(timeMs: number): number {
    const range = this.idRange.get() as { lo: number | null; hi: number | null };
    if (range.lo === null || range.hi === null) return 0;
    let lo = range.lo;
    let hi = range.hi + 1;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const row = this.timeAtOrAfter.get(mid) as { id: number; time_ms: number } | undefined;
      if (row === undefined || row.time_ms >= timeMs) hi = mid;
      else lo = row.id + 1;
    }
    return lo;
  }

  private insertRows(batch: PackedBatch, skipBad: boolean): InsertResult {
    const { numbers, floatLengths, nameIndex, names, requestIds } = batch;
    let written = 0;
    let firstError: string | undefined;
    for (const block of floatBlocks(batch)) {
      const bytes = block.data === null ? null : float32Blob(block.data);
      const stored = bytes === null || sealKey === undefined ? bytes : sealFloatBlock(bytes, sealKey);
      const blockId = stored === null ? null : this.insertBlock.run(stored).lastInsertRowid;
      block.rows.forEach((i, k) => {
        const o = i * NUMBERS_PER_ROW;
        const featuresCount = floatLengths[2 * i] as number;
        const probabilitiesCount = floatLengths[2 * i + 1] as number;
        try {
          this.insert.run(
            requestIds[i],
            numbers[o + NUM.row],
            names[nameIndex[2 * i] as number],
            numbers[o + NUM.version],
            names[nameIndex[2 * i + 1] as number],
            numbers[o + NUM.timeMs],
            numbers[o + NUM.latencyMs],
            blockId,
            blockId === null ? null : block.floatsAt[k],
            featuresCount < 0 ? null : featuresCount,
            probabilitiesCount < 0 ? null : probabilitiesCount,
            nullable(numbers[o + NUM.summaryMean] as number),
            nullable(numbers[o + NUM.summaryStd] as number),
            nullable(numbers[o + NUM.summaryMin] as number),
            nullable(numbers[o + NUM.summaryMax] as number),
            nullable(numbers[o + NUM.summaryCount] as number),
            nullable(numbers[o + NUM.predictedClass] as number),
            nullable(numbers[o + NUM.value] as number),
          );
          written += 1;
        } catch (err) {
          if (!skipBad) throw err;
          firstError ??= reason(err);
        }
      });
    }
    return { written, firstError };
  }

  private feedbackRows(items: ValidFeedback[], timeMs: number): { accepted: number; unknownIds: string[] } {
    let accepted = 0;
    const unknown = new Set<string>();
    for (const item of items) {
      const changes = this.updateFeedback.run(item.label, item.value, timeMs, item.id, item.row).changes;
      if (changes > 0) accepted += 1;
      else unknown.add(item.id);
    }
    return { accepted, unknownIds: [...unknown] };
  }

  /** Rows are inserted in id order, so the oldest rows are the lowest ids: find the cut, delete below it. */
  private trimToMaxRows(): number {
    let deleted = 0;
    while (this.rowCount > init.maxRows) {
      const excess = Math.min(this.rowCount - init.maxRows, DELETE_CHUNK_ROWS);
      const lastId = this.idAfterOldest.get(excess - 1) as number | undefined;
      if (lastId === undefined) break;
      const changes = this.deleteUpTo.run(lastId).changes;
      deleted += changes;
      this.rowCount -= changes;
      if (changes === 0) break;
    }
    if (deleted > 0) this.dropUnusedBlocks();
    return deleted;
  }

  /**
   * Blocks and rows are inserted in the same order, so every block older than the block of the
   * oldest remaining row has lost all its rows.
   */
  private dropUnusedBlocks(): void {
    const oldest = this.oldestBlockInUse.get() as number | undefined;
    if (oldest === undefined) this.deleteAllBlocks.run();
    else this.deleteBlocksBelow.run(oldest);
  }
}

let db: MonitorDatabase;
let writer: LogWriter;
try {
  db = openMonitorDb(init.path);
  // A large page cache keeps the request-id index's pages in memory: its keys arrive in random order.
  db.pragma('cache_size = -65536');
  // Checkpoint less often: each one copies the WAL's pages into the database file again.
  db.pragma('wal_autocheckpoint = 16384');
  writer = new LogWriter(db);
} catch (err) {
  post({ type: 'open-failed', message: reason(err) });
  process.exit(1);
}

function scheduledRetention(): void {
  try {
    writer.retention(Date.now());
  } catch {
    // A failed pass (e.g. a lock held too long by another process) is retried at the next interval.
  }
}

// Limits may have shrunk since the file was last written: apply them before the first batch.
scheduledRetention();
const retentionTimer = setInterval(scheduledRetention, init.retentionIntervalMs);
retentionTimer.unref();

function handle(message: ToWriter): FromWriter {
  switch (message.type) {
    case 'batch': {
      const { written, error } = writer.write(message.batch);
      return { type: 'done', seq: message.seq, written, ...(error === undefined ? {} : { error }) };
    }
    case 'feedback': {
      const { accepted, unknownIds } = writer.feedback(message.items, message.timeMs);
      return { type: 'done', seq: message.seq, accepted, unknownIds };
    }
    case 'retention':
      return { type: 'done', seq: message.seq, deleted: writer.retention(message.nowMs) };
    case 'delete': {
      const deletion = deletePredictions(db, message.selector, keyring);
      writer.forget(deletion.deleted);
      return { type: 'done', seq: message.seq, deleted: deletion.deleted, deletion };
    }
    case 'close':
      clearInterval(retentionTimer);
      db.close();
      return { type: 'done', seq: message.seq };
  }
}

port.on('message', (message: ToWriter) => {
  let reply: FromWriter;
  try {
    reply = handle(message);
  } catch (err) {
    reply = { type: 'failed', seq: message.seq, message: reason(err) };
  }
  post(reply);
  if (message.type === 'close') port.close();
});

post({ type: 'ready' });
