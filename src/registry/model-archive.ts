/**
 * Model archives: one ustar file with `manifest.json` first (the model, its versions with their
 * metadata and lineage, aliases and alias history), then `models/<sha256>.onnx` once per content.
 * `tar tf` lists it; `tend import` checks every file against the manifest before writing anything.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { errors, isTendError, TendError } from '../core/errors.js';
import { TEND_VERSION } from '../core/version.js';
import { inspectModelBytes, type inspectModelFile } from '../onnx/index.js';
import type { BlobStore } from './blob-store.js';
import type { SealedBlobs } from './sealed-blobs.js';
import type { ImportedVersion, ModelSnapshot } from './lifecycle-store.js';
import type { RegistryStore } from './store.js';
import { assertModelName, isValidModelName } from './names.js';
import { listTar, readTarEntry, readTarEntryBuffer, TarWriter } from './tar.js';
import type { TarEntry } from './tar.js';

export const MANIFEST_FILE = 'manifest.json';
const FORMAT = 'tend-model-archive';
const SHA256 = /^[0-9a-f]{64}$/;
/** An import's leases outlive any plausible copy; a crashed import's lease expires after this. */
const IMPORT_LEASE_MS = 24 * 3600 * 1000;
const MAX_MANIFEST_BYTES = 64 << 20;

const positiveInt = z.number().int().positive();
const stringMap = z.record(z.string(), z.string());

const ManifestSchema = z.object({
  format: z.literal(FORMAT),
  format_version: z.literal(1),
  exported_at: z.string(),
  tend_version: z.string(),
  model: z.object({
    name: z.string(),
    description: z.string(),
    tags: stringMap,
    created_at: z.string(),
    next_version: positiveInt,
  }),
  versions: z.array(
    z.object({
      version: positiveInt,
      file: z.string(),
      sha256: z.string().regex(SHA256),
      size_bytes: z.number().int().nonnegative(),
      // Kept for people reading the manifest; import reads both again from the file itself.
      signature: z.unknown(),
      model_info: z.unknown(),
      source: z.string(),
      created_at: z.string(),
      created_by: z.string(),
      metrics: z.record(z.string(), z.unknown()),
      tags: stringMap,
      parent_version: positiveInt.nullable(),
      run_id: z.string().nullable(),
      archived_at: z.string().nullable(),
      archived_by: z.string().nullable(),
    }),
  ),
  aliases: z.record(z.string(), positiveInt),
  alias_history: z.array(
    z.object({
      alias: z.string(),
      from_version: positiveInt.nullable(),
      to_version: positiveInt.nullable(),
      actor: z.string(),
      at: z.string(),
    }),
  ),
});

export type ModelArchiveManifest = z.infer<typeof ManifestSchema>;

export interface ExportResult {
  name: string;
  /** Absolute path of the archive written. */
  file: string;
  versions: number;
  /** Model files in the archive (versions with the same content share one). */
  files: number;
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
  /** Model files written to the registry (the others were already stored). */
  files_written: number;
}

export interface ArchiveDeps {
  store: RegistryStore;
  blobs: BlobStore;
  /** Encryption at rest: archives carry plaintext; sealed files are decrypted on export, sealed on import when a keyring is set. */
  sealed?: SealedBlobs;
}

export interface ImportDeps extends ArchiveDeps {
  inspect: typeof inspectModelFile;
  actor: string;
}

function entryName(sha256: string): string {
  return `models/${sha256}.onnx`;
}

