import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { encryptBuffer } from './encryption.js';
import {
  ENCRYPTION_KEY_ENV,
  ENCRYPTION_KEY_FILE_ENV,
  KeyringSource,
  keyringFromEnvironment,
} from './encryption-env.js';
import {
  generateEncryptionKey,
  keyringOf,
  rotateKeyring,
  serializeKeyring,
  writeKeyringFile,
} from './keyring.js';
import { tempDir } from './test-support.test-helper.js';

test('keyringFromEnvironment: off when unset, from a file or inline, never from both', (t) => {
  const dir = tempDir('keyenv');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const keyring = keyringOf([generateEncryptionKey()]);
  const file = join(dir, 'keys');
  writeKeyringFile(file, keyring);
  assert.equal(keyringFromEnvironment({}), null);
  assert.equal(keyringFromEnvironment({ [ENCRYPTION_KEY_FILE_ENV]: ' ' }), null);
  assert.equal(keyringFromEnvironment({ [ENCRYPTION_KEY_FILE_ENV]: file })?.active.id, keyring.active.id);
  assert.equal(
    keyringFromEnvironment({ [ENCRYPTION_KEY_ENV]: serializeKeyring(keyring) })?.active.id,
    keyring.active.id,
  );
  assert.throws(
    () => keyringFromEnvironment({ [ENCRYPTION_KEY_FILE_ENV]: file, [ENCRYPTION_KEY_ENV]: 'x' }),
    { code: 'TEND_INVALID_CONFIG', message: /both/ },
  );
  assert.throws(() => keyringFromEnvironment({ [ENCRYPTION_KEY_FILE_ENV]: join(dir, 'missing') }), {
    code: 'TEND_INVALID_CONFIG',
    message: /cannot read encryption key file/,
  });
  assert.throws(() => keyringFromEnvironment({ [ENCRYPTION_KEY_ENV]: 'not a key' }), {
    code: 'TEND_INVALID_CONFIG',
    message: /TEND_ENCRYPTION_KEY line 1/,
  });
});

test('KeyringSource reloads its file for a key it lacks, and names the variable when the key is nowhere', (t) => {
  const dir = tempDir('keyenv');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'keys');
  const first = keyringOf([generateEncryptionKey()]);
  writeKeyringFile(file, first);
  const source = KeyringSource.fromEnvironment({ [ENCRYPTION_KEY_FILE_ENV]: file });
  assert.equal(source.activeKey()?.id, first.active.id);
  const rotated = rotateKeyring(first);
  writeKeyringFile(file, rotated);
  const sealed = encryptBuffer(Buffer.from('weights'), rotated.active);
  assert.equal(source.open(sealed, 'model file of m:1').toString(), 'weights');
  assert.equal(source.activeKey()?.id, rotated.active.id);
  const stranger = encryptBuffer(Buffer.from('x'), generateEncryptionKey());
  assert.throws(() => source.open(stranger, 'model file of m:2'), {
    code: 'TEND_INVALID_CONFIG',
    message:
      /model file of m:2 is encrypted with key [0-9a-f]{16}, which TEND_ENCRYPTION_KEY_FILE does not hold/,
  });
  assert.throws(() => KeyringSource.of(null).open(sealed, 'x'), {
    code: 'TEND_INVALID_CONFIG',
    message: /no key is configured; set TEND_ENCRYPTION_KEY_FILE/,
  });
  assert.throws(() => source.open(Buffer.from('plain'), 'x'), {
    code: 'TEND_INVALID_MODEL',
    message: /not encrypted by tend/,
  });
  assert.equal(KeyringSource.fromEnvironment({}).current(), null);
});
