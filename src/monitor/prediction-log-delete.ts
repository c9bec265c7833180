/**
 * Deleting logged predictions on request (privacy: forget one person's rows), in the writer thread so
 * that it serializes with the batches. A row's features and scores share a float block with the other
 * rows of its batch: the block is rewritten with the deleted rows' values zeroed (sealed again under the
 * active key when it was sealed), or removed when no row is left in it. Feedback lives in the row and
 * goes with it. Then the space is reclaimed: VACUUM rebuilds the file without the free pages, and a
 * TRUNCATE checkpoint empties the WAL, so the old bytes are in neither file.
 */
import { errors } from '../core/errors.js';
import { KeyringSource } from '../core/encryption-env.js';
import type { Keyring } from '../core/keyring.js';
import { isSealedFloatBlock, openFloatBlock, sealFloatBlock } from './float-block-seal.js';
import { BlockUsage, touch, type TouchedBlocks } from './log-retention.js';
import { blobFloat32, float32Blob, type MonitorDatabase } from './monitor-db.js';

/** Which rows of one model to delete: every given condition must hold (at least one is required). */
export interface DeleteSelector {
  model: string;
  version?: number;
  /** Rows of these requests (every row of each). */
  requestIds?: string[];
  /** Rows logged before this time (ms since the epoch). */
  beforeMs?: number;
  /** Rows whose feature at this column index equals this value (compared as float32). */
  where?: { feature: number; value: number };
}

/** What a deletion did (leaves the process: snake_case). */
export interface DeleteResult {
  deleted: number;
  /** Deleted rows that carried ground truth. */
  with_feedback: number;
  blocks_rewritten: number;
  blocks_removed: number;
  /** The WAL was emptied after VACUUM (false when a reader held it back; the next checkpoint finishes it). */
  reclaimed: boolean;
}

/** Refuse a selector with no condition, or a malformed one, before anything is touched. */
export function checkDeleteSelector(selector: DeleteSelector): void {
  if (typeof selector.model !== 'string' || selector.model === '')
    throw errors.invalidArgument('a prediction log deletion needs a model');
  const { requestIds, beforeMs, where } = selector;
  if (requestIds === undefined && beforeMs === undefined && where === undefined)
    throw errors.invalidArgument(
      'a prediction log deletion needs a selector: request ids, a date (before) or a feature value (where); ' +
        'nothing was deleted',
    );
  if (
    requestIds !== undefined &&
    (!Array.isArray(requestIds) || requestIds.some((id) => typeof id !== 'string'))
  )
    throw errors.invalidArgument('request ids must be an array of strings');
  if (requestIds !== undefined && requestIds.length === 0)
    throw errors.invalidArgument('the list of request ids is empty; nothing was deleted');
  if (beforeMs !== undefined && !Number.isFinite(beforeMs))
    throw errors.invalidArgument('the date before which rows are deleted is not a valid time');
  if (
    where !== undefined &&
    (!Number.isSafeInteger(where.feature) || where.feature < 0 || !Number.isFinite(where.value))
  )
    throw errors.invalidArgument('where needs a feature column index ≥ 0 and a finite number');
  if (selector.version !== undefined && !Number.isSafeInteger(selector.version))
    throw errors.invalidArgument('the version must be a whole number');
}

interface Candidate {
  id: number;
  blockId: number | null;
  floatsAt: number | null;
  floats: number;
  featuresCount: number | null;
  feedback: number;
}

