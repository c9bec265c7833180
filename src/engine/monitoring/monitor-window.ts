/**
 * The window of logged rows a monitor query or an alert rule covers: a duration back from now
 * (`window=1h`) or the last N rows (`last=1000`).
 */
import { parseDuration } from '../../core/duration.js';
import { errors } from '../../core/errors.js';

/** A window as the API and the rules name it. */
export interface WindowSpec {
  sinceMs?: number;
  last?: number;
  text: string;
}

/** Parse `window=1h` / `last=1000` query values (none: the last `defaultLast` rows). */
export function parseWindow(
  window: string | undefined,
  last: string | undefined,
  defaultLast: number,
  now = Date.now(),
): WindowSpec {
  if (window !== undefined && last !== undefined)
    throw errors.invalidArgument('give either window or last, not both');
  if (window !== undefined) {
    const ms = parseDuration(window, { what: 'window', minMs: 1 });
    return { sinceMs: now - ms, text: window };
  }
  if (last !== undefined) {
    if (!/^[1-9][0-9]{0,6}$/.test(last))
      throw errors.invalidArgument(`last '${last}' must be a whole number from 1 to 9999999`);
    return { last: Number(last), text: `last ${last}` };
  }
  return { last: defaultLast, text: `last ${defaultLast}` };
}
