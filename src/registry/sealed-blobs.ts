/**
 * Encryption at rest for the blob store. With a keyring, model files and artifacts are written as
 * AES-256-GCM envelopes (core/encryption.ts) and decrypted only in memory. A blob keeps the name of
 * its plaintext's sha256, so lineage, signatures and dedup work as before; a sealed file is
 * ENVELOPE_OVERHEAD_BYTES longer than its content. Without a keyring, new files are plaintext as
 * they always were; both forms are read either way.
 *
 * Plaintext and sealed files cannot be confused: a file counts as sealed only when it is an
 * envelope that opens, and its content must hash to the file's name either way.
 */
import { createHash } from 'node:crypto';
import { open, readFile, stat } from 'node:fs/promises';
import {
  decryptBuffer,
  encryptBuffer,
  ENVELOPE_OVERHEAD_BYTES,
  envelopeKeyId,
  isEncrypted,
} from '../core/encryption.js';
import type { KeyringSource } from '../core/encryption-env.js';
import { errors } from '../core/errors.js';
import type { Keyring } from '../core/keyring.js';
import type { BlobStore, FileDigest, StoredBlob } from './blob-store.js';

/** How a blob is stored: 'other' is a file of the wrong size (damaged, or a copy cut short). */
export type BlobForm = 'sealed' | 'plain' | 'missing' | 'other';

/** A blob's content as read back. */
export interface OpenedBlob {
  plain: Buffer;
  sealed: boolean;
  /** False when the content no longer hashes to the blob's sha256 (damaged or altered on disk). */
  matches: boolean;
}

export interface ResealResult {
  /** Blob files looked at. */
  files: number;
  /** Sealed with an older key, now with the active one. */
  resealed: number;
  /** Plaintext files now sealed. */
  encrypted: number;
  /** Already sealed with the active key. */
  unchanged: number;
  /** Files left as they were because they could not be read, opened or checked. */
  failed: { sha256: string; reason: string }[];
}

function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The blob store seen through the keyring: what the registry writes and reads model bytes with. */
export class SealedBlobs {
  constructor(
    readonly blobs: BlobStore,
    readonly keys: KeyringSource,
  ) {}

  /**
   * True when new blobs are encrypted (a keyring is configured). @throws TendError TEND_INVALID_CONFIG for a
   * bad keyring
   */
  get sealing(): boolean {
    return this.keys.current() !== null;
  }

  /** The digest content is stored under. */
  digestOf(plain: Uint8Array): FileDigest {
    return { sha256: sha256Of(plain), size_bytes: plain.byteLength };
  }

  /** How the blob of `digest` is stored now (from its size and header; the content is not checked). */
  async formOf(digest: FileDigest): Promise<BlobForm> {
    const path = this.blobs.pathFor(digest.sha256);
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch {
      return 'missing';
    }
    if (size === digest.size_bytes) return 'plain';
    if (size === digest.size_bytes + ENVELOPE_OVERHEAD_BYTES && (await this.hasEnvelopeHeader(digest.sha256)))
      return 'sealed';
    return 'other';
  }

  /** True when the blob's file starts like an envelope (false when it is missing). */
  async hasEnvelopeHeader(sha256: string): Promise<boolean> {
    let handle;
    try {
      handle = await open(this.blobs.pathFor(sha256), 'r');
      const head = Buffer.alloc(8);
      const { bytesRead } = await handle.read(head, 0, 8, 0);
      return isEncrypted(head.subarray(0, bytesRead));
    } catch {
      return false;
    } finally {
      await handle?.close();
    }
  }

  /**
   * Store content held in memory under its sha256: sealed with the active key when a keyring is
   * configured (replacing a plaintext copy stored before encryption was turned on), else plaintext.
   */
  async putBytes(plain: Uint8Array): Promise<StoredBlob> {
    const digest = this.digestOf(plain);
    const path = this.blobs.pathFor(digest.sha256);
    const key = this.keys.activeKey();
    const form = await this.formOf(digest);
    if (key === null) {
      if (form === 'sealed') return { ...digest, path, created: false };
      return this.blobs.putFrom(
        async function* () {
          yield plain;
        },
        digest,
        'blob bytes changed while being stored',
      );
    }
    if (form === 'sealed') return { ...digest, path, created: false };
    await this.blobs.replace(digest.sha256, encryptBuffer(plain, key));
    return { ...digest, path, created: form !== 'plain' };
  }

