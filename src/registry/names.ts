/** The rules for model names, alias names and version references, shared by every store. */
import { errors } from '../core/errors.js';
import { MAX_ALIAS_LENGTH, MAX_MODEL_NAME_LENGTH, tooLong } from '../core/input-limits.js';

const MODEL_NAME = new RegExp(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,${MAX_MODEL_NAME_LENGTH - 1}}$`);
const ALIAS_NAME = new RegExp(`^[A-Za-z][A-Za-z0-9_-]{0,${MAX_ALIAS_LENGTH - 1}}$`);

/** The word that always means the highest version; no alias may take it. */
export const LATEST = 'latest';

/** True for a valid model name: 1-128 of [A-Za-z0-9_.-], not starting with '.' or '-', no '..'. */
export function isValidModelName(name: string): boolean {
  return MODEL_NAME.test(name) && !name.includes('..');
}

/** @throws TendError TEND_INVALID_ARGUMENT when the name breaks the rules of isValidModelName. */
export function assertModelName(name: string): void {
  // A name far over the limit is not echoed back in the message.
  if (typeof name === 'string' && name.length > MAX_MODEL_NAME_LENGTH)
    throw errors.invalidArgument(tooLong('model name', name, MAX_MODEL_NAME_LENGTH).message);
  if (typeof name !== 'string' || !isValidModelName(name)) {
    throw errors.invalidArgument(
      `invalid model name '${String(name)}': use 1-128 letters, digits, '_', '.' or '-', ` +
        `not starting with '.' or '-' and without '..'`,
    );
  }
}

function looksLikeNumber(alias: string): boolean {
  // 'e5' is not a number, but 'Infinity' and 'NaN' are what Number() would make of a ref.
  return !Number.isNaN(Number(alias)) || /^(nan|inf|infinity)$/i.test(alias);
}

/** True for an alias a user may set: [A-Za-z][A-Za-z0-9_-]{0,63}, not number-like, not 'latest'. */
export function isValidAliasName(alias: string): boolean {
  return ALIAS_NAME.test(alias) && !looksLikeNumber(alias) && alias.toLowerCase() !== LATEST;
}

/** @throws TendError TEND_INVALID_ARGUMENT when the alias cannot be set. */
export function assertAliasName(alias: string): void {
  if (typeof alias === 'string' && alias.length > MAX_ALIAS_LENGTH)
    throw errors.invalidArgument(tooLong('alias', alias, MAX_ALIAS_LENGTH).message);
  if (typeof alias !== 'string' || !ALIAS_NAME.test(alias)) {
    throw errors.invalidArgument(
      `invalid alias '${String(alias)}': start with a letter, then up to 63 letters, digits, '_' or '-'`,
    );
  }
  if (alias.toLowerCase() === LATEST) {
    throw errors.invalidArgument(`'${alias}' is reserved: it always means the highest version`);
  }
  if (looksLikeNumber(alias)) {
    throw errors.invalidArgument(`invalid alias '${alias}': it would be read as a version number`);
  }
}

/** @throws TendError TEND_INVALID_ARGUMENT unless the version is a positive safe integer. */
export function assertVersionNumber(version: number): void {
  if (!Number.isSafeInteger(version) || version < 1) {
    throw errors.invalidArgument(`invalid version '${String(version)}': versions are positive integers`);
  }
}

export type VersionRef =
  { kind: 'number'; version: number } | { kind: 'latest' } | { kind: 'alias'; alias: string };

/**
 * Read a version reference: digits are a version number, `latest` the highest version, anything
 * else with alias syntax an alias.
 * @throws TendError TEND_INVALID_ARGUMENT for anything else ('', '1.5', 'a b').
 * @example parseVersionRef('3') // { kind: 'number', version: 3 }
 */
export function parseVersionRef(ref: string): VersionRef {
  if (/^[0-9]+$/.test(ref)) return { kind: 'number', version: Number(ref) };
  if (ref.toLowerCase() === LATEST) return { kind: 'latest' };
  if (ALIAS_NAME.test(ref)) return { kind: 'alias', alias: ref };
  if (ref.length > MAX_ALIAS_LENGTH)
    throw errors.invalidArgument(tooLong('version reference', ref, MAX_ALIAS_LENGTH).message);
  throw errors.invalidArgument(`'${ref}' is neither a version number, '${LATEST}' nor an alias name`);
}

/** @throws TendError TEND_INVALID_ARGUMENT unless tags is a plain object of non-empty keys to strings. */
export function assertTags(tags: Record<string, string>): void {
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) {
    throw errors.invalidArgument('tags must be an object of strings (key=value)');
  }
  for (const [key, value] of Object.entries(tags)) {
    if (key === '' || key.length > 128)
      throw errors.invalidArgument(
        `invalid tag key '${key.slice(0, 128)}${key.length > 128 ? '…' : ''}': use 1-128 characters`,
      );
    if (typeof value !== 'string')
      throw errors.invalidArgument(`tag '${key}' must be a string, not ${typeof value}`);
  }
}
