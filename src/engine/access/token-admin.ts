/**
 * API tokens and the audit log as the admin API manages them: list, create (the secret is shown
 * once), revoke, and read the audit log. The registry stores both; the access control of a server
 * applies a change at its next refresh.
 */
import type { AuditQuery, AuditRecord, Registry, TokenRecord } from '../../registry/index.js';
import { createApiToken, type CreatedToken } from './api-tokens.js';

export class TokenAdmin {
  constructor(private readonly registry: Registry) {}

  /** Every token (never its secret). */
  list(): Promise<TokenRecord[]> {
    return this.registry.tokens.list();
  }

  /** A new token for `scopes` (comma-separated) on `models` (comma-separated globs; all when absent). */
  create(input: { name: string; scopes: string; models?: string | undefined }): Promise<CreatedToken> {
    return createApiToken(this.registry, input);
  }

  /** Revoke a token by id (audited by the registry). */
  revoke(id: string): Promise<TokenRecord> {
    return this.registry.tokens.revoke(id);
  }

  /** Entries of the audit log, newest first, filtered by `query`. */
  auditLog(query: AuditQuery = {}): Promise<AuditRecord[]> {
    return this.registry.audit.list(query);
  }
}
