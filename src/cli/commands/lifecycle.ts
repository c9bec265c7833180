/** Lifecycle commands: models archive|unarchive|delete, gc, export, import. */
import { resolve } from 'node:path';
import { errors } from '../../core/errors.js';
import { printJson, printTable } from '../output.js';
import { actor, parseRef, withRegistry, withRegistryCreatingHome } from './registry.js';

interface CommonOptions {
  home?: string;
  json?: boolean;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** NAME@VERSION with a version number (archive and delete name one version, never an alias). */
function versionRef(ref: string, verb: string): { name: string; version: number } {
  const { name, version } = parseRef(ref);
  if (version === undefined || !/^[0-9]+$/.test(version)) {
    throw errors.invalidArgument(
      `'${ref}' does not name a version — use NAME@VERSION with a version number, e.g. ${name}@2, to ${verb} it`,
    );
  }
  return { name, version: Number(version) };
}

/** `tend models archive NAME@VERSION`: keep the version but stop serving it. */
export async function modelsArchiveCommand(ref: string, opts: CommonOptions): Promise<void> {
  const { name, version } = versionRef(ref, 'archive');
  const record = await withRegistry(opts.home, (r) =>
    r.models.archiveVersion(name, version, { actor: actor() }),
  );
  if (opts.json) return printJson(record);
  process.stdout.write(
    `archived ${name} version ${version}: kept, no longer served — undo with \`tend models unarchive ${name}@${version}\`\n`,
  );
}

/** `tend models unarchive NAME@VERSION`: serve an archived version again. */
export async function modelsUnarchiveCommand(ref: string, opts: CommonOptions): Promise<void> {
  const { name, version } = versionRef(ref, 'unarchive');
  const record = await withRegistry(opts.home, (r) => r.models.unarchiveVersion(name, version));
  if (opts.json) return printJson(record);
  process.stdout.write(`unarchived ${name} version ${version}: it can be served again\n`);
}

/** `tend models delete NAME@VERSION` deletes a version; `tend models delete NAME --yes` the whole model. */
export async function modelsDeleteCommand(
  ref: string,
  opts: CommonOptions & { yes?: boolean },
): Promise<void> {
  const { name, version } = parseRef(ref);
  if (version !== undefined) {
    const { version: number } = versionRef(ref, 'delete');
    await withRegistry(opts.home, (r) => r.models.deleteVersion(name, number));
    if (opts.json) return printJson({ name, version: number, deleted: true });
    process.stdout.write(
      `deleted ${name} version ${number}; \`tend gc\` frees its file once nothing else uses it\n`,
    );
    return;
  }
  const model = await withRegistry(opts.home, async (r) => {
    const found = await r.models.get(name);
    if (!opts.yes) {
      throw errors.invalidArgument(
        `deleting model '${name}' removes its ${found.version_count} version(s) and their history — add --yes to confirm, or delete one version with ${name}@VERSION`,
      );
    }
    return r.models.delete(name, { actor: actor() });
  });
  if (opts.json) return printJson({ name, versions_deleted: model.version_count, deleted: true });
  process.stdout.write(
    `deleted model ${name} (${model.version_count} version(s)); \`tend gc\` frees files nothing else uses\n`,
  );
}

/** `tend gc [--dry-run]`: remove model files no version uses and leftovers of interrupted pushes. */
export async function gcCommand(opts: CommonOptions & { dryRun?: boolean }): Promise<void> {
  const result = await withRegistry(opts.home, (r) => r.files.gc({ dryRun: opts.dryRun === true }));
  if (opts.json) return printJson(result);
  const verb = result.dry_run ? 'would remove' : 'removed';
  if (result.removed.length > 0) {
    printTable(
      ['SHA256', 'KIND', 'SIZE'],
      result.removed.map((f) => [f.sha256.slice(0, 12), f.kind, formatBytes(f.bytes)]),
    );
  }
  process.stdout.write(
    `${verb} ${result.removed.length} file(s), ${formatBytes(result.freed_bytes)}; kept ${result.kept} model file(s) in use or written in the last minute\n`,
  );
  if (result.dry_run && result.removed.length > 0)
    process.stdout.write('run `tend gc` without --dry-run to remove them\n');
}

/**
 * `tend export NAME --out FILE`: one tar archive with the model, its versions and aliases, the files
 * attached to them and its runs.
 */
export async function exportCommand(ref: string, opts: CommonOptions & { out: string }): Promise<void> {
  const { name, version } = parseRef(ref);
  if (version !== undefined) {
    throw errors.invalidArgument(
      `export takes a model NAME, not '${ref}' — the archive holds every version of ${name}`,
    );
  }
  const result = await withRegistry(opts.home, (r) => r.archives.export(name, resolve(opts.out)));
  if (opts.json) return printJson(result);
  process.stdout.write(
    `exported ${result.name} (${result.versions} version(s), ${result.files} model file(s), ${result.artifacts} attached file(s), ${result.runs} run(s), ${formatBytes(result.size_bytes)}) to ${result.file}\n` +
      `list it with \`tar tf ${result.file}\`; import it elsewhere with \`tend import ${result.file}\`\n`,
  );
}

/** `tend import FILE [--as NAME]`: add an exported model, checked file by file. */
export async function importCommand(file: string, opts: CommonOptions & { as?: string }): Promise<void> {
  const result = await withRegistryCreatingHome(opts.home, (r) =>
    r.archives.import(resolve(file), { actor: actor(), ...(opts.as !== undefined ? { as: opts.as } : {}) }),
  );
  if (opts.json) return printJson(result);
  const renamed = result.name !== result.original_name ? ` (as ${result.name})` : '';
  const aliases =
    Object.entries(result.aliases)
      .map(([a, v]) => `${a}→${v}`)
      .join(', ') || '(none)';
  process.stdout.write(
    `imported ${result.original_name}${renamed}: versions ${result.versions.join(', ')}; aliases ${aliases}; ${result.artifacts} attached file(s), ${result.runs} run(s)\n` +
      `see it with \`tend models show ${result.name}\`\n`,
  );
}
