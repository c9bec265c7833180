/**
 * Encryption at rest for the prediction log's features and class scores (float_blocks.data). With a
 * keyring, the writer thread seals each block's bytes in an AES-256-GCM envelope (core/encryption.ts)
 * followed by one marker byte; readers open it in memory.
 *
 * The marker makes the two forms impossible to confuse: a plaintext block is float32 values, so its
 * length is a multiple of 4, while a sealed block's length (envelope + marker) never is. A client
 * cannot forge a sealed-looking block by sending features that happen to spell the envelope's magic.
 */
import { encryptBuffer, envelopeKeyId, decryptBuffer } from '../core/encryption.js';
import type { KeyringSource } from '../core/encryption-env.js';
import type { EncryptionKey, Keyring } from '../core/keyring.js';
import { openMonitorDb } from './monitor-db.js';

const MARKER = Buffer.from([0x01]);
/** Blocks re-sealed per transaction, so that a running server's writer waits for short locks only. */
const RESEAL_CHUNK_BLOCKS = 256;
const WHAT = 'a prediction log block';

/** The bytes stored for a block of floats under `key`. */
export function sealFloatBlock(floats: Uint8Array, key: EncryptionKey): Buffer {
  return Buffer.concat([encryptBuffer(floats, key), MARKER]);
}

/** True when a stored block was written by sealFloatBlock. */
export function isSealedFloatBlock(data: Uint8Array): boolean {
  return data.byteLength % 4 === 1 && data[data.byteLength - 1] === 1;
}

/**
 * The float bytes of a stored block, decrypted when sealed.
 * @throws TendError TEND_INVALID_CONFIG (no keyring, or a key it lacks), TEND_INVALID_MODEL (tampered).
 */
export function openFloatBlock(data: Buffer, keys: KeyringSource): Buffer {
  return isSealedFloatBlock(data) ? keys.open(data.subarray(0, data.byteLength - 1), WHAT) : data;
}

export interface FloatBlockResealResult {
  blocks: number;
  resealed: number;
  encrypted: number;
  unchanged: number;
}

/**
 * Seal every float block of the monitor database at `path` with `keyring`'s active key: blocks under
 * an older key are re-sealed, plaintext blocks sealed. Runs in short transactions beside a live writer;
 * blocks that writer adds meanwhile under the older key stay readable (the keyring keeps that key).
 * @throws TendError TEND_INVALID_CONFIG / TEND_INVALID_MODEL when a block cannot be opened (nothing after it
 * is changed).
 */
export function resealFloatBlocks(path: string, keyring: Keyring): FloatBlockResealResult {
  const result: FloatBlockResealResult = { blocks: 0, resealed: 0, encrypted: 0, unchanged: 0 };
  const db = openMonitorDb(path, { mustExist: true });
  try {
    // Zero the space the old (plaintext or old-key) bytes leave behind instead of leaving them in free pages.
    db.pragma('secure_delete = ON');
    const page = db.prepare<[number]>(
      `SELECT id, data FROM float_blocks WHERE id > ? ORDER BY id LIMIT ${RESEAL_CHUNK_BLOCKS}`,
    );
    const update = db.prepare<[Buffer, number]>('UPDATE float_blocks SET data = ? WHERE id = ?');
    const resealPage = db.transaction((after: number): number | null => {
      const rows = page.all(after) as { id: number; data: Buffer }[];
      for (const row of rows) {
        result.blocks++;
        const sealed = isSealedFloatBlock(row.data);
        if (sealed && envelopeKeyId(row.data) === keyring.active.id) {
          result.unchanged++;
          continue;
        }
        const floats = sealed
          ? decryptBuffer(row.data.subarray(0, row.data.byteLength - 1), keyring, WHAT)
          : row.data;
        update.run(sealFloatBlock(floats, keyring.active), row.id);
        result[sealed ? 'resealed' : 'encrypted']++;
      }
      return rows.length === RESEAL_CHUNK_BLOCKS ? (rows[rows.length - 1] as { id: number }).id : null;
    });
    for (let after: number | null = 0; after !== null;) after = resealPage.immediate(after);
    // Old page images also sit in the WAL until a checkpoint; best effort, as a live server's reads can hold it back.
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  return result;
}
