/**
 * Model archives: one ustar file with `manifest.json` first (the model, its versions with their
 * metadata and lineage, aliases and alias history, the files attached to versions — reference data,
 * optimization reports, signatures — and the model's training runs), then `models/<sha256>.onnx`
 * and `artifacts/<sha256>` once per content.
 * `tar tf` lists it; `tend import` checks every file against the manifest before writing anything.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { errors, isTendError, FIX_IN_MESSAGE } from '../core/errors.js';
import { TEND_VERSION } from '../core/version.js';
import { inspectModelBytes, type inspectModelFile } from '../onnx/index.js';
import type { BlobStore } from './blob-store.js';
import type { SealedBlobs } from './sealed-blobs.js';
import type { ArtifactRecord } from './artifact-store.js';
import type { ImportedVersion, ModelSnapshot } from './lifecycle-store.js';
import type { RunRecord } from './run-store.js';
import type { RegistryStores } from './registry-stores.js';
import { assertModelName, isValidModelName } from './names.js';
import { readTarEntry, readTarEntryBuffer, TarWriter } from './tar.js';
import type { TarEntry } from './tar.js';
import { addAttachedFiles, checkEntryHashes, storeAttachedFiles } from './archive-attachments.js';
import {
  artifactEntryName,
  entryName,
  FORMAT,
  HINT_AS,
  invalidArchive,
  MANIFEST_FILE,
  readArchive,
  type ModelArchiveManifest,
} from './archive-manifest.js';

export { MANIFEST_FILE, type ModelArchiveManifest } from './archive-manifest.js';

const IMPORT_LEASE_MS = 24 * 3600 * 1000;

export interface ExportResult {
  name: string;
  /** Absolute path of the archive written. */
  file: string;
  versions: number;
  /** Model files in the archive (versions with the same content share one). */
  files: number;
  /** Files attached to versions (reference data, reports, signatures). */
  artifacts: number;
  /** Training and update runs of the model. */
  runs: number;
  size_bytes: number;
}

export interface ImportOptions {
  /** Import under this name instead of the one in the archive. */
  as?: string;
  /** Recorded on aliases whose history does not say who set them (default: the registry's actor). */
  actor?: string;
}

export interface ImportResult {
  name: string;
  /** The model's name in the archive. */
  original_name: string;
  versions: number[];
  aliases: Record<string, number>;
  artifacts: number;
  runs: number;
  /** Model and artifact files written to the registry (the others were already stored). */
  files_written: number;
}

export interface ArchiveDeps {
  stores: Pick<RegistryStores, 'models' | 'lifecycle' | 'artifacts' | 'runs'>;
  blobs: BlobStore;
  /**
   * Encryption at rest: archives carry plaintext; sealed files are decrypted on export, sealed on import when
   * a keyring is set.
   */
  sealed?: SealedBlobs;
}

export interface ImportDeps extends ArchiveDeps {
  inspect: typeof inspectModelFile;
  actor: string;
}

function manifestOf(
  snapshot: ModelSnapshot,
  artifacts: readonly ArtifactRecord[],
  runs: readonly RunRecord[],
): ModelArchiveManifest {
  return {
    format: FORMAT,
    format_version: 1,
    exported_at: new Date().toISOString(),
    tend_version: TEND_VERSION,
    model: {
      name: snapshot.name,
      description: snapshot.description,
      tags: snapshot.tags,
      created_at: snapshot.created_at,
      next_version: snapshot.next_version,
    },
    versions: snapshot.versions.map((v) => ({
      version: v.version,
      file: entryName(v.sha256),
      sha256: v.sha256,
      size_bytes: v.size_bytes,
      signature: v.signature,
      model_info: v.model_info,
      source: v.source,
      created_at: v.created_at,
      created_by: v.created_by,
      metrics: v.metrics,
      tags: v.tags,
      parent_version: v.parent_version,
      run_id: v.run_id,
      archived_at: v.archived_at,
      archived_by: v.archived_by,
    })),
    aliases: snapshot.aliases,
    alias_history: snapshot.alias_history,
    artifacts: artifacts.map(({ name: _name, ...a }) => ({ ...a, file: artifactEntryName(a.sha256) })),
    runs: runs.map(({ model_name: _model, ...r }) => r),
  };
}

