import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { errors } from '../core/errors.js';

/** The registry home: --home, else $TEND_HOME, else ./.tend. */
export function resolveHome(flag: string | undefined): string {
  return resolve(flag ?? process.env['TEND_HOME'] ?? '.tend');
}

/**
 * The home of a command that only reads (or changes what is already there): it must exist, so that
 * a mistyped `--home ./typo` says where it looked instead of creating an empty registry there.
 * @throws TendError TEND_NOT_FOUND naming the folder and where the path came from
 */
export function existingHome(flag: string | undefined): string {
  const home = resolveHome(flag);
  if (existsSync(home)) return home;
  const from =
    flag !== undefined
      ? '--home'
      : process.env['TEND_HOME'] !== undefined
        ? '$TEND_HOME'
        : 'the default ./.tend';
  throw errors.notFound(
    `no registry at ${home} (from ${from}) — check the path, or start one with \`tend push FILE --name NAME\` or \`tend demo\``,
  );
}
