/**
 * The archive side of `tend import`: the manifest's schema and the reading of an archive's tar
 * entries and manifest, with errors that name what is wrong (TEND_INVALID_ARCHIVE). model-archive.ts
 * exports and imports; this file only reads.
 */
import { z } from 'zod';
import { type TendError, isTendError, errors } from '../core/errors.js';
import { listTar, readTarEntryBuffer } from './tar.js';
import type { TarEntry } from './tar.js';

export const MANIFEST_FILE = 'manifest.json';
export const FORMAT = 'tend-model-archive';
export const SHA256 = /^[0-9a-f]{64}$/;
/** An import's leases outlive any plausible copy; a crashed import's lease expires after this. */
const MAX_MANIFEST_BYTES = 64 << 20;

const positiveInt = z.number().int().positive();
const nonNegative = z.number().nonnegative();
const stringMap = z.record(z.string(), z.string());
const anyMap = z.record(z.string(), z.unknown());

/** A file attached to a version (reference data, optimization report, signature), as exported. */
const ArtifactEntrySchema = z.object({
  version: positiveInt,
  kind: z.string(),
  file: z.string(),
  sha256: z.string().regex(SHA256),
  size_bytes: z.number().int().nonnegative(),
  media_type: z.string(),
  meta: anyMap,
  created_at: z.string(),
  created_by: z.string(),
});

/** A training or update run of the model, as exported (its model is the archive's). */
const RunEntrySchema = z.object({
  run_id: z.string().min(1),
  kind: z.string(),
  status: z.enum(['running', 'finished', 'failed']),
  parameters: anyMap,
  epochs: z.array(anyMap),
  metrics: anyMap,
  dataset_sha256: z.string().nullable(),
  dataset_rows: nonNegative.nullable(),
  dataset_source: z.string(),
  parent_version: positiveInt.nullable(),
  produced_version: positiveInt.nullable(),
  code_version: z.string(),
  error: z.string().nullable(),
  started_at: z.string(),
  finished_at: z.string().nullable(),
  duration_ms: nonNegative.nullable(),
  created_by: z.string(),
});

export const ManifestSchema = z.object({
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
  // Absent in archives written before tend carried them: such an archive imports without them.
  artifacts: z.array(ArtifactEntrySchema).default([]),
  runs: z.array(RunEntrySchema).default([]),
});

export type ModelArchiveManifest = z.infer<typeof ManifestSchema>;

export function entryName(sha256: string): string {
  return `models/${sha256}.onnx`;
}

export function artifactEntryName(sha256: string): string {
  return `artifacts/${sha256}`;
}

export const HINT_EXPORT_AGAIN =
  '`tend import` takes the tar archive `tend export` writes; export the model again';
export const HINT_COPY_AGAIN =
  'the archive was damaged or altered after `tend export`; copy or export it again';
export const HINT_NOT_TAR =
  '`tend import` takes the tar archive `tend export` writes (an .onnx file is added with `tend push FILE --name NAME`)';
export const HINT_AS = 'import it under a valid name with --as NAME';

/** What is wrong with an archive itself (not with an ONNX file in it), with how to fix it. */
export function invalidArchive(file: string, why: string, hint = HINT_EXPORT_AGAIN): TendError {
  return errors.invalidArchive(`${file} is not a valid tend model archive: ${why}; nothing was imported`, {
    hint,
  });
}

/** Where a manifest check failed, as a field path ('versions[0].sha256'). */
function fieldPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const key of path)
    text += typeof key === 'number' ? `[${key}]` : `${text === '' ? '' : '.'}${String(key)}`;
  return text === '' ? '(the whole manifest)' : text;
}

/** The manifest and file entries of an archive, checked for consistency (not yet hashed). */
export async function readArchive(
  file: string,
): Promise<{ manifest: ModelArchiveManifest; entries: Map<string, TarEntry> }> {
  let listed: TarEntry[];
  try {
    listed = await listTar(file);
  } catch (err) {
    if (isTendError(err) && err.code === 'TEND_INVALID_ARCHIVE') {
      throw errors.invalidArchive(`${file} is ${err.message}; nothing was imported`, {
        hint: err.message.startsWith('not a tar') ? HINT_NOT_TAR : HINT_COPY_AGAIN,
      });
    }
    throw err;
  }
  const entries = new Map(listed.map((e) => [e.name.replace(/^\.\//, ''), e]));
  const entry = entries.get(MANIFEST_FILE);
  if (entry === undefined)
    throw invalidArchive(file, `${MANIFEST_FILE} is missing (the tar holds ${listed.length} other file(s))`);
  if (entry.size > MAX_MANIFEST_BYTES)
    throw invalidArchive(
      file,
      `${MANIFEST_FILE} is too large (${entry.size} bytes, at most ${MAX_MANIFEST_BYTES})`,
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse((await readTarEntryBuffer(file, entry)).toString('utf8'));
  } catch (err) {
    throw invalidArchive(file, `${MANIFEST_FILE} is not JSON (${(err as Error).message})`);
  }
  const result = ManifestSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw invalidArchive(
      file,
      `${MANIFEST_FILE} is invalid: field ${fieldPath(issue?.path ?? [])}: ${issue?.message ?? 'invalid'}`,
    );
  }
  const manifest = result.data;
  const numbers = new Set<number>();
  for (const v of manifest.versions) {
    if (numbers.has(v.version)) throw invalidArchive(file, `version ${v.version} is listed twice`);
    numbers.add(v.version);
    if (v.file !== entryName(v.sha256))
      throw invalidArchive(
        file,
        `version ${v.version} names file '${v.file}', expected '${entryName(v.sha256)}'`,
      );
    const data = entries.get(v.file);
    if (data === undefined)
      throw invalidArchive(file, `${v.file} (version ${v.version}) is missing`, HINT_COPY_AGAIN);
    if (data.size !== v.size_bytes) {
      throw invalidArchive(
        file,
        `${v.file} has ${data.size} bytes, the manifest says ${v.size_bytes}`,
        HINT_COPY_AGAIN,
      );
    }
  }
  for (const a of manifest.artifacts) {
    if (!numbers.has(a.version))
      throw invalidArchive(
        file,
        `the '${a.kind}' artifact of version ${a.version} belongs to no version in the archive`,
      );
    if (a.file !== artifactEntryName(a.sha256))
      throw invalidArchive(
        file,
        `the '${a.kind}' artifact of version ${a.version} names file '${a.file}', expected '${artifactEntryName(a.sha256)}'`,
      );
    const data = entries.get(a.file);
    if (data === undefined)
      throw invalidArchive(
        file,
        `${a.file} (the '${a.kind}' artifact of version ${a.version}) is missing`,
        HINT_COPY_AGAIN,
      );
    if (data.size !== a.size_bytes)
      throw invalidArchive(
        file,
        `${a.file} has ${data.size} bytes, the manifest says ${a.size_bytes}`,
        HINT_COPY_AGAIN,
      );
  }
  for (const [alias, version] of Object.entries(manifest.aliases)) {
    const target = manifest.versions.find((v) => v.version === version);
    if (target === undefined)
      throw invalidArchive(
        file,
        `alias '${alias}' points at version ${version}, which is not in the archive`,
      );
    if (target.archived_at !== null)
      throw invalidArchive(file, `alias '${alias}' points at archived version ${version}`);
  }
  return { manifest, entries };
}
