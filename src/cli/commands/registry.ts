/** Registry commands: push, models list|show|versions, alias set|rm|history. */
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { errors } from '../../core/errors.js';
import { v2Shape } from '../../core/signature.js';
import { withRegistry as withHomeRegistry } from '../../engine/index.js';
import { existingHome, resolveHome } from '../home.js';
import { printJson, printTable } from '../output.js';

interface CommonOptions {
  home?: string;
  json?: boolean;
}

export function actor(): string {
  try {
    return process.env['TEND_ACTOR'] ?? userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** The registry of a home, as the engine opens it for one management command. */
export type Registry = Parameters<Parameters<typeof withHomeRegistry>[2]>[0];

/** Open an existing home's registry for one command; a home that does not exist is refused, not created. */
export function withRegistry<T>(
  home: string | undefined,
  work: (registry: Registry) => Promise<T>,
): Promise<T> {
  return withHomeRegistry(existingHome(home), actor(), work);
}

/**
 * The same for the commands that can start a registry (push, train, tune, import, token create): the
 * home is created.
 */
export function withRegistryCreatingHome<T>(
  home: string | undefined,
  work: (registry: Registry) => Promise<T>,
): Promise<T> {
  return withHomeRegistry(resolveHome(home), actor(), work);
}

/** `k=v` pairs to a record; a missing `=` is a user error. */
export function parseTags(pairs: readonly string[]): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw errors.invalidArgument(`--tag '${pair}' must look like key=value`);
    tags[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return tags;
}

/** Split `NAME`, `NAME@ALIAS`, `NAME@3`. */
export function parseRef(ref: string): { name: string; version?: string } {
  const at = ref.indexOf('@');
  if (at < 0) return { name: ref };
  const name = ref.slice(0, at);
  const version = ref.slice(at + 1);
  if (name === '' || version === '')
    throw errors.invalidArgument(`'${ref}' is not a model reference; use NAME, NAME@ALIAS or NAME@VERSION`);
  return { name, version };
}

export async function pushCommand(
  file: string,
  opts: CommonOptions & { name: string; alias: string[]; tag: string[]; description?: string },
): Promise<void> {
  const tags = parseTags(opts.tag);
  const result = await withRegistryCreatingHome(opts.home, (registry) =>
    registry.models.push(resolve(file), {
      name: opts.name,
      aliases: opts.alias,
      tags,
      ...(opts.description !== undefined ? { description: opts.description } : {}),
      createdBy: actor(),
      source: resolve(file),
    }),
  );
  if (opts.json) {
    printJson({ name: result.name, version: result.version, sha256: result.sha256 });
    return;
  }
  const aliases = opts.alias.length > 0 ? ` (aliases: ${opts.alias.join(', ')})` : '';
  process.stdout.write(
    `pushed ${result.name} version ${result.version}${aliases}\nsha256 ${result.sha256}\n`,
  );
}

export async function modelsListCommand(opts: CommonOptions): Promise<void> {
  const models = await withRegistry(opts.home, (r) => r.models.list());
  if (opts.json) return printJson(models);
  if (models.length === 0) {
    process.stdout.write('no models yet — push one with `tend push FILE --name NAME`, or run `tend demo`\n');
    return;
  }
  printTable(
    ['NAME', 'VERSIONS', 'LATEST', 'ALIASES', 'UPDATED'],
    models.map((m) => [
      m.name,
      m.version_count,
      m.latest_version,
      Object.entries(m.aliases)
        .map(([a, v]) => `${a}→${v}`)
        .join(' '),
      m.updated_at,
    ]),
  );
}

export async function modelsShowCommand(ref: string, opts: CommonOptions): Promise<void> {
  const { name, version } = parseRef(ref);
  await withRegistry(opts.home, async (r) => {
    if (version === undefined) {
      const model = await r.models.get(name);
      const versions = await r.models.listVersions(name);
      if (opts.json) return printJson({ ...model, versions });
      process.stdout.write(`${model.name}${model.description ? ` — ${model.description}` : ''}\n`);
      process.stdout.write(
        `aliases: ${
          Object.entries(model.aliases)
            .map(([a, v]) => `${a}→${v}`)
            .join(', ') || '(none)'
        }\n`,
      );
      if (Object.keys(model.tags).length > 0) process.stdout.write(`tags: ${JSON.stringify(model.tags)}\n`);
      printTable(
        ['VERSION', 'SHA256', 'SIZE', 'CREATED', 'BY', 'ALIASES'],
        versions.map((v) => [
          v.version,
          v.sha256.slice(0, 12),
          v.size_bytes,
          v.created_at,
          v.created_by,
          v.aliases.join(' '),
        ]),
      );
      return;
    }
    const v = await r.models.resolveVersion(name, version);
    if (opts.json) return printJson({ ...v, path: r.files.path(v) });
    process.stdout.write(
      `${v.name} version ${v.version}${v.aliases.length ? ` (${v.aliases.join(', ')})` : ''}\n`,
    );
    process.stdout.write(
      `sha256 ${v.sha256}, ${v.size_bytes} bytes, created ${v.created_at} by ${v.created_by}\n`,
    );
    process.stdout.write(
      `source ${v.source}${v.parent_version !== null ? `, parent version ${v.parent_version}` : ''}\n`,
    );
    printTable(
      ['', 'NAME', 'DATATYPE', 'SHAPE'],
      [
        ...v.signature.inputs.map((s) => [
          'input',
          s.name,
          s.datatype ?? s.onnx_type,
          JSON.stringify(v2Shape(s.shape)),
        ]),
        ...v.signature.outputs.map((s) => [
          'output',
          s.name,
          s.datatype ?? s.onnx_type,
          JSON.stringify(v2Shape(s.shape)),
        ]),
      ],
    );
  });
}

export async function modelsVersionsCommand(name: string, opts: CommonOptions): Promise<void> {
  const versions = await withRegistry(opts.home, (r) => r.models.listVersions(name));
  if (opts.json) return printJson(versions);
  printTable(
    ['VERSION', 'SHA256', 'SIZE', 'CREATED', 'PARENT', 'ALIASES', 'TAGS'],
    versions.map((v) => [
      v.version,
      v.sha256.slice(0, 12),
      v.size_bytes,
      v.created_at,
      v.parent_version,
      v.aliases.join(' '),
      Object.entries(v.tags)
        .map(([k, x]) => `${k}=${x}`)
        .join(' '),
    ]),
  );
}

export async function aliasSetCommand(
  name: string,
  alias: string,
  version: string,
  opts: CommonOptions,
): Promise<void> {
  if (!/^[0-9]+$/.test(version))
    throw errors.invalidArgument(`VERSION must be a version number, got '${version}'`);
  const moved = await withRegistry(opts.home, (r) =>
    r.models.setAlias(name, alias, Number(version), actor()),
  );
  if (opts.json) return printJson({ name, alias, from_version: moved.from, to_version: moved.to });
  process.stdout.write(`${name}@${alias}: ${moved.from ?? '(new)'} → ${moved.to}\n`);
}

export async function aliasRmCommand(name: string, alias: string, opts: CommonOptions): Promise<void> {
  await withRegistry(opts.home, (r) => r.models.removeAlias(name, alias, actor()));
  process.stdout.write(`removed ${name}@${alias}\n`);
}

export async function aliasHistoryCommand(name: string, alias: string, opts: CommonOptions): Promise<void> {
  const moves = await withRegistry(opts.home, (r) => r.models.aliasHistory(name, alias));
  if (opts.json) return printJson(moves);
  printTable(
    ['AT', 'ACTOR', 'FROM', 'TO'],
    moves.map((m) => [m.at, m.actor, m.from_version ?? '-', m.to_version ?? '(removed)']),
  );
}
