/** `tend token create|list|revoke` and the admin API: tokens are shown once, stored as their SHA-256. */
import type { Registry, TokenRecord } from '../../registry/index.js';
import {
  generateToken,
  generateTokenId,
  hashToken,
  parseModelGlobs,
  parseScopes,
} from '../../security/index.js';

export interface CreatedToken {
  id: string;
  /** The only time the token is shown. */
  token: string;
  name: string;
  scopes: string[];
  models: string[] | null;
}

/**
 * Create a token with `scopes` (comma list) limited to `models` (comma list of globs, optional). @throws
 * TEND_INVALID_ARGUMENT, TEND_CONFLICT
 */
export async function createApiToken(
  registry: Registry,
  input: { name: string; scopes: string; models?: string | undefined; createdBy?: string },
): Promise<CreatedToken> {
  const scopes = parseScopes(input.scopes);
  const models = input.models === undefined ? null : parseModelGlobs(input.models);
  const token = generateToken();
  const record = await registry.tokens.create({
    id: generateTokenId(),
    name: input.name,
    tokenSha256: hashToken(token),
    scopes,
    models,
    ...(input.createdBy !== undefined ? { createdBy: input.createdBy } : {}),
  });
  return { id: record.id, token, name: record.name, scopes: record.scopes, models: record.models };
}

export type { TokenRecord };
