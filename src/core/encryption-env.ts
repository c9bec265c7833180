/**
 * Where encryption keys come from: the environment, so that the CLI and the server of one home agree
 * without sharing a config file. `TEND_ENCRYPTION_KEY_FILE` names a keyring file (first key active);
 * `TEND_ENCRYPTION_KEY` holds the keyring text itself. Neither set: data is written in plaintext.
 *
 * A KeyringSource reloads the key file when it meets a key id it lacks: `tend keys rotate` in
 * another process re-seals the files with a key a running server has not seen yet.
 */
import { errors } from './errors.js';
import { decryptBuffer, envelopeKeyId } from './encryption.js';
import { loadKeyring, type EncryptionKey, type Keyring } from './keyring.js';

export const ENCRYPTION_KEY_FILE_ENV = 'TEND_ENCRYPTION_KEY_FILE';
export const ENCRYPTION_KEY_ENV = 'TEND_ENCRYPTION_KEY';

const NO_KEYS: Keyring = { active: { id: '', key: Buffer.alloc(0) }, keys: new Map() };

type Environment = Readonly<Record<string, string | undefined>>;

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

/**
 * The keyring the environment configures, or null when encryption is off.
 * @throws TendError TEND_INVALID_CONFIG when both variables are set, or the keyring is unreadable or malformed.
 */
export function keyringFromEnvironment(env: Environment = process.env): Keyring | null {
  const file = nonEmpty(env[ENCRYPTION_KEY_FILE_ENV]);
  const inline = nonEmpty(env[ENCRYPTION_KEY_ENV]);
  if (file === undefined && inline === undefined) return null;
  if (file !== undefined && inline !== undefined) {
    throw errors.invalidConfig(`both ${ENCRYPTION_KEY_FILE_ENV} and ${ENCRYPTION_KEY_ENV} are set; keep one`);
  }
  return file !== undefined
    ? loadKeyring({ file })
    : loadKeyring({ env: inline as string, envName: ENCRYPTION_KEY_ENV });
}

/** The keyring of a process, loaded once, reloaded from its file when a sealed blob names a key it lacks. */
export class KeyringSource {
  private keyring: Keyring | null | undefined;

  private constructor(
    private readonly load: () => Keyring | null,
    /** The key file when the keys come from one (reloading it can find new keys). */
    readonly file: string | undefined,
    /** How errors name where keys are configured. */
    readonly origin: string,
  ) {}

  /** Keys from TEND_ENCRYPTION_KEY_FILE or TEND_ENCRYPTION_KEY (read at first use). */
  static fromEnvironment(env: Environment = process.env): KeyringSource {
    const file = nonEmpty(env[ENCRYPTION_KEY_FILE_ENV]);
    const origin =
      file !== undefined || nonEmpty(env[ENCRYPTION_KEY_ENV]) === undefined
        ? ENCRYPTION_KEY_FILE_ENV
        : ENCRYPTION_KEY_ENV;
    return new KeyringSource(() => keyringFromEnvironment(env), file, origin);
  }

  /** A fixed keyring (null: encryption off), for tests and for tools given keys explicitly. */
  static of(keyring: Keyring | null): KeyringSource {
    return new KeyringSource(() => keyring, undefined, 'the keyring');
  }

  /** The keyring, or null when encryption is off. @throws TendError TEND_INVALID_CONFIG for a bad keyring */
  current(): Keyring | null {
    if (this.keyring === undefined) this.keyring = this.load();
    return this.keyring;
  }

  /** The key new data is sealed with, or null when encryption is off. */
  activeKey(): EncryptionKey | null {
    return this.current()?.active ?? null;
  }

  /** Read the keys again (after a rotation by another process). */
  reload(): Keyring | null {
    this.keyring = this.load();
    return this.keyring;
  }

  /**
   * A keyring holding `keyId`, reloading the key file once when the loaded one lacks it.
   * @throws TendError TEND_INVALID_CONFIG naming `what` when no keyring is configured or none holds the key.
   */
  withKey(keyId: string, what: string): Keyring {
    let keyring = this.current();
    if (keyring === null) {
      throw errors.invalidConfig(
        `${what} is encrypted, but no key is configured; set ${ENCRYPTION_KEY_FILE_ENV} to its key file`,
      );
    }
    if (!keyring.keys.has(keyId) && this.file !== undefined) keyring = this.reload() ?? keyring;
    if (!keyring.keys.has(keyId)) {
      throw errors.invalidConfig(
        `${what} is encrypted with key ${keyId}, which ${this.origin} does not hold`,
      );
    }
    return keyring;
  }

  /**
   * Decrypt an envelope with the key it names (reloading as withKey does).
   * @throws TendError TEND_INVALID_CONFIG (no such key), TEND_INVALID_MODEL (tampered, truncated, not an envelope).
   */
  open(sealed: Uint8Array, what: string): Buffer {
    const keyId = envelopeKeyId(sealed);
    // Not an envelope: decryptBuffer says what is wrong with it (no header, truncated).
    return decryptBuffer(sealed, keyId === null ? NO_KEYS : this.withKey(keyId, what), what);
  }
}
