/**
 * Who is calling: bearer tokens from the registry database (`tend token create`) and from a tokens
 * file (`TEND_TOKENS_FILE`, for containers and Kubernetes Secrets), checked against the access table
 * of src/security/access-policy.ts by the HTTP and gRPC frontends.
 *
 * A request whose Authorization header was seen since the last refresh finds its token in a map; a new
 * header is parsed, hashed (SHA-256, ~1 µs) and the hash looked up in memory; the database is
 * read again at most once a second per unknown hash and the token set is refreshed every second, so a
 * token created or revoked by another process (the CLI) takes effect within about a second, and one
 * created or revoked through this server's API at once.
 */
import { readFileSync } from 'node:fs';
import { errors, TendError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { Registry } from '../../registry/index.js';
import {
  decideAccess,
  hashToken,
  parseAuthorizationHeader,
  parseTokensFile,
  requiredAccess,
  requiredGrpcAccess,
  type RequiredAccess,
  type Scope,
} from '../../security/index.js';

/** The identity behind a request: a token, or nobody (auth off, or a public route). */
export interface Caller {
  /** Token id, 'anonymous' when auth is off. */
  id: string;
  name: string;
  scopes: readonly Scope[];
  models: readonly string[] | null;
}

export const ANONYMOUS: Caller = { id: 'anonymous', name: 'anonymous', scopes: ['admin'], models: null };

const REFRESH_MS = 1000;
const ADMIN_ONLY: RequiredAccess = { scope: 'admin' };
const HEADER_CACHE_SIZE = 1024;
const TOUCH_EVERY_MS = 60_000;

interface KnownToken extends Caller {
  revoked: boolean;
}

export type AccessOutcome = { ok: true; caller: Caller } | { ok: false; error: TendError };

export class AccessControl {
  private readonly byHash = new Map<string, KnownToken>();
  /** Authorization header → token, for headers seen since the last refresh (cleared by it, so revocations apply). */
  private readonly byHeader = new Map<string, KnownToken>();
  private readonly fileTokens = new Map<string, KnownToken>();
  private readonly fileTokenIds = new Set<string>();
  private readonly touchedAt = new Map<string, number>();
  private databaseTokens = 0;
  private refreshedAt = 0;
  private refreshing: Promise<void> | null = null;

  private constructor(
    private readonly registry: Registry,
    private readonly logger: Logger,
  ) {}

  /** Read the database tokens and the tokens file (`tokensFile`, else $TEND_TOKENS_FILE). */
  static async open(registry: Registry, logger: Logger, tokensFile?: string): Promise<AccessControl> {
    const control = new AccessControl(registry, logger);
    const file = tokensFile ?? process.env['TEND_TOKENS_FILE'];
    if (file !== undefined && file !== '') {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw errors.invalidConfig(`cannot read the tokens file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      for (const t of parseTokensFile(text, file)) {
        control.fileTokens.set(t.tokenHash, { id: t.id, name: t.name, scopes: t.scopes, models: t.models, revoked: false });
        control.fileTokenIds.add(t.id);
      }
    }
    await control.refresh();
    return control;
  }

  /** True when any token exists: then every non-public call needs one. */
  get enabled(): boolean {
    this.maybeRefresh();
    return this.fileTokens.size > 0 || this.databaseTokens > 0;
  }

  /** Check one HTTP call: method, Fastify route pattern, Authorization header, route parameters. */
  checkHttp(method: string, routePattern: string | undefined, authorization: string | undefined, param: (name: string) => string | undefined): Promise<AccessOutcome> | AccessOutcome {
    // A route missing from the table needs admin, so nothing becomes public by accident.
    const access = (routePattern === undefined ? undefined : requiredAccess(method, routePattern)) ?? ADMIN_ONLY;
    return this.check(access, authorization, access.modelParam === undefined ? undefined : param(access.modelParam));
  }

  /** Check one gRPC call by method name, with its `authorization` metadata and the model it names. */
  checkGrpc(method: string, authorization: string | undefined, model: string | undefined): Promise<AccessOutcome> | AccessOutcome {
    return this.check(requiredGrpcAccess(method) ?? ADMIN_ONLY, authorization, model);
  }

  /** The access a route needs (admin when it is not in the table). */
  static httpAccess(method: string, routePattern: string | undefined): RequiredAccess {
    return (routePattern === undefined ? undefined : requiredAccess(method, routePattern)) ?? ADMIN_ONLY;
  }

  /** Check one call needing `access`, with its Authorization header and the model it names. */
  check(access: RequiredAccess, authorization: string | undefined, model: string | undefined): Promise<AccessOutcome> | AccessOutcome {
    if (access.scope === 'public' || !this.enabled) return { ok: true, caller: ANONYMOUS };
    // Clients send the same header again and again: skip parsing and hashing for the ones seen since the last refresh.
    const seen = authorization === undefined ? undefined : this.byHeader.get(authorization);
    if (seen !== undefined) return this.decide(access, seen, model);
    const token = parseAuthorizationHeader(authorization);
    if (token === 'malformed') return refuse(401, 'malformed Authorization header; send "Authorization: Bearer <token>"');
    if (token === null) return refuse(401, 'a token is required: send "Authorization: Bearer <token>" (tend token create)');
    const hash = hashToken(token);
    const known = this.fileTokens.get(hash) ?? this.byHash.get(hash);
    if (known !== undefined) {
      this.remember(authorization as string, known);
      return this.decide(access, known, model);
    }
    return this.lookUp(hash).then((found) => {
      if (found === undefined) return refuse(401, 'invalid token');
      this.remember(authorization as string, found);
      return this.decide(access, found, model);
    });
  }

  /** Decide, and note when a database token was last used (written at most once a minute per token). */
  private decide(access: RequiredAccess, token: KnownToken, model: string | undefined): AccessOutcome {
    const outcome = decideFor(access, token, model);
    if (outcome.ok && !this.fileTokenIds.has(token.id)) {
      const now = Date.now();
      if (now - (this.touchedAt.get(token.id) ?? 0) >= TOUCH_EVERY_MS) {
        this.touchedAt.set(token.id, now);
        void this.registry.touchToken(token.id, new Date(now)).catch((err: unknown) => this.logger.warn({ err: (err as Error).message }, 'recording when a token was used failed'));
      }
    }
    return outcome;
  }

  private remember(header: string, token: KnownToken): void {
    if (this.byHeader.size >= HEADER_CACHE_SIZE) this.byHeader.clear();
    this.byHeader.set(header, token);
  }

  /** A hash not in memory: maybe created since the last refresh. */
  private async lookUp(hash: string): Promise<KnownToken | undefined> {
    const record = await this.registry.findTokenByHash(hash);
    if (record === null) return undefined;
    const known: KnownToken = { id: record.id, name: record.name, scopes: record.scopes as Scope[], models: record.models, revoked: record.revoked_at !== null };
    this.byHash.set(hash, known);
    return known;
  }

  private maybeRefresh(): void {
    if (Date.now() - this.refreshedAt < REFRESH_MS || this.refreshing !== null) return;
    this.refresh().catch((err: unknown) => this.logger.warn({ err: (err as Error).message }, 'reading the API tokens failed; keeping the last known set'));
  }

  /**
   * Reload every database token (revocations included). One read at a time: a read begun before a
   * revocation must not land after the read that follows it and bring the token back.
   */
  async refresh(): Promise<void> {
    while (this.refreshing !== null) await this.refreshing;
    const run = this.load();
    const settled: Promise<void> = run.then(
      () => undefined,
      () => undefined,
    ).then(() => {
      if (this.refreshing === settled) this.refreshing = null;
    });
    this.refreshing = settled;
    return run;
  }

  private async load(): Promise<void> {
    const records = await this.registry.listTokensWithHashes();
    this.byHash.clear();
    let active = 0;
    for (const r of records) {
      const revoked = r.revoked_at !== null;
      if (!revoked) active += 1;
      this.byHash.set(r.token_sha256, { id: r.id, name: r.name, scopes: r.scopes as Scope[], models: r.models, revoked });
    }
    this.databaseTokens = active;
    this.byHeader.clear();
    this.refreshedAt = Date.now();
  }
}

function refuse(status: 401 | 403, message: string): AccessOutcome {
  return { ok: false, error: new TendError(status === 401 ? 'TEND_UNAUTHORIZED' : 'TEND_FORBIDDEN', message) };
}

function decideFor(access: RequiredAccess, token: KnownToken, model: string | undefined): AccessOutcome {
  if (token.revoked) return refuse(401, `token ${token.id} has been revoked`);
  const decision = decideAccess(access, token, model);
  if (!decision.ok) return refuse(decision.status, `${decision.reason} (token ${token.id})`);
  return { ok: true, caller: token };
}