  /**
   * Store a file whose digest was just taken. Sealing reads it into memory (an envelope needs the
   * whole content); without a keyring it is streamed as before.
   * @throws TendError TEND_CONFLICT with `changedMessage` when the file changed since it was hashed.
   */
  async putFile(file: string, digest: FileDigest, changedMessage: string): Promise<StoredBlob> {
    if (!this.sealing) {
      // A sealed copy of the same content stays: it is as good, and a plaintext one would undo encryption.
      if ((await this.formOf(digest)) === 'sealed')
        return { ...digest, path: this.blobs.pathFor(digest.sha256), created: false };
      return this.blobs.put(file, digest);
    }
    const plain = await readFile(file);
    if (sha256Of(plain) !== digest.sha256) throw errors.conflict(changedMessage);
    return this.putBytes(plain);
  }

  /**
   * Read a blob and decrypt it when sealed; `what` names it in errors ("model file of digits:3").
   * @throws TendError TEND_INVALID_CONFIG (sealed with a key the keyring lacks, or no keyring),
   * TEND_INVALID_MODEL (tampered envelope); an unreadable file throws the fs error.
   */
  async read(sha256: string, what: string): Promise<OpenedBlob> {
    return this.openBytes(await readFile(this.blobs.pathFor(sha256)), sha256, what);
  }

  /** The content of a blob file's bytes (see read). */
  openBytes(raw: Buffer, sha256: string, what: string): OpenedBlob {
    if (!isEncrypted(raw)) return { plain: raw, sealed: false, matches: sha256Of(raw) === sha256 };
    let plain: Buffer;
    try {
      plain = this.keys.open(raw, what);
    } catch (err) {
      // Plaintext that merely starts like an envelope (possible for an artifact) is still plaintext.
      if (sha256Of(raw) === sha256) return { plain: raw, sealed: false, matches: true };
      throw err;
    }
    return { plain, sealed: true, matches: sha256Of(plain) === sha256 };
  }

  /** True when the blob exists and its (decrypted) content still hashes to `sha256`. */
  async verify(sha256: string): Promise<boolean> {
    try {
      return (await this.read(sha256, `blob ${sha256}`)).matches;
    } catch {
      return false;
    }
  }

  /**
   * Seal every blob file with `keyring`'s active key, one file at a time (temp file + rename, so a
   * reader sees the old or the new file, both readable with the keyring): files under an older key
   * are re-sealed, plaintext files sealed. Files that fail are left as they were and listed.
   */
  async reseal(keyring: Keyring): Promise<ResealResult> {
    const result: ResealResult = { files: 0, resealed: 0, encrypted: 0, unchanged: 0, failed: [] };
    for (const file of await this.blobs.list()) {
      if (file.kind !== 'blob') continue;
      result.files++;
      try {
        const outcome = await this.resealOne(file.sha256, keyring);
        result[outcome]++;
      } catch (err) {
        result.failed.push({ sha256: file.sha256, reason: (err as Error).message });
      }
    }
    return result;
  }

  private async resealOne(sha256: string, keyring: Keyring): Promise<'resealed' | 'encrypted' | 'unchanged'> {
    const what = `blob ${sha256.slice(0, 16)}`;
    const raw = await readFile(this.blobs.pathFor(sha256));
    let plain: Buffer = raw;
    let sealed = false;
    if (isEncrypted(raw)) {
      try {
        plain = decryptBuffer(raw, keyring, what);
        sealed = true;
      } catch (err) {
        if (sha256Of(raw) !== sha256) throw err;
      }
    }
    if (sha256Of(plain) !== sha256)
      throw errors.internal(`${what} no longer matches its sha256 (damaged on disk); left as it is`);
    if (sealed && envelopeKeyId(raw) === keyring.active.id) return 'unchanged';
    await this.blobs.replace(sha256, encryptBuffer(plain, keyring.active));
    return sealed ? 'resealed' : 'encrypted';
  }
}
