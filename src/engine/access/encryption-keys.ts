/**
 * `tend keys rotate`: a fresh active key in TEND_ENCRYPTION_KEY_FILE (older keys kept, so data not yet
 * re-sealed stays readable), then every model file, artifact and prediction-log block of the home
 * re-sealed with it. On a plaintext home the same command turns encryption on: it creates the key
 * file when missing and seals everything.
 *
 * Order matters for a crash: the key file is written first, so whatever was sealed before or after
 * the crash opens with the keyring on disk. Running the command again finishes the job.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ENCRYPTION_KEY_ENV, ENCRYPTION_KEY_FILE_ENV, KeyringSource } from '../../core/encryption-env.js';
import { errors } from '../../core/errors.js';
import {
  generateEncryptionKey,
  keyringOf,
  loadKeyring,
  rotateKeyring,
  writeKeyringFile,
} from '../../core/keyring.js';
import { resealFloatBlocks, type FloatBlockResealResult } from '../../monitor/float-block-seal.js';
import { MONITOR_DB_FILE } from '../../monitor/monitor-db.js';
import { Registry, type ResealResult } from '../../registry/index.js';

export interface KeyRotationResult {
  key_file: string;
  /** True when the key file did not exist: encryption was turned on. */
  created_key_file: boolean;
  active_key_id: string;
  previous_key_id: string | null;
  /** Every key the file holds now, the active one first. */
  key_ids: string[];
  blobs: ResealResult;
  /** null when the home has no monitor.db yet. */
  prediction_log: FloatBlockResealResult | null;
}

type Environment = Readonly<Record<string, string | undefined>>;

function keyFileOf(env: Environment): string {
  const file = env[ENCRYPTION_KEY_FILE_ENV]?.trim();
  const inline = env[ENCRYPTION_KEY_ENV]?.trim();
  if (file && inline)
    throw errors.invalidConfig(
      `both ${ENCRYPTION_KEY_FILE_ENV} and ${ENCRYPTION_KEY_ENV} are set; keep ${ENCRYPTION_KEY_FILE_ENV}`,
    );
  if (file) return file;
  if (inline) {
    throw errors.invalidConfig(
      `tend keys rotate writes the new key to a file: move the keys from ${ENCRYPTION_KEY_ENV} into a file and set ${ENCRYPTION_KEY_FILE_ENV} to it`,
    );
  }
  throw errors.invalidConfig(
    `set ${ENCRYPTION_KEY_FILE_ENV} to the key file (created when missing), and set it for tend serve too`,
  );
}

/**
 * Rotate the encryption key of the home and re-seal everything with the new key.
 * @throws TendError TEND_INVALID_CONFIG (no key file variable, unreadable keyring, or encrypted files
 * but no key file: a mistyped path must not start a new keyring beside the real one).
 */
export async function rotateEncryptionKeys(
  home: string,
  options: { env?: Environment; actor?: string } = {},
): Promise<KeyRotationResult> {
  const file = keyFileOf(options.env ?? process.env);
  const created = !existsSync(file);
  const previous = created ? null : loadKeyring({ file });
  const next = previous === null ? keyringOf([generateEncryptionKey()]) : rotateKeyring(previous);
  const registry = await Registry.open(home, {
    keys: KeyringSource.of(next),
    ...(options.actor !== undefined ? { actor: options.actor } : {}),
  });
  try {
    if (created) {
      for (const blob of await registry.files.blobs.list()) {
        if (blob.kind === 'blob' && (await registry.files.sealed.hasEnvelopeHeader(blob.sha256))) {
          throw errors.invalidConfig(
            `${file} does not exist, but ${home} holds encrypted files: set ${ENCRYPTION_KEY_FILE_ENV} to the key file that sealed them`,
          );
        }
      }
    }
    writeKeyringFile(file, next);
    const blobs = await registry.files.reseal(next);
    const logPath = join(home, MONITOR_DB_FILE);
    const predictionLog = existsSync(logPath) ? resealFloatBlocks(logPath, next) : null;
    return {
      key_file: file,
      created_key_file: created,
      active_key_id: next.active.id,
      previous_key_id: previous?.active.id ?? null,
      key_ids: [...next.keys.keys()],
      blobs,
      prediction_log: predictionLog,
    };
  } finally {
    await registry.close();
  }
}