function manifestOf(snapshot: ModelSnapshot): ModelArchiveManifest {
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
export async function exportModelArchive(deps: ArchiveDeps, name: string, outFile: string): Promise<ExportResult> {
  const file = resolve(outFile);
  const snapshot = await deps.store.snapshotModel(name);
  const manifest = manifestOf(snapshot);
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
        if (!opened.matches) throw new TendError('TEND_INTERNAL', `the file of ${name} version ${v.version} no longer matches its sha256 (${path}); the registry needs repair`);
        await tar.addBuffer(entryName(v.sha256), opened.plain, mtime);
        continue;
      }
      const size = await stat(path).then((s) => s.size, () => null);
      if (size !== v.size_bytes) {
        throw new TendError('TEND_INTERNAL', `the file of ${name} version ${v.version} is ${size === null ? 'missing' : 'damaged'} (${path}); the registry needs repair`);
      }
      const source = hashing(createReadStream(path, { highWaterMark: 1 << 20 }));
      await tar.addStream(entryName(v.sha256), v.size_bytes, source.chunks(), mtime);
      if (source.digest() !== v.sha256) {
        throw new TendError('TEND_INTERNAL', `the file of ${name} version ${v.version} no longer matches its sha256 (${path}); the registry needs repair`);
      }
    }
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
    return { name, file, versions: snapshot.versions.length, files: written.size, size_bytes: size };
  } finally {
    if (!done) {
      await out.close().catch(() => undefined);
      await unlink(temp).catch(() => undefined);
    }
  }
}

const HINT_EXPORT_AGAIN = '`tend import` takes the tar archive `tend export` writes; export the model again';
const HINT_COPY_AGAIN = 'the archive was damaged or altered after `tend export`; copy or export it again';
const HINT_NOT_TAR = '`tend import` takes the tar archive `tend export` writes (an .onnx file is added with `tend push FILE --name NAME`)';
const HINT_AS = 'import it under a valid name with --as NAME';

/** What is wrong with an archive itself (not with an ONNX file in it), with how to fix it. */
function invalidArchive(file: string, why: string, hint = HINT_EXPORT_AGAIN): TendError {
  return new TendError('TEND_INVALID_ARCHIVE', `${file} is not a valid tend model archive: ${why}; nothing was imported`, { hint });
}

/** Where a manifest check failed, as a field path ('versions[0].sha256'). */
function fieldPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const key of path) text += typeof key === 'number' ? `[${key}]` : `${text === '' ? '' : '.'}${String(key)}`;
  return text === '' ? '(the whole manifest)' : text;
}

