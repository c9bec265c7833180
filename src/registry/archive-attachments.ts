/**
 * The files attached to versions (reference data, optimization reports, signatures) in model
 * archives, and the sha256 check of archive entries before anything is written: export reads them
 * back (decrypted when sealed, checked against their hash) into `artifacts/<sha256>`; import stores
 * them again (sealed when the registry seals). Their rows travel in the manifest (archive-manifest.ts).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { errors } from '../core/errors.js';
import type { ArtifactRecord } from './artifact-store.js';
import { artifactEntryName, HINT_COPY_AGAIN } from './archive-manifest.js';
import type { BlobStore } from './blob-store.js';
import type { SealedBlobs } from './sealed-blobs.js';
import { readTarEntry, readTarEntryBuffer, type TarEntry, type TarWriter } from './tar.js';

/** Where attached files are read from and written to. */
export interface AttachmentDeps {
  blobs: BlobStore;
  sealed?: SealedBlobs;
}

/** A stored file's plain bytes, checked against its sha256 (decrypted when sealed). */
async function storedBytes(deps: AttachmentDeps, sha256: string, what: string): Promise<Buffer> {
  if (deps.sealed !== undefined) {
    const opened = await deps.sealed.read(sha256, what);
    if (!opened.matches)
      throw errors.internal(`${what} no longer matches its sha256; the registry needs repair`);
    return opened.plain;
  }
  const path = deps.blobs.pathFor(sha256);
  const bytes = await readFile(path).catch(() => {
    throw errors.internal(`${what} is missing (${path}); the registry needs repair`);
  });
  if (createHash('sha256').update(bytes).digest('hex') !== sha256)
    throw errors.internal(`${what} no longer matches its sha256 (${path}); the registry needs repair`);
  return bytes;
}

/** Add each distinct attached file of the model to the archive once. */
export async function addAttachedFiles(
  tar: TarWriter,
  deps: AttachmentDeps,
  name: string,
  artifacts: readonly ArtifactRecord[],
  mtime: Date,
): Promise<void> {
  const added = new Set<string>();
  for (const a of artifacts) {
    if (added.has(a.sha256)) continue;
    added.add(a.sha256);
    const what = `the ${a.kind} file of ${name} version ${a.version}`;
    await tar.addBuffer(artifactEntryName(a.sha256), await storedBytes(deps, a.sha256, what), mtime);
  }
}

async function hashEntry(file: string, entry: TarEntry): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of readTarEntry(file, entry)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Every listed entry hashes to its sha256, or the import stops before writing anything. */
export async function checkEntryHashes(
  file: string,
  entries: ReadonlyMap<string, TarEntry>,
  listed: Iterable<{ file: string; sha256: string }>,
): Promise<void> {
  for (const item of listed) {
    const actual = await hashEntry(file, entries.get(item.file) as TarEntry);
    if (actual !== item.sha256) {
      throw errors.invalidArchive(
        `${item.file} in ${file} does not match its sha256: the manifest expects ${item.sha256}, the file hashes to ${actual}; nothing was imported`,
        { hint: HINT_COPY_AGAIN },
      );
    }
  }
}

/** Store the archive's attached files (leased by the caller); returns how many were new. */
export async function storeAttachedFiles(
  deps: AttachmentDeps,
  file: string,
  entries: ReadonlyMap<string, TarEntry>,
  attached: Iterable<{ file: string; sha256: string; size_bytes: number }>,
): Promise<number> {
  let written = 0;
  const changed = `${file} changed while it was being imported; import it again`;
  for (const a of attached) {
    const entry = entries.get(a.file) as TarEntry;
    let stored;
    if (deps.sealed !== undefined) {
      // Sealed when the registry seals, as attaching a file does (artifacts.ts).
      stored = await deps.sealed.putBytes(await readTarEntryBuffer(file, entry));
      if (stored.sha256 !== a.sha256) throw errors.conflict(changed);
    } else {
      stored = await deps.blobs.putFrom(
        () => readTarEntry(file, entry),
        { sha256: a.sha256, size_bytes: a.size_bytes },
        changed,
      );
    }
    if (stored.created) written++;
  }
  return written;
}