/** Chunks of a file, hashed on the way; `digest()` after the last chunk. */
function hashing(source: AsyncIterable<unknown>) {
  const hash = createHash('sha256');
  return {
    async *chunks(): AsyncGenerator<Buffer> {
      for await (const chunk of source) {
        hash.update(chunk as Buffer);
        yield chunk as Buffer;
      }
    },
    digest: () => hash.digest('hex'),
  };
}

/**
 * Write a model and all its versions' files to `outFile` (written to a temp file, then renamed).
 * @throws TendError TEND_MODEL_NOT_FOUND, TEND_INVALID_ARGUMENT (unusable output path),
 * TEND_INTERNAL when a stored file is missing or no longer matches its sha256.
 */
export async function exportModelArchive(
  deps: ArchiveDeps,
  name: string,
  outFile: string,
): Promise<ExportResult> {
  const file = resolve(outFile);
  const snapshot = await deps.stores.lifecycle.snapshotModel(name);
  const artifacts = await deps.stores.artifacts.listArtifacts(name);
  const runs = await deps.stores.runs.listRuns({ model: name });
  const manifest = manifestOf(snapshot, artifacts, runs);
  const temp = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let out;
  try {
    out = await open(temp, 'wx', 0o644);
  } catch (err) {
    throw errors.invalidArgument(`cannot write ${file}: ${(err as Error).message}`);
  }
  let done = false;
  try {
    const tar = new TarWriter(out);
    const mtime = new Date(manifest.exported_at);
    await tar.addBuffer(MANIFEST_FILE, Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`), mtime);
    const written = new Set<string>();
    for (const v of snapshot.versions) {
      if (written.has(v.sha256)) continue;
      written.add(v.sha256);
      const path = deps.blobs.pathFor(v.sha256);
      if (deps.sealed !== undefined && (await deps.sealed.formOf(v)) === 'sealed') {
        const opened = await deps.sealed.read(v.sha256, `the file of ${name} version ${v.version}`);
        if (!opened.matches)
          throw errors.internal(
            `the file of ${name} version ${v.version} no longer matches its sha256 (${path}); the registry needs repair`,
          );
        await tar.addBuffer(entryName(v.sha256), opened.plain, mtime);
        continue;
      }
      const size = await stat(path).then(
        (s) => s.size,
        () => null,
      );
      if (size !== v.size_bytes) {
        throw errors.internal(
          `the file of ${name} version ${v.version} is ${size === null ? 'missing' : 'damaged'} (${path}); the registry needs repair`,
        );
      }
      const source = hashing(createReadStream(path, { highWaterMark: 1 << 20 }));
      await tar.addStream(entryName(v.sha256), v.size_bytes, source.chunks(), mtime);
      if (source.digest() !== v.sha256) {
        throw errors.internal(
          `the file of ${name} version ${v.version} no longer matches its sha256 (${path}); the registry needs repair`,
        );
      }
    }
    await addAttachedFiles(tar, deps, name, artifacts, mtime);
    await tar.finish();
    await out.sync();
    await out.close();
    try {
      await rename(temp, file);
    } catch (err) {
      throw errors.invalidArgument(`cannot write ${file}: ${(err as Error).message}`);
    }
    done = true;
    const { size } = await stat(file);
    return {
      name,
      file,
      versions: snapshot.versions.length,
      files: written.size,
      artifacts: artifacts.length,
      runs: runs.length,
      size_bytes: size,
    };
  } finally {
    if (!done) {
      await out.close().catch(() => undefined);
      await unlink(temp).catch(() => undefined);
    }
  }
}

/**
 * Import a model archive: check every file's sha256, store the files, then create the model, its
 * versions (numbers kept), aliases and alias history in one transaction. Signatures and model
 * headers are read again from the files themselves.
 * @throws TendError TEND_INVALID_ARCHIVE (not a tar, truncated, manifest missing or invalid, a file
 * that does not match its sha256 or size, a bad model name — nothing is imported), TEND_INVALID_MODEL
 * (a file in it is not a usable ONNX model), TEND_CONFLICT (the name exists: use `as`), TEND_INVALID_ARGUMENT.
 */
export async function importModelArchive(
  deps: ImportDeps,
  archive: string,
  options: ImportOptions = {},
): Promise<ImportResult> {
  const file = resolve(archive);
  const { manifest, entries } = await readArchive(file);
  const name = options.as ?? manifest.model.name;
  if (options.as === undefined && !isValidModelName(name)) {
    throw invalidArchive(
      file,
      `its model name '${name}' (manifest field model.name) is not a valid model name`,
      HINT_AS,
    );
  }
  assertModelName(name);
  // Checked early to fail before any copying; the import transaction checks again.
  const exists = await deps.stores.models.getModel(name).then(
    () => true,
    (err: unknown) => {
      if (isTendError(err) && err.code === 'TEND_MODEL_NOT_FOUND') return false;
      throw err;
    },
  );
  if (exists)
    throw errors.conflict(
      `model '${name}' already exists; import it under another name (--as NAME)`,
      FIX_IN_MESSAGE,
    );

  const files = new Map(manifest.versions.map((v) => [v.sha256, v]));
  const attached = new Map(manifest.artifacts.map((a) => [a.sha256, a]));
  await checkEntryHashes(file, entries, [...files.values(), ...attached.values()]);

  const leases: string[] = [];
  try {
    // Leased before they are written, so a garbage collection meanwhile keeps them (see blob-gc.ts).
    for (const sha256 of new Set([...files.keys(), ...attached.keys()]))
      leases.push(await deps.stores.lifecycle.leaseBlob(sha256, IMPORT_LEASE_MS));
    let written = 0;
    const read = new Map<string, ReturnType<typeof inspectModelFile>>();
    for (const [sha256, v] of files) {
      const entry = entries.get(v.file) as TarEntry;
      const changed = `${file} changed while it was being imported; import it again`;
      let info: () => ReturnType<typeof inspectModelFile>;
      let stored;
      if (deps.sealed?.sealing === true) {
        // Sealed in memory: the registry never holds the plaintext on disk.
        const plain = await readTarEntryBuffer(file, entry);
        stored = await deps.sealed.putBytes(plain);
        if (stored.sha256 !== sha256) throw errors.conflict(changed);
        info = () => inspectModelBytes(plain);
      } else {
        stored = await deps.blobs.putFrom(
          () => readTarEntry(file, entry),
          { sha256, size_bytes: v.size_bytes },
          changed,
        );
        const storedPath = stored.path;
        info = () => deps.inspect(storedPath);
      }
      if (stored.created) written++;
      try {
        read.set(sha256, info());
      } catch (err) {
        throw errors.invalidModel(
          `${v.file} in ${file} is not a valid ONNX model: ${(err as Error).message}; nothing was imported`,
          err,
        );
      }
      if ((read.get(sha256)?.external_data.length ?? 0) > 0) {
        throw errors.invalidModel(
          `${v.file} in ${file} refers to external data files, which an archive cannot hold; nothing was imported`,
        );
      }
    }
    written += await storeAttachedFiles(deps, file, entries, attached.values());
    const versions: ImportedVersion[] = manifest.versions.map((v) => {
      const {
        signature,
        external_data: _external,
        ...modelInfo
      } = read.get(v.sha256) as ReturnType<typeof inspectModelFile>;
      return {
        version: v.version,
        sha256: v.sha256,
        size_bytes: v.size_bytes,
        signature,
        model_info: modelInfo,
        source: v.source,
        created_at: v.created_at,
        created_by: v.created_by,
        metrics: v.metrics,
        tags: v.tags,
        parent_version: v.parent_version,
        run_id: v.run_id,
        archived_at: v.archived_at,
        archived_by: v.archived_by,
      };
    });
    let model;
    try {
      model = await deps.stores.lifecycle.importModel({
        name,
        description: manifest.model.description,
        tags: manifest.model.tags,
        created_at: manifest.model.created_at,
        next_version: manifest.model.next_version,
        versions,
        aliases: manifest.aliases,
        alias_history: manifest.alias_history,
        artifacts: manifest.artifacts.map(({ file: _file, ...a }) => a),
        runs: manifest.runs,
        actor: options.actor ?? deps.actor,
      });
    } catch (err) {
      // A name or tag the registry refuses: the archive's fault unless the name came from --as.
      if (isTendError(err) && err.code === 'TEND_INVALID_ARGUMENT') throw invalidArchive(file, err.message);
      throw err;
    }
    return {
      name,
      original_name: manifest.model.name,
      versions: versions.map((v) => v.version).sort((a, b) => a - b),
      aliases: model.aliases,
      artifacts: manifest.artifacts.length,
      runs: manifest.runs.length,
      files_written: written,
    };
  } finally {
    for (const id of leases) await deps.stores.lifecycle.releaseBlobLease(id).catch(() => undefined);
  }
}