/** The manifest and file entries of an archive, checked for consistency (not yet hashed). */
async function readArchive(file: string): Promise<{ manifest: ModelArchiveManifest; entries: Map<string, TarEntry> }> {
  let listed: TarEntry[];
  try {
    listed = await listTar(file);
  } catch (err) {
    if (isTendError(err) && err.code === 'TEND_INVALID_ARCHIVE') {
      throw new TendError('TEND_INVALID_ARCHIVE', `${file} is ${err.message}; nothing was imported`, {
        hint: err.message.startsWith('not a tar') ? HINT_NOT_TAR : HINT_COPY_AGAIN,
      });
    }
    throw err;
  }
  const entries = new Map(listed.map((e) => [e.name.replace(/^\.\//, ''), e]));
  const entry = entries.get(MANIFEST_FILE);
  if (entry === undefined) throw invalidArchive(file, `${MANIFEST_FILE} is missing (the tar holds ${listed.length} other file(s))`);
  if (entry.size > MAX_MANIFEST_BYTES) throw invalidArchive(file, `${MANIFEST_FILE} is too large (${entry.size} bytes, at most ${MAX_MANIFEST_BYTES})`);
  let parsed: unknown;
  try {
    parsed = JSON.parse((await readTarEntryBuffer(file, entry)).toString('utf8'));
  } catch (err) {
    throw invalidArchive(file, `${MANIFEST_FILE} is not JSON (${(err as Error).message})`);
  }
  const result = ManifestSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw invalidArchive(file, `${MANIFEST_FILE} is invalid: field ${fieldPath(issue?.path ?? [])}: ${issue?.message ?? 'invalid'}`);
  }
  const manifest = result.data;
  const numbers = new Set<number>();
  for (const v of manifest.versions) {
    if (numbers.has(v.version)) throw invalidArchive(file, `version ${v.version} is listed twice`);
    numbers.add(v.version);
    if (v.file !== entryName(v.sha256)) throw invalidArchive(file, `version ${v.version} names file '${v.file}', expected '${entryName(v.sha256)}'`);
    const data = entries.get(v.file);
    if (data === undefined) throw invalidArchive(file, `${v.file} (version ${v.version}) is missing`, HINT_COPY_AGAIN);
    if (data.size !== v.size_bytes) {
      throw invalidArchive(file, `${v.file} has ${data.size} bytes, the manifest says ${v.size_bytes}`, HINT_COPY_AGAIN);
    }
  }
  for (const [alias, version] of Object.entries(manifest.aliases)) {
    const target = manifest.versions.find((v) => v.version === version);
    if (target === undefined) throw invalidArchive(file, `alias '${alias}' points at version ${version}, which is not in the archive`);
    if (target.archived_at !== null) throw invalidArchive(file, `alias '${alias}' points at archived version ${version}`);
  }
  return { manifest, entries };
}

async function hashEntry(file: string, entry: TarEntry): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of readTarEntry(file, entry)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Import a model archive: check every file's sha256, store the files, then create the model, its
 * versions (numbers kept), aliases and alias history in one transaction. Signatures and model
 * headers are read again from the files themselves.
 * @throws TendError TEND_INVALID_ARCHIVE (not a tar, truncated, manifest missing or invalid, a file
 * that does not match its sha256 or size, a bad model name — nothing is imported), TEND_INVALID_MODEL
 * (a file in it is not a usable ONNX model), TEND_CONFLICT (the name exists: use `as`), TEND_INVALID_ARGUMENT.
 */
export async function importModelArchive(deps: ImportDeps, archive: string, options: ImportOptions = {}): Promise<ImportResult> {
  const file = resolve(archive);
  const { manifest, entries } = await readArchive(file);
  const name = options.as ?? manifest.model.name;
  if (options.as === undefined && !isValidModelName(name)) {
    throw invalidArchive(file, `its model name '${name}' (manifest field model.name) is not a valid model name`, HINT_AS);
  }
  assertModelName(name);
  // Checked early to fail before any copying; the import transaction checks again.
  const exists = await deps.store.getModel(name).then(() => true, (err: unknown) => {
    if (isTendError(err) && err.code === 'TEND_MODEL_NOT_FOUND') return false;
    throw err;
  });
  if (exists) throw new TendError('TEND_CONFLICT', `model '${name}' already exists; import it under another name (--as NAME)`);

  const files = new Map(manifest.versions.map((v) => [v.sha256, v]));
  for (const [sha256, v] of files) {
    const entry = entries.get(v.file) as TarEntry;
    const actual = await hashEntry(file, entry);
    if (actual !== sha256) {
      throw new TendError(
        'TEND_INVALID_ARCHIVE',
        `${v.file} in ${file} does not match its sha256: the manifest expects ${sha256}, the file hashes to ${actual}; nothing was imported`,
        { hint: HINT_COPY_AGAIN },
      );
    }
  }

  const leases: string[] = [];
  try {
    // Leased before they are written, so a garbage collection meanwhile keeps them (see blob-gc.ts).
    for (const sha256 of files.keys()) leases.push(await deps.store.leaseBlob(sha256, IMPORT_LEASE_MS));
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
        if (stored.sha256 !== sha256) throw new TendError('TEND_CONFLICT', changed);
        info = () => inspectModelBytes(plain);
      } else {
        stored = await deps.blobs.putFrom(() => readTarEntry(file, entry), { sha256, size_bytes: v.size_bytes }, changed);
        const storedPath = stored.path;
        info = () => deps.inspect(storedPath);
      }
      if (stored.created) written++;
      try {
        read.set(sha256, info());
      } catch (err) {
        throw errors.invalidModel(`${v.file} in ${file} is not a valid ONNX model: ${(err as Error).message}; nothing was imported`, err);
      }
      if ((read.get(sha256)?.external_data.length ?? 0) > 0) {
        throw errors.invalidModel(`${v.file} in ${file} refers to external data files, which an archive cannot hold; nothing was imported`);
      }
    }
    const versions: ImportedVersion[] = manifest.versions.map((v) => {
      const { signature, external_data: _external, ...modelInfo } = read.get(v.sha256) as ReturnType<typeof inspectModelFile>;
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
      model = await deps.store.importModel({
        name,
        description: manifest.model.description,
        tags: manifest.model.tags,
        created_at: manifest.model.created_at,
        next_version: manifest.model.next_version,
        versions,
        aliases: manifest.aliases,
        alias_history: manifest.alias_history,
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
      files_written: written,
    };
  } finally {
    for (const id of leases) await deps.store.releaseBlobLease(id).catch(() => undefined);
  }
}
