/**
 * The columns of a logged prediction as reads select them (raw rows are arrays indexed by COL), and their
 * float blocks.
 */
import type Database from 'better-sqlite3';
import { KeyringSource } from '../core/encryption-env.js';
import { openFloatBlock } from './float-block-seal.js';
import { blobFloat32, type MonitorDatabase } from './monitor-db.js';
import type { FeatureSummary } from './prediction-log-types.js';

export const COLUMNS =
  'id, request_id, row_index, model, version, route, time_ms, latency_ms, block_id, floats_at, features_count, ' +
  'probabilities_count, summary_mean, summary_std, summary_min, summary_max, summary_count, predicted_class, value, ' +
  'label, label_value, feedback_ms';

export const COL = {
  id: 0,
  requestId: 1,
  row: 2,
  model: 3,
  version: 4,
  route: 5,
  timeMs: 6,
  latencyMs: 7,
  blockId: 8,
  floatsAt: 9,
  featuresCount: 10,
  probabilitiesCount: 11,
  summaryMean: 12,
  summaryStd: 13,
  summaryMin: 14,
  summaryMax: 15,
  summaryCount: 16,
  predictedClass: 17,
  value: 18,
  label: 19,
  labelValue: 20,
  feedbackMs: 21,
} as const;

export type RawRow = unknown[];

/** A raw row with its features and scores read from their block. */
export interface LoggedRow {
  raw: RawRow;
  features: Float32Array | null;
  probabilities: Float32Array | null;
}

export function summaryOf(raw: RawRow): FeatureSummary | null {
  if (raw[COL.summaryCount] === null) return null;
  return {
    mean: raw[COL.summaryMean] as number,
    std: raw[COL.summaryStd] as number,
    min: raw[COL.summaryMin] as number,
    max: raw[COL.summaryMax] as number,
    count: raw[COL.summaryCount] as number,
  };
}

/** Most blocks kept between pages of an export. */
const MAX_CACHED_BLOCKS = 64;

/**
 * The features and scores of raw rows, read from float_blocks one block at a time (decrypted with
 * `keys` when sealed). Arrays returned are views into their block, shared with the other rows of that block.
 */
export class FloatBlockReader {
  private readonly select: Database.Statement<[number]>;
  private readonly blocks = new Map<number, Float32Array | null>();

  constructor(
    db: MonitorDatabase,
    private readonly keys: KeyringSource = KeyringSource.of(null),
  ) {
    this.select = db.prepare<[number]>('SELECT data FROM float_blocks WHERE id = ?').pluck();
  }

  features(raw: RawRow): Float32Array | null {
    const count = raw[COL.featuresCount] as number | null;
    return count === null ? null : this.slice(raw, 0, count);
  }

  probabilities(raw: RawRow): Float32Array | null {
    const count = raw[COL.probabilitiesCount] as number | null;
    if (count === null) return null;
    return this.slice(raw, (raw[COL.featuresCount] as number | null) ?? 0, count);
  }

  /** Forget cached blocks (between reads that may be far apart in time). */
  clear(): void {
    this.blocks.clear();
  }

  private slice(raw: RawRow, offset: number, count: number): Float32Array | null {
    if (count === 0) return new Float32Array(0);
    const id = raw[COL.blockId] as number | null;
    const block = id === null ? null : this.block(id);
    if (block === null) return null;
    const start = (raw[COL.floatsAt] as number) + offset;
    return block.subarray(start, start + count);
  }

  private block(id: number): Float32Array | null {
    let block = this.blocks.get(id);
    if (block === undefined) {
      if (this.blocks.size >= MAX_CACHED_BLOCKS) this.blocks.clear();
      const data = this.select.get(id) as Buffer | undefined;
      block = data === undefined ? null : blobFloat32(openFloatBlock(data, this.keys));
      this.blocks.set(id, block);
    }
    return block;
  }
}
