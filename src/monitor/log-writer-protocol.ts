/**
 * Messages between the prediction log (main thread) and its writer thread, and the batch layout.
 * A batch is a handful of columns, not an array of row objects: cloning 2000 objects per message
 * would cost the main thread more than everything else logging does; the float data of the whole
 * batch travels as one transferred Float32Array.
 */
import type { Keyring } from '../core/keyring.js';
import type { DeleteResult, DeleteSelector } from './prediction-log-delete.js';
import type { PredictionRow } from './prediction-log-types.js';

export interface WriterInit {
  path: string;
  retentionMs: number;
  /** Models whose rows are kept for another time than retentionMs. */
  modelRetentionMs?: Record<string, number>;
  maxRows: number;
  retentionIntervalMs: number;
  /** Encryption at rest: the key each float block is sealed with (none: plaintext blocks). */
  sealKey?: { id: string; key: Uint8Array };
  /** Every key of the keyring, the active one first: deletions open and re-seal blocks. */
  keyring?: { id: string; key: Uint8Array }[];
}

/** Numbers per row in PackedBatch.numbers, at these offsets. NaN stands for null. */
export const NUM = {
  row: 0,
  version: 1,
  timeMs: 2,
  latencyMs: 3,
  predictedClass: 4,
  value: 5,
  summaryMean: 6,
  summaryStd: 7,
  summaryMin: 8,
  summaryMax: 9,
  summaryCount: 10,
} as const;
export const NUMBERS_PER_ROW = 11;

export interface PackedBatch {
  count: number;
  requestIds: string[];
  /** Distinct model and route names of the batch; `nameIndex` holds [model, route] per row. */
  names: string[];
  nameIndex: Uint32Array;
  numbers: Float64Array;
  /** Features then probabilities of every row, back to back. */
  floats: Float32Array;
  /** Per row: [features length, probabilities length], -1 for null. */
  floatLengths: Int32Array;
}

/** A feedback item that passed validation. */
export interface ValidFeedback {
  id: string;
  row: number;
  label: number | null;
  value: number | null;
}

export type ToWriter =
  | { type: 'batch'; seq: number; batch: PackedBatch }
  | { type: 'feedback'; seq: number; items: ValidFeedback[]; timeMs: number }
  | { type: 'retention'; seq: number; nowMs: number }
  | { type: 'delete'; seq: number; selector: DeleteSelector }
  | { type: 'close'; seq: number };

export type FromWriter =
  | { type: 'ready' }
  | { type: 'open-failed'; message: string }
  | {
      type: 'done';
      seq: number;
      /** Batch: rows committed, and why any were refused. */
      written?: number;
      error?: string;
      accepted?: number;
      unknownIds?: string[];
      deleted?: number;
      deletion?: DeleteResult;
    }
  | { type: 'failed'; seq: number; message: string };

function floatLength(values: Float32Array | null): number {
  // A detached array (its buffer transferred away since) reads as length 0: logged as empty, not as garbage.
  return values === null ? -1 : values.length;
}

/** Pack rows into one batch message; `transfer` lists the buffers to move rather than copy. */
export function packBatch(rows: readonly PredictionRow[]): { batch: PackedBatch; transfer: ArrayBuffer[] } {
  const count = rows.length;
  const numbers = new Float64Array(count * NUMBERS_PER_ROW);
  const nameIndex = new Uint32Array(count * 2);
  const floatLengths = new Int32Array(count * 2);
  const requestIds = new Array<string>(count);
  const names: string[] = [];
  const nameIds = new Map<string, number>();
  const nameId = (name: string): number => {
    let id = nameIds.get(name);
    if (id === undefined) {
      id = names.length;
      names.push(name);
      nameIds.set(name, id);
    }
    return id;
  };
  let totalFloats = 0;
  for (let i = 0; i < count; i++) {
    const r = rows[i] as PredictionRow;
    const featureCount = floatLength(r.features);
    const probabilityCount = floatLength(r.probabilities);
    floatLengths[2 * i] = featureCount;
    floatLengths[2 * i + 1] = probabilityCount;
    totalFloats += Math.max(0, featureCount) + Math.max(0, probabilityCount);
  }
  const floats = new Float32Array(totalFloats);
  let at = 0;
  for (let i = 0; i < count; i++) {
    const r = rows[i] as PredictionRow;
    requestIds[i] = String(r.requestId);
    nameIndex[2 * i] = nameId(String(r.model));
    nameIndex[2 * i + 1] = nameId(String(r.route));
    const o = i * NUMBERS_PER_ROW;
    numbers[o + NUM.row] = r.row;
    numbers[o + NUM.version] = r.version;
    numbers[o + NUM.timeMs] = r.timeMs;
    numbers[o + NUM.latencyMs] = r.latencyMs;
    numbers[o + NUM.predictedClass] = r.predictedClass ?? NaN;
    numbers[o + NUM.value] = r.value ?? NaN;
    const s = r.featureSummary;
    numbers[o + NUM.summaryMean] = s === null ? NaN : s.mean;
    numbers[o + NUM.summaryStd] = s === null ? NaN : s.std;
    numbers[o + NUM.summaryMin] = s === null ? NaN : s.min;
    numbers[o + NUM.summaryMax] = s === null ? NaN : s.max;
    numbers[o + NUM.summaryCount] = s === null ? NaN : s.count;
    if (r.features !== null && r.features.length > 0) {
      floats.set(r.features, at);
      at += r.features.length;
    }
    if (r.probabilities !== null && r.probabilities.length > 0) {
      floats.set(r.probabilities, at);
      at += r.probabilities.length;
    }
  }
  const batch: PackedBatch = { count, requestIds, names, nameIndex, numbers, floats, floatLengths };
  return { batch, transfer: [numbers.buffer, nameIndex.buffer, floatLengths.buffer, floats.buffer] };
}

/** A keyring as the writer thread gets it: every key as bytes, the active one first. */
export function writerKeyring(keyring: Keyring): { id: string; key: Uint8Array }[] {
  const others = [...keyring.keys].filter(([id]) => id !== keyring.active.id);
  return [[keyring.active.id, keyring.active.key] as const, ...others].map(([id, key]) => ({
    id,
    key: new Uint8Array(key),
  }));
}

/** Pack rows, leaving out (and counting) any row that cannot be packed instead of losing the batch. */
export function packRows(rows: PredictionRow[]): {
  batch: PackedBatch;
  transfer: ArrayBuffer[];
  bad: number;
} {
  try {
    return { ...packBatch(rows), bad: 0 };
  } catch {
    const good = rows.filter((row) => {
      try {
        packBatch([row]);
        return true;
      } catch {
        return false;
      }
    });
    return { ...packBatch(good), bad: rows.length - good.length };
  }
}
