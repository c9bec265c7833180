/**
 * API tokens: minting, hashing, reading them from the `Authorization` header and from a tokens file.
 *
 * A token is `tend_` + 32 random bytes in base64url (256 bits): shown once, stored only as its SHA-256.
 * A plain hash (no salt, no slow KDF) is enough because the input is uniformly random, and it lets the
 * server find a token by one indexed lookup. Tokens written by hand into a tokens file (a Kubernetes
 * Secret) need not have the prefix but must be at least 32 characters of the RFC 6750 token alphabet.
 *
 * No error raised here ever contains a token: messages name the line or the rule, not the value.
 */
import { createHash, randomBytes } from 'node:crypto';
import { TendError, errors } from '../core/errors.js';
import { parseModelGlobs, parseScopes, type Scope } from './scopes.js';

export const TOKEN_PREFIX = 'tend_';
const TOKEN_BYTES = 32;
/** Shorter hand-written tokens are refused: 32 characters of hex are still 128 bits. */
export const MIN_TOKEN_LENGTH = 32;
const MAX_HEADER_LENGTH = 512;
/** RFC 6750 `b64token`; also keeps `:` out, so tokens never collide with the file's separator. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const BEARER = /^bearer ([^ ]+)$/i;
const TOKEN_ID = /^[0-9a-f]{12}$/;
const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** A token as a tokens file declares it (the token itself is kept only as its hash). */
export interface ProvisionedToken {
  /** Stable across restarts (derived from the hash), so limits and audit lines follow the token. */
  id: string;
  name: string;
  scopes: Scope[];
  /** Model globs; null: every model. */
  models: string[] | null;
  tokenHash: string;
}

/** A fresh token: `tend_` + 43 base64url characters (32 random bytes). */
export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(TOKEN_BYTES).toString('base64url');
}

/** SHA-256 of the token, lowercase hex: what the database stores and looks tokens up by. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A random token id: 12 lowercase hex characters, safe to show in lists, logs and audit lines. */
export function generateTokenId(): string {
  return randomBytes(6).toString('hex');
}

/**
 * The id of a token known only by its hash (tokens file): the same token always gets the same id.
 * Domain-separated, so an id never reveals a prefix of the stored hash.
 */
export function deriveTokenId(tokenHash: string): string {
  return createHash('sha256').update(`tend-token-id-v1\n${tokenHash}`).digest('hex').slice(0, 12);
}

export function isTokenId(value: string): boolean {
  return TOKEN_ID.test(value);
}

/** True when `token` has a shape a client could send: the b64token alphabet, 32 to 512 characters. */
export function isWellFormedToken(token: string): boolean {
  return token.length >= MIN_TOKEN_LENGTH && token.length <= MAX_HEADER_LENGTH && B64TOKEN.test(token);
}

/**
 * The bearer token of an `Authorization` header: null when there is no header, 'malformed' for
 * anything but exactly `Bearer <token>` (any case of `Bearer`, one space, printable token characters).
 * @example parseAuthorizationHeader('Bearer tend_abc') // 'tend_abc'
 */
export function parseAuthorizationHeader(value: string | undefined): string | null | 'malformed' {
  if (value === undefined) return null;
  if (value.length === 0 || value.length > MAX_HEADER_LENGTH) return 'malformed';
  const match = BEARER.exec(value);
  const token = match?.[1];
  if (token === undefined || !B64TOKEN.test(token)) return 'malformed';
  return token;
}

/**
 * Read a tokens file: one `name:scopes:token` per line, optionally `:models=glob1,glob2`; `#` starts a
 * comment line, blank lines are skipped. Errors are TEND_INVALID_CONFIG naming `source` and the line.
 * @example parseTokensFile('ci:deploy:' + token + ':models=fraud-*', 'TEND_TOKENS_FILE')
 */
export function parseTokensFile(text: string, source: string): ProvisionedToken[] {
  const tokens: ProvisionedToken[] = [];
  // Name and hash → line, to name the earlier line rather than echo a value that might be a secret.
  const names = new Map<string, number>();
  const hashes = new Map<string, number>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (line === '' || line.startsWith('#')) continue;
    const fail = (what: string) => errors.invalidConfig(`${source} line ${i + 1}: ${what}`);
    const fields = line.split(':').map((f) => f.trim());
    if (fields.length < 3 || fields.length > 4) {
      throw fail(
        `expected name:scopes:token or name:scopes:token:models=glob,glob (found ${fields.length} field(s))`,
      );
    }
    const [name = '', scopeText = '', token = '', modelsField] = fields;
    if (!TOKEN_NAME.test(name))
      throw fail('invalid token name: use 1-64 of A-Z a-z 0-9 _ . - (starting with a letter or digit)');
    let scopes: Scope[];
    try {
      scopes = parseScopes(scopeText);
    } catch (err) {
      throw fail(err instanceof TendError ? err.message : 'invalid scopes');
    }
    if (!isWellFormedToken(token)) {
      throw fail(
        `the token must be ${MIN_TOKEN_LENGTH} to ${MAX_HEADER_LENGTH} characters of A-Z a-z 0-9 - . _ ~ + / (then = padding); generate one with 'tend token create' or 'openssl rand -hex 32'`,
      );
    }
    let models: string[] | null = null;
    if (modelsField !== undefined) {
      if (!modelsField.startsWith('models=')) throw fail('the 4th field must be models=glob,glob');
      try {
        models = parseModelGlobs(modelsField.slice('models='.length));
      } catch (err) {
        throw fail(err instanceof TendError ? err.message : 'invalid model globs');
      }
    }
    const tokenHash = hashToken(token);
    const nameLine = names.get(name);
    if (nameLine !== undefined) throw fail(`the token name is already used on line ${nameLine}`);
    const hashLine = hashes.get(tokenHash);
    if (hashLine !== undefined) throw fail(`the token already appears on line ${hashLine}`);
    names.set(name, i + 1);
    hashes.set(tokenHash, i + 1);
    tokens.push({ id: deriveTokenId(tokenHash), name, scopes, models, tokenHash });
  }
  return tokens;
}
