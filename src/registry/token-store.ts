/**
 * API tokens in the registry database (security-schema.ts). The caller makes the token and its id
 * and hands over only the SHA-256: the token itself is never stored, and records never carry the hash.
 */

export interface TokenRecord {
  id: string;
  name: string;
  /** Scope names, e.g. ['infer', 'read']. */
  scopes: string[];
  /** Model-name globs the token is limited to; null for every model. */
  models: string[] | null;
  created_at: string;
  created_by: string;
  revoked_at: string | null;
  revoked_by: string | null;
  /** Updated at most once a minute (see touchToken). */
  last_used_at: string | null;
}

export interface NewToken {
  /** 1-32 of [A-Za-z0-9_-]. */
  id: string;
  /** 1-64 of [A-Za-z0-9._-], unique among tokens not revoked. */
  name: string;
  /** 64 lower-case hex digits. */
  tokenSha256: string;
  scopes: string[];
  models: string[] | null;
  createdBy: string;
}

export interface TokenStore {
  /** @throws TendError TEND_INVALID_ARGUMENT, TEND_CONFLICT (name in use by a live token, id or hash taken) */
  createToken(input: NewToken): Promise<TokenRecord>;
  /** Every token, revoked ones included, oldest first. */
  listTokens(): Promise<TokenRecord[]>;
  /** Every token with its hash: for the server's in-memory check of each request, never for display. */
  listTokensWithHashes(): Promise<(TokenRecord & { token_sha256: string })[]>;
  /** The token with this SHA-256 (revoked ones too: check revoked_at), or null. */
  findTokenByHash(sha256: string): Promise<TokenRecord | null>;
  /** @throws TendError TEND_NOT_FOUND, TEND_CONFLICT (already revoked) */
  revokeToken(id: string, by: string): Promise<TokenRecord>;
  /** Record a use; writes only when the stored time is a minute older or more. True when written. */
  touchToken(id: string, at: Date): Promise<boolean>;
}
