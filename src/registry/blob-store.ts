/**
 * Model files, content-addressed: `<root>/sha256/<first 2 hex>/<sha256>.onnx`. Identical content is
 * stored once, and a file only appears under its final name complete and synced (temp file in the
 * same folder, fsync, rename), so a crash never leaves a half-written model where a reader looks.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { errors, TendError } from '../core/errors.js';

const SHA256_HEX = /^[0-9a-f]{64}$/;
const CHUNK_BYTES = 1 << 20;

export interface FileDigest {
  sha256: string;
  size_bytes: number;
}

export interface StoredBlob extends FileDigest {
  /** Absolute path of the blob. */
  path: string;
  /** False when identical content was already stored (nothing was written). */
  created: boolean;
}

/** SHA-256 and size of a file, read as a stream so large files never sit in memory. */
export async function hashFile(path: string): Promise<FileDigest> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK_BYTES })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size_bytes: size };
}

async function fileSize(path: string): Promise<number | null> {
  try {
    return (await stat(path)).size;
  } catch {
    return null;
  }
}

/** fsync a folder so a rename inside it survives a crash (a no-op where folders cannot be opened). */
async function syncFolder(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Some platforms (Windows) refuse to open or sync a folder; the rename is still atomic there.
  } finally {
    await handle?.close();
  }
}

/** Content-addressed model files under one root folder. */
export class BlobStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /**
   * Absolute path where content with this SHA-256 lives (whether or not it is stored).
   * @throws TendError TEND_INVALID_ARGUMENT unless sha256 is 64 lowercase hex digits.
   */
  pathFor(sha256: string): string {
    if (!SHA256_HEX.test(sha256)) throw errors.invalidArgument(`invalid sha256 '${sha256}': expected 64 lowercase hex digits`);
    return join(this.root, 'sha256', sha256.slice(0, 2), `${sha256}.onnx`);
  }

  /** True when the blob exists. */
  async has(sha256: string): Promise<boolean> {
    return (await fileSize(this.pathFor(sha256))) !== null;
  }

  /**
   * Store a copy of a file (once per content) and return its digest and blob path.
   * @throws TendError TEND_INVALID_ARGUMENT when the file cannot be read, TEND_CONFLICT when it changes while being copied.
   */
  async put(file: string): Promise<StoredBlob> {
    let digest: FileDigest;
    try {
      digest = await hashFile(file);
    } catch (err) {
      throw errors.invalidArgument(`cannot read ${file}: ${(err as Error).message}`);
    }
    const path = this.pathFor(digest.sha256);
    // A same-size file under the right name is the same content; verify() is the deep check.
    if ((await fileSize(path)) === digest.size_bytes) return { ...digest, path, created: false };
    await this.copyAtomically(file, path, digest);
    return { ...digest, path, created: true };
  }

  private async copyAtomically(file: string, path: string, expected: FileDigest): Promise<void> {
    const dir = dirname(path);
    await mkdir(dir, { recursive: true });
    const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    const out = await open(temp, 'wx', 0o644);
    let renamed = false;
    try {
      const hash = createHash('sha256');
      let size = 0;
      for await (const chunk of createReadStream(file, { highWaterMark: CHUNK_BYTES })) {
        const buf = chunk as Buffer;
        hash.update(buf);
        size += buf.length;
        await out.write(buf);
      }
      // Hashing the bytes actually copied guards against the source changing between the two reads.
      const sha256 = hash.digest('hex');
      if (sha256 !== expected.sha256 || size !== expected.size_bytes) {
        throw new TendError('TEND_CONFLICT', `${file} changed while it was being stored; push it again`);
      }
      await out.sync();
      await out.close();
      await chmod(temp, 0o444); // blobs are immutable; make accidental edits fail loudly
      await rename(temp, path);
      renamed = true;
      await syncFolder(dir);
    } finally {
      if (!renamed) {
        await out.close().catch(() => undefined);
        await unlink(temp).catch(() => undefined);
      }
    }
  }

  /** True when the stored blob exists and its content still hashes to `sha256`. */
  async verify(sha256: string): Promise<boolean> {
    const path = this.pathFor(sha256);
    try {
      return (await hashFile(path)).sha256 === sha256;
    } catch {
      return false;
    }
  }
}
