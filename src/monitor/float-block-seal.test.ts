import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { envelopeKeyId } from '../core/encryption.js';
import { KeyringSource } from '../core/encryption-env.js';
import { generateEncryptionKey, keyringOf, rotateKeyring } from '../core/keyring.js';
import { isSealedFloatBlock, openFloatBlock, resealFloatBlocks, sealFloatBlock } from './float-block-seal.js';
import { openMonitorDb } from './monitor-db.js';
import { PredictionLog } from './prediction-log.js';
import { PredictionLogReader } from './prediction-log-reader.js';
import { predictionRow, tempDbPath } from './prediction-log.test-helper.js';

/** Features no other bytes of the file would spell by chance. */
const FEATURES = new Float32Array([1234.5678, -8765.4321, 3.14159e-7, 2.71828e6, 42.4242, -0.000123]);
const FEATURE_BYTES = Buffer.from(FEATURES.buffer);

/** monitor.db and its WAL, as they lie on disk. */
function fileBytes(path: string): Buffer {
  return Buffer.concat([path, `${path}-wal`].filter((p) => existsSync(p)).map((p) => readFileSync(p)));
}

function blocks(path: string): Buffer[] {
  const db = openMonitorDb(path, { queryOnly: true });
  try {
    return db.prepare('SELECT data FROM float_blocks ORDER BY id').pluck().all() as Buffer[];
  } finally {
    db.close();
  }
}

async function logRows(path: string, keys: KeyringSource, requestId: string): Promise<void> {
  const log = PredictionLog.open({ path, keys, flushIntervalMs: 5 });
  for (let row = 0; row < 3; row++)
    log.record(
      predictionRow({
        requestId,
        row,
        features: FEATURES.slice(),
        probabilities: new Float32Array([0.25, 0.5, 0.25]),
      }),
    );
  await log.close();
}

test('sealed blocks cannot be mistaken for floats: their length is never a multiple of 4', () => {
  const key = generateEncryptionKey();
  const sealed = sealFloatBlock(FEATURE_BYTES, key);
  assert.ok(isSealedFloatBlock(sealed));
  assert.equal(isSealedFloatBlock(FEATURE_BYTES), false);
  // Floats that spell the envelope's magic are still plaintext.
  const forged = Buffer.concat([Buffer.from('TENDENC1'), Buffer.alloc(40)]);
  assert.equal(isSealedFloatBlock(forged), false);
  assert.deepEqual(openFloatBlock(forged, KeyringSource.of(null)), forged);
  assert.deepEqual(openFloatBlock(sealed, KeyringSource.of(keyringOf([key]))), FEATURE_BYTES);
  assert.throws(() => openFloatBlock(sealed, KeyringSource.of(null)), {
    code: 'TEND_INVALID_CONFIG',
    message: /prediction log block is encrypted, but no key is configured; set TEND_ENCRYPTION_KEY_FILE/,
  });
  const tampered = Buffer.from(sealed);
  tampered[30] = (tampered[30] ?? 0) ^ 1;
  assert.throws(() => openFloatBlock(tampered, KeyringSource.of(keyringOf([key]))), {
    code: 'TEND_INVALID_MODEL',
  });
});

test('with keys, the log seals features and scores on disk and reads them back in memory', async (t) => {
  const path = tempDbPath(t);
  const keyring = keyringOf([generateEncryptionKey()]);
  await logRows(path, KeyringSource.of(keyring), 'sealed');
  assert.equal(
    fileBytes(path).includes(FEATURE_BYTES.subarray(0, 16)),
    false,
    'no plaintext features in monitor.db or its WAL',
  );
  for (const block of blocks(path))
    assert.equal(envelopeKeyId(block.subarray(0, block.length - 1)), keyring.active.id);

  const reader = PredictionLogReader.open(path, KeyringSource.of(keyring));
  t.after(() => reader.close());
  const window = reader.window({ model: 'iris' });
  assert.equal(window.count, 3);
  assert.deepEqual(window.features[2], FEATURES);
  assert.deepEqual(window.probabilities[0], new Float32Array([0.25, 0.5, 0.25]));

  const keyless = PredictionLogReader.open(path);
  t.after(() => keyless.close());
  assert.throws(() => keyless.window({ model: 'iris' }), {
    code: 'TEND_INVALID_CONFIG',
    message: /TEND_ENCRYPTION_KEY_FILE/,
  });
});

test('resealFloatBlocks encrypts a plaintext log, then re-seals under a rotated key', async (t) => {
  const path = tempDbPath(t);
  await logRows(path, KeyringSource.of(null), 'plain');
  assert.ok(fileBytes(path).includes(FEATURE_BYTES), 'plaintext before');

  const first = keyringOf([generateEncryptionKey()]);
  assert.deepEqual(resealFloatBlocks(path, first), { blocks: 1, resealed: 0, encrypted: 1, unchanged: 0 });
  await logRows(path, KeyringSource.of(first), 'sealed');
  const rotated = rotateKeyring(first);
  assert.deepEqual(resealFloatBlocks(path, rotated), { blocks: 2, resealed: 2, encrypted: 0, unchanged: 0 });
  assert.deepEqual(resealFloatBlocks(path, rotated), { blocks: 2, resealed: 0, encrypted: 0, unchanged: 2 });
  for (const block of blocks(path))
    assert.equal(envelopeKeyId(block.subarray(0, block.length - 1)), rotated.active.id);

  assert.equal(
    fileBytes(path).includes(FEATURE_BYTES.subarray(0, 16)),
    false,
    'no plaintext left in freed pages or the WAL',
  );

  const reader = PredictionLogReader.open(path, KeyringSource.of(rotated));
  t.after(() => reader.close());
  const window = reader.window({ model: 'iris' });
  assert.equal(window.count, 6);
  assert.ok(window.features.every((f) => f !== null && f.every((v, i) => v === FEATURES[i])));
});
