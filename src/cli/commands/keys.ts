/** `tend keys rotate`: a new encryption key, and every sealed file of the home re-sealed with it. */
import { rotateEncryptionKeys } from '../../engine/index.js';
import { resolveHome } from '../home.js';
import { printJson } from '../output.js';
import { actor } from './registry.js';

export async function keysRotateCommand(opts: { home?: string; json?: boolean }): Promise<void> {
  const result = await rotateEncryptionKeys(resolveHome(opts.home), { actor: actor() });
  if (opts.json) printJson(result);
  else {
    const { blobs, prediction_log: log } = result;
    process.stdout.write(
      `${result.created_key_file ? `created ${result.key_file} with` : `rotated ${result.key_file}: new`} active key ${result.active_key_id}` +
        `${result.previous_key_id === null ? '' : ` (previous ${result.previous_key_id}, kept to read older data)`}\n` +
        `model files and artifacts: ${blobs.files} (${blobs.resealed} re-sealed, ${blobs.encrypted} encrypted, ${blobs.unchanged} already under the new key${blobs.failed.length > 0 ? `, ${blobs.failed.length} FAILED` : ''})\n` +
        `prediction log blocks: ${log === null ? 'none (no monitor.db yet)' : `${log.blocks} (${log.resealed} re-sealed, ${log.encrypted} encrypted, ${log.unchanged} unchanged)`}\n`,
    );
    for (const f of blobs.failed) process.stderr.write(`  ${f.sha256}: ${f.reason}\n`);
    process.stdout.write(
      'Running servers read the new key from the file when they meet it; give tend serve the same TEND_ENCRYPTION_KEY_FILE.\n',
    );
  }
  if (result.blobs.failed.length > 0) process.exitCode = 1;
}
