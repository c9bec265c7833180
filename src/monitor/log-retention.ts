/**
 * Retention per model, beside the server's: a model may keep its logged rows for a shorter or a longer
 * time than `monitoring.retention_days`. Rows arrive in time order, so "older than T" is "id below the
 * first id at or after T" (the caller finds that cut); each retention group (one age, its models) is
 * deleted below its own cut.
 *
 * Deleting rows from the middle of the table can empty float blocks that are not the oldest ones:
 * blockInUse tells, without an index on block_id, whether a block still has a row. The writer inserts
 * a block's rows one after the other in one transaction, so they hold consecutive ids: a block whose
 * rows [lo, hi] were just deleted is still in use only if a row of it lies inside that range or right
 * next to it.
 */
import type Database from 'better-sqlite3';
import type { MonitorDatabase } from './monitor-db.js';

/** Rows deleted per statement, so that one pass does not hold the write lock for long. */
const CHUNK_ROWS = 20_000;

/** Does block `blockId`, whose deleted rows spanned ids [lo, hi], still have a row? */
export class BlockUsage {
  private readonly inside: Database.Statement<[number, number, number]>;
  private readonly before: Database.Statement<[number]>;
  private readonly after: Database.Statement<[number]>;

  constructor(db: MonitorDatabase) {
    this.inside = db
      .prepare<[number, number, number]>(
        'SELECT 1 FROM predictions WHERE id BETWEEN ? AND ? AND block_id = ? LIMIT 1',
      )
      .pluck();
    this.before = db
      .prepare<[number]>('SELECT block_id FROM predictions WHERE id < ? ORDER BY id DESC LIMIT 1')
      .pluck();
    this.after = db
      .prepare<[number]>('SELECT block_id FROM predictions WHERE id > ? ORDER BY id LIMIT 1')
      .pluck();
  }

  inUse(blockId: number, lo: number, hi: number): boolean {
    return (
      this.inside.get(lo, hi, blockId) !== undefined ||
      this.before.get(lo) === blockId ||
      this.after.get(hi) === blockId
    );
  }
}

/** Per touched block, the id range of its deleted rows. */
export type TouchedBlocks = Map<number, { lo: number; hi: number }>;

/** Note the rows `(id, block_id)` just deleted. */
export function touch(blocks: TouchedBlocks, rows: readonly { id: number; block_id: number | null }[]): void {
  for (const { id, block_id: blockId } of rows) {
    if (blockId === null) continue;
    const range = blocks.get(blockId);
    if (range === undefined) blocks.set(blockId, { lo: id, hi: id });
    else {
      if (id < range.lo) range.lo = id;
      if (id > range.hi) range.hi = id;
    }
  }
}

/** Remove the touched blocks no row uses any more; returns how many. */
export function dropEmptiedBlocks(db: MonitorDatabase, blocks: TouchedBlocks): number {
  if (blocks.size === 0) return 0;
  const usage = new BlockUsage(db);
  const remove = db.prepare<[number]>('DELETE FROM float_blocks WHERE id = ?');
  let removed = 0;
  for (const [blockId, { lo, hi }] of blocks)
    if (!usage.inUse(blockId, lo, hi)) removed += remove.run(blockId).changes;
  return removed;
}

/** One retention age and the models it applies to (`others`: every model without an age of its own). */
interface RetentionGroup {
  retentionMs: number;
  models: string[];
  others: boolean;
}

/**
 * Group models by age: the server's age applies to every model not named. Returns the longest age (rows
 * past it go for every model, by the plain id cut) and the groups with a shorter age.
 */
export function retentionGroups(
  serverMs: number,
  perModelMs: Readonly<Record<string, number>>,
): { longestMs: number; groups: RetentionGroup[] } {
  const byAge = new Map<number, RetentionGroup>();
  const group = (ms: number): RetentionGroup => {
    let g = byAge.get(ms);
    if (g === undefined) byAge.set(ms, (g = { retentionMs: ms, models: [], others: false }));
    return g;
  };
  group(serverMs).others = true;
  for (const [model, ms] of Object.entries(perModelMs)) if (ms !== serverMs) group(ms).models.push(model);
  const longestMs = Math.max(...byAge.keys());
  return { longestMs, groups: [...byAge.values()].filter((g) => g.retentionMs < longestMs) };
}

/**
 * Delete the rows of one group below `cutId` (the first id at or after now − its age); `named` lists every
 * model with an age of its own (the `others` group is every model not in it). Returns rows deleted.
 */
export function deleteGroupBelow(
  db: MonitorDatabase,
  group: RetentionGroup,
  named: readonly string[],
  cutId: number,
  touched: TouchedBlocks,
): number {
  const chunk = db.prepare(
    `DELETE FROM predictions WHERE id IN (
       SELECT id FROM predictions
       WHERE id < @cut AND (model IN (SELECT value FROM json_each(@models))
         OR (@others = 1 AND model NOT IN (SELECT value FROM json_each(@named))))
       ORDER BY id LIMIT ${CHUNK_ROWS})
     RETURNING id, block_id`,
  );
  const params = {
    cut: cutId,
    models: JSON.stringify(group.models),
    others: group.others ? 1 : 0,
    named: JSON.stringify(named),
  };
  let deleted = 0;
  for (;;) {
    const rows = chunk.all(params) as { id: number; block_id: number | null }[];
    touch(touched, rows);
    deleted += rows.length;
    if (rows.length < CHUNK_ROWS) return deleted;
  }
}
