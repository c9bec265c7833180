/**
 * Garbage collection of model files: delete blobs no version row references, and temp files left
 * by interrupted copies.
 *
 * The safety rule (a file is kept when any of these holds):
 *   1. a version row of any model references its sha256 (archived versions included);
 *   2. a lease on its sha256 is held: push and import take one before they hash-copy the file and
 *      drop it only after the version row is committed. Leases and collections serialize on one
 *      database row, so a collection either sees the lease or finishes before the lease exists —
 *      in which case the push copies the file again afterwards. A crashed push's lease expires
 *      (24 h) and its leftovers go at the next collection;
 *   3. it was modified less than `minAgeSeconds` ago (default 60): a margin for writers that take
 *      no lease, such as an older tend process still running during an upgrade.
 * Rules 1 and 2 are read in the same transaction that holds the lock while files are deleted.
 */
import { errors } from '../core/errors.js';
import type { BlobStore } from './blob-store.js';
import type { LifecycleStore } from './lifecycle-store.js';

/** How long a push's lease protects its file if the push never ends (crash). */
export const PUSH_LEASE_MS = 24 * 3600 * 1000;
export const DEFAULT_GC_MIN_AGE_SECONDS = 60;

export interface GcOptions {
  /** Report what would be removed, remove nothing. */
  dryRun?: boolean;
  /** Keep files modified more recently than this (default 60). */
  minAgeSeconds?: number;
}

export interface GcRemovedFile {
  sha256: string;
  bytes: number;
  kind: 'blob' | 'temp';
  path: string;
}

export interface GcResult {
  /** Removed files (with dryRun: the files that would be removed). */
  removed: GcRemovedFile[];
  /** Blob files kept (referenced, leased or too recent). */
  kept: number;
  freed_bytes: number;
  dry_run: boolean;
}

/**
 * Remove unreferenced model files and stray temp files under the rule above.
 * @throws TendError TEND_INVALID_ARGUMENT for a negative or non-numeric minAgeSeconds.
 */
export async function collectGarbage(
  blobs: BlobStore,
  store: LifecycleStore,
  options: GcOptions = {},
): Promise<GcResult> {
  const minAgeSeconds = options.minAgeSeconds ?? DEFAULT_GC_MIN_AGE_SECONDS;
  if (!(Number.isFinite(minAgeSeconds) && minAgeSeconds >= 0)) {
    throw errors.invalidArgument(
      `minAgeSeconds must be a number of seconds ≥ 0, not ${String(minAgeSeconds)}`,
    );
  }
  const dryRun = options.dryRun === true;
  return store.withLiveBlobs(async ({ referenced, leased }) => {
    const nowMs = Date.now();
    const removed: GcRemovedFile[] = [];
    let kept = 0;
    for (const file of await blobs.list()) {
      const young = nowMs - file.mtime_ms < minAgeSeconds * 1000;
      if ((file.kind === 'blob' && referenced.has(file.sha256)) || leased.has(file.sha256) || young) {
        if (file.kind === 'blob') kept++;
        continue;
      }
      if (!dryRun) await blobs.remove(file);
      removed.push({ sha256: file.sha256, bytes: file.size_bytes, kind: file.kind, path: file.path });
    }
    return { removed, kept, freed_bytes: removed.reduce((sum, f) => sum + f.bytes, 0), dry_run: dryRun };
  });
}
