/**
 * `tend log delete REF --ids FILE | --before DATE | --where FEATURE=VALUE`: forget logged predictions
 * (privacy) on the registry home, through the same engine call as `DELETE /api/v1/prediction-log`;
 * audited as the OS user (or $TEND_ACTOR), source `cli`.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { resolveServerConfig } from '../../core/config.js';
import { errors } from '../../core/errors.js';
import { runWithContext } from '../../core/request-context.js';
import { Engine, parseWhere, type LogDeleteRequest } from '../../engine/index.js';
import { resolveHome } from '../home.js';
import { printJson } from '../output.js';
import { actor, parseRef } from './registry.js';

export interface LogDeleteOptions {
  home?: string;
  config?: string;
  json?: boolean;
  ids?: string;
  before?: string;
  where?: string;
}

/** Request ids from a file: one per line; blank lines and lines starting with # are skipped. */
export function readIdsFile(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(resolve(file), 'utf8');
  } catch (err) {
    throw errors.notFound(`cannot read ${resolve(file)}: ${(err as Error).message}`);
  }
  const ids = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  if (ids.length === 0)
    throw errors.invalidArgument(`${resolve(file)} holds no request id (one per line) — nothing was deleted`);
  return ids;
}

/** Build the request from the flags; a call with no selector is refused before the home is opened. */
export function logDeleteRequest(ref: string, opts: LogDeleteOptions): LogDeleteRequest {
  const { name, version } = parseRef(ref);
  if (opts.ids === undefined && opts.before === undefined && opts.where === undefined)
    throw errors.invalidArgument(
      'say what to delete: --ids FILE, --before DATE or --where FEATURE=VALUE — nothing was deleted',
    );
  const request: LogDeleteRequest = { model: name };
  if (version !== undefined) {
    if (!/^[1-9][0-9]*$/.test(version))
      throw errors.invalidArgument(`'${ref}': give a version number (NAME@3) or none for every version`);
    request.version = Number(version);
  }
  if (opts.ids !== undefined) request.ids = readIdsFile(opts.ids);
  if (opts.before !== undefined) request.before = opts.before;
  if (opts.where !== undefined) request.where = parseWhere(opts.where);
  return request;
}

export async function logDeleteCommand(ref: string, opts: LogDeleteOptions): Promise<void> {
  const request = logDeleteRequest(ref, opts);
  const config = resolveServerConfig({ file: opts.config, flags: { home: opts.home, logLevel: 'silent' } });
  const engine = await Engine.open({ home: resolveHome(opts.home ?? config.home), config, monitoring: true });
  let result;
  try {
    result = await runWithContext({ actor: actor(), source: 'cli' }, () =>
      engine.monitoring.deleteLogged(request),
    );
  } finally {
    await engine.close();
  }
  if (opts.json) return printJson(result);
  process.stdout.write(
    `${result.deleted} logged prediction(s) of ${request.model} deleted (${result.with_feedback} with feedback); ` +
      `${result.reclaimed ? 'space reclaimed' : 'space reclaimed at the next checkpoint (a reader held the WAL)'}\n`,
  );
}
