/**
 * `registry.files`: the model files themselves — content-addressed blobs, sealed when encryption
 * keys are configured — read, verified, re-sealed and garbage-collected.
 */
import { errors, isTendError } from '../core/errors.js';
import type { Keyring } from '../core/keyring.js';
import type { AuditTrail } from './audit-trail.js';
import { collectGarbage, type GcOptions, type GcResult } from './blob-gc.js';
import type { BlobStore } from './blob-store.js';
import type { LifecycleStore } from './lifecycle-store.js';
import type { ResealResult, SealedBlobs } from './sealed-blobs.js';
import type { VersionRecord } from './store.js';

/** The registry's model and artifact files. */
export class RegistryFiles {
  constructor(
    /** The files on disk, by sha256. */
    readonly blobs: BlobStore,
    /** The blob store through the keyring: encrypts on write when keys are configured, decrypts on read. */
    readonly sealed: SealedBlobs,
    private readonly lifecycle: LifecycleStore,
    private readonly trail: AuditTrail,
  ) {}

  /** Absolute path of a version's model file (encrypted when isSealed: read it with read()). */
  path(version: VersionRecord): string {
    return this.blobs.pathFor(version.sha256);
  }

  /** True when the version's model file is encrypted at rest (only read() can read it then). */
  isSealed(version: VersionRecord): Promise<boolean> {
    return this.sealed.hasEnvelopeHeader(version.sha256);
  }

  /**
   * A version's model bytes, decrypted in memory when sealed, checked against its recorded sha256.
   * @throws TendError TEND_INVALID_MODEL (unreadable, changed on disk, tampered), TEND_INVALID_CONFIG
   * (encrypted with a key TEND_ENCRYPTION_KEY_FILE does not hold).
   */
  async read(version: VersionRecord): Promise<Buffer> {
    const label = `${version.name}:${version.version}`;
    let opened;
    try {
      opened = await this.sealed.read(version.sha256, `model file of ${label}`);
    } catch (err) {
      if (isTendError(err)) throw err;
      throw errors.invalidModel(
        `${label}: cannot read its model file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
        err,
      );
    }
    if (!opened.matches) {
      throw errors.invalidModel(
        `${label}: the model file does not match the sha256 recorded at push (${version.sha256.slice(0, 16)}…); it was changed on disk`,
      );
    }
    return opened.plain;
  }

  /** True when the version's stored file (decrypted when sealed) still has the content it was pushed with. */
  verify(version: VersionRecord): Promise<boolean> {
    return this.sealed.verify(version.sha256);
  }

  /**
   * Seal every model file and artifact with `keyring`'s active key (after a rotation, or to turn
   * encryption on): older envelopes re-sealed, plaintext sealed, one file at a time.
   */
  reseal(keyring: Keyring): Promise<ResealResult> {
    return this.trail.audited(
      'keys.reseal',
      null,
      () => this.sealed.reseal(keyring),
      (r) => ({ after: { resealed: r.resealed, encrypted: r.encrypted, failed: r.failed.length } }),
    );
  }

  /**
   * Delete model files no version references and temp files of interrupted copies; never a file a
   * version row references, a push holds a lease on, or that changed in the last minAgeSeconds.
   * @example await registry.files.gc({ dryRun: true }) // what would go, nothing removed
   */
  gc(options: GcOptions = {}): Promise<GcResult> {
    if (options.dryRun) return collectGarbage(this.blobs, this.lifecycle, options);
    return this.trail.audited(
      'gc',
      null,
      () => collectGarbage(this.blobs, this.lifecycle, options),
      (r) => ({ after: { removed: r.removed.length } }),
    );
  }
}
