/**
 * Model files, content-addressed: `<root>/sha256/<first 2 hex>/<sha256>.onnx`. Identical content is
 * stored once, and a file only appears under its final name complete and synced (temp file in the
 * same folder, fsync, rename), so a crash never leaves a half-written model where a reader looks.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, mkdir, open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { errors } from '../core/errors.js';

const SHA256_HEX = /^[0-9a-f]{64}$/;
const BLOB_NAME = /^([0-9a-f]{64})\.onnx$/;
/** Written by copyAtomically: `.<sha256>.onnx.<pid>.<random>.tmp`. */
const TEMP_NAME = /^\.([0-9a-f]{64})\.onnx\.\d+\.[0-9a-f]+\.tmp$/;
const CHUNK_BYTES = 1 << 20;

export interface FileDigest {
  sha256: string;
  size_bytes: number;
}

/** A file of the store as found on disk. */
export interface BlobFile {
  /** `temp`: a copy in progress, or left behind by one that was interrupted. */
  kind: 'blob' | 'temp';
  /** The content the file holds (blob) or was being written for (temp). */
  sha256: string;
  path: string;
  size_bytes: number;
  mtime_ms: number;
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
    if (!SHA256_HEX.test(sha256))
      throw errors.invalidArgument(`invalid sha256 '${sha256}': expected 64 lowercase hex digits`);
    return join(this.root, 'sha256', sha256.slice(0, 2), `${sha256}.onnx`);
  }

  /** True when the blob exists. */
  async has(sha256: string): Promise<boolean> {
    return (await fileSize(this.pathFor(sha256))) !== null;
  }

  /**
   * Store a copy of a file (once per content) and return its digest and blob path; pass `digest`
   * when the file was just hashed (the copy is hashed again, so a wrong digest is still caught).
   * @throws TendError TEND_INVALID_ARGUMENT when the file cannot be read, TEND_CONFLICT when it changes while
   * being copied.
   */
  async put(file: string, digest?: FileDigest): Promise<StoredBlob> {
    if (digest === undefined) {
      try {
        digest = await hashFile(file);
      } catch (err) {
        throw errors.invalidArgument(`cannot read ${file}: ${(err as Error).message}`);
      }
    }
    const known = digest;
    return this.putFrom(
      () => createReadStream(file, { highWaterMark: CHUNK_BYTES }),
      known,
      `${file} changed while it was being stored; push it again`,
    );
  }

  /**
   * Store content read from `source` (called only when the blob is missing) under its known digest;
   * the copied bytes are hashed, and a mismatch is TEND_CONFLICT with `changedMessage`.
   */
  async putFrom(
    source: () => AsyncIterable<unknown>,
    digest: FileDigest,
    changedMessage: string,
  ): Promise<StoredBlob> {
    const path = this.pathFor(digest.sha256);
    // A same-size file under the right name is the same content; verify() is the deep check.
    if ((await fileSize(path)) === digest.size_bytes) return { ...digest, path, created: false };
    await this.copyAtomically(source, path, digest, changedMessage);
    return { ...digest, path, created: true };
  }

  private async copyAtomically(
    source: () => AsyncIterable<unknown>,
    path: string,
    expected: FileDigest,
    changedMessage: string,
  ): Promise<void> {
    await this.writeAtomically(path, async (out) => {
      const hash = createHash('sha256');
      let size = 0;
      for await (const chunk of source()) {
        const buf = chunk as Buffer;
        hash.update(buf);
        size += buf.length;
        await out.write(buf);
      }
      // Hashing the bytes actually copied guards against the source changing between the two reads.
      const sha256 = hash.digest('hex');
      if (sha256 !== expected.sha256 || size !== expected.size_bytes) throw errors.conflict(changedMessage);
    });
  }

  /**
   * Write `bytes` as the file of content `sha256`, replacing the file there atomically. For the
   * encrypted form of that content (sealed-blobs.ts), whose bytes do not hash to its name: the
   * caller vouches for them.
   */
  async replace(sha256: string, bytes: Uint8Array): Promise<string> {
    const path = this.pathFor(sha256);
    await this.writeAtomically(path, async (out) => {
      await out.write(bytes);
    });
    return path;
  }

  /** Temp file beside `path` (named so gc knows it), filled, synced, read-only, renamed over `path`. */
  private async writeAtomically(path: string, fill: (out: FileHandle) => Promise<void>): Promise<void> {
    const dir = dirname(path);
    await mkdir(dir, { recursive: true });
    const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    const out = await open(temp, 'wx', 0o644);
    let renamed = false;
    try {
      await fill(out);
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

  /**
   * Every file under the root that the store wrote: finished blobs and temp files of copies in
   * progress or interrupted. Anything else (a stray file a person put there) is not listed.
   */
  async list(): Promise<BlobFile[]> {
    const top = join(this.root, 'sha256');
    let fanout: string[];
    try {
      fanout = await readdir(top);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const found: BlobFile[] = [];
    for (const prefix of fanout.sort()) {
      if (!/^[0-9a-f]{2}$/.test(prefix)) continue;
      let names: string[];
      try {
        names = await readdir(join(top, prefix));
      } catch {
        continue; // not a folder, or removed meanwhile
      }
      for (const name of names.sort()) {
        const blob = BLOB_NAME.exec(name) ?? TEMP_NAME.exec(name);
        const sha256 = blob?.[1];
        if (sha256 === undefined || !sha256.startsWith(prefix)) continue;
        const path = join(top, prefix, name);
        try {
          const info = await stat(path);
          if (info.isFile())
            found.push({
              kind: name.startsWith('.') ? 'temp' : 'blob',
              sha256,
              path,
              size_bytes: info.size,
              mtime_ms: info.mtimeMs,
            });
        } catch {
          // removed meanwhile (a finished copy renames its temp file away)
        }
      }
    }
    return found;
  }

  /** Delete one file that list() returned; a file already gone is not an error. */
  async remove(file: BlobFile): Promise<void> {
    const dir = dirname(this.pathFor(file.sha256));
    const name = basename(file.path);
    const pattern = file.kind === 'blob' ? BLOB_NAME : TEMP_NAME;
    if (resolve(file.path) !== join(dir, name) || pattern.exec(name)?.[1] !== file.sha256) {
      throw errors.invalidArgument(`${file.path} is not a ${file.kind} file of this blob store`);
    }
    try {
      await unlink(join(dir, name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
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