/** Delete the rows `selector` picks and reclaim their space; `keyring` opens (and re-seals) sealed blocks. */
export function deletePredictions(
  db: MonitorDatabase,
  selector: DeleteSelector,
  keyring: Keyring | null,
): DeleteResult {
  checkDeleteSelector(selector);
  const keys = KeyringSource.of(keyring);
  const select = db.prepare(
    `SELECT id, block_id, floats_at, coalesce(features_count, 0) + coalesce(probabilities_count, 0),
       features_count, (label IS NOT NULL OR label_value IS NOT NULL)
     FROM predictions
     WHERE model = @model AND (@version IS NULL OR version = @version) AND (@before IS NULL OR time_ms < @before)
       AND (@ids IS NULL OR request_id IN (SELECT value FROM json_each(@ids)))`,
  );
  const readBlock = db.prepare<[number]>('SELECT data FROM float_blocks WHERE id = ?').pluck();
  const updateBlock = db.prepare<[Buffer, number]>('UPDATE float_blocks SET data = ? WHERE id = ?');
  const removeBlock = db.prepare<[number]>('DELETE FROM float_blocks WHERE id = ?');
  const removeRows = db.prepare<[string]>(
    'DELETE FROM predictions WHERE id IN (SELECT value FROM json_each(?))',
  );
  const result: DeleteResult = {
    deleted: 0,
    with_feedback: 0,
    blocks_rewritten: 0,
    blocks_removed: 0,
    reclaimed: false,
  };
  const opened = new Map<number, { floats: Float32Array; sealed: boolean }>();
  const open = (blockId: number): { floats: Float32Array; sealed: boolean } | null => {
    let block = opened.get(blockId);
    if (block === undefined) {
      const data = readBlock.get(blockId) as Buffer | undefined;
      if (data === undefined) return null;
      // A copy: the block is changed before it is written back.
      block = { floats: blobFloat32(openFloatBlock(data, keys)).slice(), sealed: isSealedFloatBlock(data) };
      opened.set(blockId, block);
    }
    return block;
  };

  const run = db.transaction(() => {
    const rows = (
      select.raw().all({
        model: selector.model,
        version: selector.version ?? null,
        before: selector.beforeMs ?? null,
        ids: selector.requestIds === undefined ? null : JSON.stringify(selector.requestIds),
      }) as unknown[][]
    ).map((r): Candidate => ({
      id: r[0] as number,
      blockId: r[1] as number | null,
      floatsAt: r[2] as number | null,
      floats: r[3] as number,
      featuresCount: r[4] as number | null,
      feedback: r[5] as number,
    }));
    const where = selector.where;
    const picked =
      where === undefined
        ? rows
        : rows.filter((r) => {
            if (r.blockId === null || r.floatsAt === null || (r.featuresCount ?? 0) <= where.feature)
              return false;
            const block = open(r.blockId);
            return block !== null && block.floats[r.floatsAt + where.feature] === Math.fround(where.value);
          });
    for (const r of picked) result.with_feedback += r.feedback;
    result.deleted = removeRows.run(JSON.stringify(picked.map((r) => r.id))).changes;
    const touched: TouchedBlocks = new Map();
    touch(
      touched,
      picked.map((r) => ({ id: r.id, block_id: r.blockId })),
    );
    const usage = new BlockUsage(db);
    const byBlock = new Map<number, Candidate[]>();
    for (const r of picked) {
      if (r.blockId === null) continue;
      const list = byBlock.get(r.blockId);
      if (list === undefined) byBlock.set(r.blockId, [r]);
      else list.push(r);
    }
    for (const [blockId, inBlock] of byBlock) {
      const range = touched.get(blockId) as { lo: number; hi: number };
      if (!usage.inUse(blockId, range.lo, range.hi)) {
        result.blocks_removed += removeBlock.run(blockId).changes;
        continue;
      }
      const block = open(blockId);
      if (block === null) continue;
      for (const r of inBlock)
        if (r.floatsAt !== null) block.floats.fill(0, r.floatsAt, r.floatsAt + r.floats);
      if (block.sealed && keyring === null)
        throw errors.invalidConfig('a sealed prediction log block cannot be rewritten without the keyring');
      const bytes = float32Blob(block.floats);
      updateBlock.run(
        block.sealed && keyring !== null ? sealFloatBlock(bytes, keyring.active) : bytes,
        blockId,
      );
      result.blocks_rewritten += 1;
    }
  });

  const secure = db.pragma('secure_delete', { simple: true }) as number;
  db.pragma('secure_delete = ON');
  try {
    run.immediate();
  } finally {
    db.pragma(`secure_delete = ${secure}`);
  }
  if (result.deleted > 0) result.reclaimed = reclaimSpace(db);
  return result;
}

/** VACUUM, then empty the WAL; true when the WAL was emptied (no reader held an older snapshot). */
export function reclaimSpace(db: MonitorDatabase): boolean {
  db.exec('VACUUM');
  const [state] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
  return state !== undefined && state.busy === 0;
}
