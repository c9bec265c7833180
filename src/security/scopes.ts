/**
 * What a token may do: its scopes, and optionally the models it may touch.
 *
 * Scopes: `read` (metadata, stats, metrics, monitor, dashboard data), `infer` (infer, explain),
 * `feedback` (ground truth), `deploy` (load/unload, deployments, aliases, learn, optimize, train),
 * `admin` (tokens, audit). Implications, decided once here:
 *   - `admin` implies every scope: an administrator who can mint any token can act as any token anyway,
 *     so refusing them would only add friction, not safety.
 *   - `deploy` implies `read`: changing what serves without being able to see what serves is useless.
 *   - nothing else implies anything (`infer` does not grant `read`: a client app sees only its answers).
 *
 * Model globs (`fraud-*`, `model-?`) limit a token to the models whose name matches one of them; no globs
 * means every model. Globs know only `*` (any run, also empty) and `?` (one character), match the
 * whole name, and are matched by hand rather than compiled into a RegExp, so no input can inject a pattern.
 */
import { errors } from '../core/errors.js';
import { MAX_MODEL_GLOBS } from '../core/input-limits.js';

export const SCOPES = ['read', 'infer', 'feedback', 'deploy', 'admin'] as const;

export type Scope = (typeof SCOPES)[number];

const IMPLIED: Record<Scope, readonly Scope[]> = {
  read: [],
  infer: [],
  feedback: [],
  deploy: ['read'],
  admin: SCOPES,
};

/** Model names as the registry accepts them: a glob can never grant a name outside this alphabet. */
const MODEL_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const MODEL_GLOB = /^[A-Za-z0-9_.*?-]{1,128}$/;
/** Unknown words are echoed only when they look like a misspelt scope, never when they could be a secret. */
const SCOPE_LIKE = /^[A-Za-z][A-Za-z_-]{0,23}$/;

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/**
 * Parse a comma-separated scope list (`read,infer`); duplicates collapse, order follows SCOPES.
 * @example parseScopes('infer, read') // ['read', 'infer']
 */
export function parseScopes(text: string): Scope[] {
  const words = text.split(',').map((w) => w.trim());
  if (words.every((w) => w === '')) {
    throw errors.invalidArgument(`no scopes given; valid scopes: ${SCOPES.join(', ')}`);
  }
  const found = new Set<Scope>();
  for (const word of words) {
    if (word === '')
      throw errors.invalidArgument(`empty scope in the list; valid scopes: ${SCOPES.join(', ')}`);
    const lower = word.toLowerCase();
    if (!isScope(lower)) {
      const shown = SCOPE_LIKE.test(word) && !word.startsWith('tend_') ? `'${word}'` : '(value not shown)';
      throw errors.invalidArgument(`unknown scope ${shown}; valid scopes: ${SCOPES.join(', ')}`);
    }
    found.add(lower);
  }
  return SCOPES.filter((s) => found.has(s));
}

/** True when holding `held` allows an action that needs `needed` (with the implications above). */
export function grants(held: readonly Scope[], needed: Scope): boolean {
  return held.some((scope) => scope === needed || IMPLIED[scope].includes(needed));
}

/**
 * Parse a comma-separated list of model globs (`fraud-*,churn`); empty text means every model (null).
 * @example parseModelGlobs('fraud-*, churn') // ['fraud-*', 'churn']
 */
export function parseModelGlobs(text: string): string[] | null {
  const globs = text
    .split(',')
    .map((g) => g.trim())
    .filter((g) => g !== '');
  if (globs.length === 0) return null;
  if (globs.length > MAX_MODEL_GLOBS)
    throw errors.invalidArgument(`${globs.length} model globs; the limit is ${MAX_MODEL_GLOBS}`);
  for (const glob of globs) {
    if (!MODEL_GLOB.test(glob)) {
      throw errors.invalidArgument(
        `invalid model glob ${glob.length < 32 && !glob.startsWith('tend_') ? `'${glob}'` : '(value not shown)'}: use 1-128 of A-Z a-z 0-9 _ . - with * (any run) and ? (one character)`,
      );
    }
  }
  return [...new Set(globs)];
}

/**
 * True when `model` may be used under `globs` (null or empty: every model). A restricted token never
 * matches a name the registry would refuse (`../x`, `a/b`), whatever its globs.
 */
export function modelGlobMatches(globs: readonly string[] | null, model: string): boolean {
  if (globs === null || globs.length === 0) return true;
  if (!MODEL_NAME.test(model) || model.includes('..')) return false;
  return globs.some((glob) => globMatches(glob, model));
}

/** Wildcard match of the whole text, linear backtracking on the last `*` (O(glob × text) at worst). */
function globMatches(glob: string, text: string): boolean {
  let g = 0;
  let t = 0;
  let starAt = -1; // position in glob just after the last `*` seen
  let starText = 0; // where in text that `*` currently ends
  while (t < text.length) {
    const c = glob[g];
    if (c === '*') {
      starAt = ++g;
      starText = t;
    } else if (c !== undefined && (c === '?' || c === text[t])) {
      g++;
      t++;
    } else if (starAt >= 0) {
      g = starAt;
      t = ++starText;
    } else {
      return false;
    }
  }
  while (glob[g] === '*') g++;
  return g === glob.length;
}
