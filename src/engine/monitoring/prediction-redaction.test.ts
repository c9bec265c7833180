import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RedactRule } from '../../core/config.js';
import { silentLogger } from '../../core/logger.js';
import { tempDir } from '../../core/test-support.test-helper.js';
import { TendError } from '../../core/errors.js';
import { WITHHELD } from '../../monitor/feature-redaction.js';
import type { ServedVersion } from '../serving/served-version.js';
import { HASH_SALT_FILE, LogRedaction, loadHashSalt } from './prediction-redaction.js';

function version(redact: RedactRule[]): ServedVersion {
  return { model: 'm', version: 1, config: { monitoring: { redact } } } as unknown as ServedVersion;
}

test('loadHashSalt: creates a 32-byte salt file (0600) once, reads a configured one, refuses a short one', () => {
  const home = tempDir('salt');
  const salt = loadHashSalt(home, undefined);
  assert.equal(salt.length, 32);
  assert.equal(statSync(join(home, HASH_SALT_FILE)).mode & 0o777, 0o600);
  assert.deepEqual(loadHashSalt(home, undefined), salt, 'the same salt at the next start');
  const short = join(home, 'short');
  writeFileSync(short, 'tiny');
  assert.throws(
    () => loadHashSalt(home, short),
    (err: unknown) => err instanceof TendError && /at least 16/.test(err.message),
  );
  assert.throws(() => loadHashSalt(home, join(home, 'missing')), /hash_salt_file/);
});

test('names resolve asynchronously: rows are withheld until then, redacted after', async () => {
  let release: (names: string[]) => void = () => undefined;
  const names = new Promise<string[]>((resolve) => (release = resolve));
  const redaction = new LogRedaction({
    featureNames: () => names,
    salt: () => Buffer.alloc(16, 1),
    logger: silentLogger,
  });
  const sv = version([{ feature: 'b', action: 'drop' }]);
  const early = new Float32Array([1, 2]);
  assert.equal(redaction.apply(sv, early, null), WITHHELD, 'fails closed while names are unknown');
  assert.deepEqual([...early], [0, 0]);
  release(['a', 'b']);
  await redaction.ready(sv);
  const row = new Float32Array([1, 2]);
  const out = redaction.apply(sv, row, null);
  assert.equal(out.features?.[0], 1);
  assert.ok(Number.isNaN(out.features?.[1]));
});

test('an unknown name, an unusable reference or an unreadable salt withhold the features for good', async () => {
  const warnings: string[] = [];
  const logger = {
    ...silentLogger,
    warn: (_: unknown, message: string) => warnings.push(message),
  } as unknown as typeof silentLogger;
  const cases: [LogRedaction, ServedVersion][] = [
    [
      new LogRedaction({ featureNames: async () => ['a'], salt: () => Buffer.alloc(16), logger }),
      version([{ feature: 'zz', action: 'drop' }]),
    ],
    [
      new LogRedaction({
        featureNames: () => Promise.reject(new Error('bad csv')),
        salt: () => Buffer.alloc(16),
        logger,
      }),
      version([{ feature: 'a', action: 'drop' }]),
    ],
    [
      new LogRedaction({
        featureNames: async () => null,
        salt: () => {
          throw new Error('no salt');
        },
        logger,
      }),
      version([{ feature: 0, action: 'hash' }]),
    ],
  ];
  for (const [redaction, sv] of cases) {
    await redaction.ready(sv);
    assert.equal(redaction.apply(sv, new Float32Array([1, 2]), null), WITHHELD);
  }
  assert.equal(warnings.length, 4, warnings.join('; '));
});

test('a version without rules is logged as captured', () => {
  const redaction = new LogRedaction({
    featureNames: async () => null,
    salt: () => Buffer.alloc(16),
    logger: silentLogger,
  });
  const row = new Float32Array([3]);
  assert.equal(redaction.apply(version([]), row, null).features, row);
  assert.equal(redaction.apply({ config: {} } as unknown as ServedVersion, row, null).features, row);
});
