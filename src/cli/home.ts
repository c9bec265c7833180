import { resolve } from 'node:path';

/** The registry home: --home, else $TEND_HOME, else ./.tend. */
export function resolveHome(flag: string | undefined): string {
  return resolve(flag ?? process.env['TEND_HOME'] ?? '.tend');
}
