/** `registry.tokens`: API tokens by their SHA-256 (never the token); creation and revocation are audited. */
import type { AuditTrail } from './audit-trail.js';
import type { NewToken, TokenRecord, TokenStore } from './token-store.js';

/** API tokens of the registry. */
export class RegistryTokens {
  constructor(
    private readonly store: TokenStore,
    private readonly trail: AuditTrail,
  ) {}

  /**
   * Store a token's SHA-256 with its scopes (the token itself is never stored). @throws TendError
   * TEND_INVALID_ARGUMENT, TEND_CONFLICT
   */
  create(input: Omit<NewToken, 'createdBy'> & { createdBy?: string }): Promise<TokenRecord> {
    return this.trail.audited(
      'token.create',
      input.id,
      () => this.store.createToken({ ...input, createdBy: input.createdBy ?? this.trail.actorNow() }),
      (t) => ({ after: { name: t.name, scopes: t.scopes, models: t.models } }),
    );
  }

  /** Every token (revoked ones included), oldest first; never their hashes. */
  list(): Promise<TokenRecord[]> {
    return this.store.listTokens();
  }

  /** Every token with its hash, for the server's in-memory check of each request; never for display. */
  listWithHashes(): Promise<(TokenRecord & { token_sha256: string })[]> {
    return this.store.listTokensWithHashes();
  }

  /** The token with this SHA-256, revoked or not, or null. */
  findByHash(sha256: string): Promise<TokenRecord | null> {
    return this.store.findTokenByHash(sha256);
  }

  /** @throws TendError TEND_NOT_FOUND, TEND_CONFLICT (already revoked) */
  revoke(id: string, by?: string): Promise<TokenRecord> {
    return this.trail.audited('token.revoke', id, () =>
      this.store.revokeToken(id, by ?? this.trail.actorNow()),
    );
  }

  /** Record a token's use (written at most once a minute); true when written. */
  touch(id: string, at: Date = new Date()): Promise<boolean> {
    return this.store.touchToken(id, at);
  }
}
