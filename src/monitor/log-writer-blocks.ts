/**
 * How the writer lays a batch out in float_blocks: the rows of one (model, version) share one block
 * holding each row's features then class scores, back to back.
 */
import { NUM, NUMBERS_PER_ROW, type PackedBatch } from './log-writer-protocol.js';

export interface FloatBlock {
  /** Indices of the batch rows in this block, in batch order. */
  rows: number[];
  /** Where each of those rows starts in `data`, in float32 values. */
  floatsAt: number[];
  /** null when none of the rows has features or scores. */
  data: Float32Array | null;
}

/** Group the rows of a batch by (model, version) and gather each group's floats into one array. */
export function floatBlocks(batch: PackedBatch): FloatBlock[] {
  const { count, floatLengths, nameIndex, numbers, floats } = batch;
  const start = new Int32Array(count);
  const size = new Int32Array(count);
  let at = 0;
  for (let i = 0; i < count; i++) {
    start[i] = at;
    size[i] = Math.max(0, floatLengths[2 * i] as number) + Math.max(0, floatLengths[2 * i + 1] as number);
    at += size[i] as number;
  }
  const groups = new Map<string, number[]>();
  for (let i = 0; i < count; i++) {
    const key = `${nameIndex[2 * i]}:${numbers[i * NUMBERS_PER_ROW + NUM.version]}`;
    const rows = groups.get(key);
    if (rows === undefined) groups.set(key, [i]);
    else rows.push(i);
  }
  const blocks: FloatBlock[] = [];
  for (const rows of groups.values()) {
    let total = 0;
    for (const i of rows) total += size[i] as number;
    const data = total === 0 ? null : new Float32Array(total);
    const floatsAt: number[] = [];
    let offset = 0;
    for (const i of rows) {
      floatsAt.push(offset);
      const n = size[i] as number;
      if (data !== null && n > 0)
        data.set(floats.subarray(start[i] as number, (start[i] as number) + n), offset);
      offset += n;
    }
    blocks.push({ rows, floatsAt, data });
  }
  return blocks;
}
