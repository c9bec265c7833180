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
 *
 * Authentication is a latch, never derived from the token count at request time: it turns on when a
 * token becomes active (at start, or later) or when the server is told to require it (a non-loopback
 * host), and stays on until the process ends. Revoking the last token leaves every protected call
 * refused with 401 — a server must not open up because an operator revoked a leaked token. Turning
 * authentication off takes a restart on loopback with no token, or with `--insecure-no-auth`.
 */
import { readFileSync } from 'node:fs';
import { type TendError, errors, FIX_IN_MESSAGE } from '../../core/errors.js';
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

/** A refusal names the token when one was recognised (revoked, or lacking a scope), for the audit log. */
export type AccessOutcome = { ok: true; caller: Caller } | { ok: false; error: TendError; tokenId?: string };

/** Refused management calls recorded in the audit log per second, at most; the rest are counted. */
const REFUSALS_AUDITED_PER_SECOND = 20;

export class AccessControl {
  private readonly byHash = new Map<string, KnownToken>();
  /** Authorization header → token, for headers seen since the last refresh (cleared by it, so revocations apply). */
  private readonly byHeader = new Map<string, KnownToken>();
  private readonly fileTokens = new Map<string, KnownToken>();
  private readonly fileTokenIds = new Set<string>();
  private readonly touchedAt = new Map<string, number>();
  private databaseTokens = 0;
  /** The latch: true once a token was active or authentication was required; never false again. */
  private authOn = false;
  private refreshedAt = 0;
  private refusalWindowStartedAt = 0;
  private refusalsInWindow = 0;
  private refusalsNotRecorded = 0;
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
        throw errors.invalidConfig(
          `cannot read the tokens file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        );
      }
      for (const t of parseTokensFile(text, file)) {
        control.fileTokens.set(t.tokenHash, {
          id: t.id,
          name: t.name,
          scopes: t.scopes,
          models: t.models,
          revoked: false,
        });
        control.fileTokenIds.add(t.id);
      }
      // A tokens file asks for authentication even when it lists no token yet.
      control.authOn = true;
    }
    await control.refresh();
    return control;
  }

  /** True once authentication is on: then every non-public call needs an active token, until the process ends. */
  get enabled(): boolean {
    this.maybeRefresh();
    return this.authOn;
  }

  /** Tokens that can authenticate now (database and tokens file). Zero with auth on refuses every protected call. */
  get activeTokens(): number {
    return this.fileTokens.size + this.databaseTokens;
  }

  /**
   * Test and benchmark servers only (TEND_FAULT_INJECTION=1, see server/http/fault-routes.ts): switch
   * authentication off again once no token is active, as a restart would. Refused while any token is.
   */
  clearLatchWhenNoTokenIsActive(): void {
    if (this.activeTokens > 0)
      throw errors.conflict(
        `${this.activeTokens} token(s) are still active; revoke them first`,
        FIX_IN_MESSAGE,
      );
    this.authOn = false;
  }

  /** Require a token on every protected call from now on, whatever the token count (a non-loopback host). */
  requireAuthentication(): void {
    this.authOn = true;
  }

  /** Check one HTTP call: method, Fastify route pattern, Authorization header, route parameters. */
  checkHttp(
    method: string,
    routePattern: string | undefined,
    authorization: string | undefined,
    param: (name: string) => string | undefined,
  ): Promise<AccessOutcome> | AccessOutcome {
    // A route missing from the table needs admin, so nothing becomes public by accident.
    const access =
      (routePattern === undefined ? undefined : requiredAccess(method, routePattern)) ?? ADMIN_ONLY;
    return this.check(
      access,
      authorization,
      access.modelParam === undefined ? undefined : param(access.modelParam),
    );
  }

  /** Check one gRPC call by method name, with its `authorization` metadata and the model it names. */
  checkGrpc(
    method: string,
    authorization: string | undefined,
    model: string | undefined,
  ): Promise<AccessOutcome> | AccessOutcome {
    return this.check(requiredGrpcAccess(method) ?? ADMIN_ONLY, authorization, model);
  }

  /** The access a route needs (admin when it is not in the table). */
  static httpAccess(method: string, routePattern: string | undefined): RequiredAccess {
    return (routePattern === undefined ? undefined : requiredAccess(method, routePattern)) ?? ADMIN_ONLY;
  }

  /** Check one call needing `access`, with its Authorization header and the model it names. */
  check(
    access: RequiredAccess,
    authorization: string | undefined,
    model: string | undefined,
  ): Promise<AccessOutcome> | AccessOutcome {
    if (access.scope === 'public' || !this.enabled) return { ok: true, caller: ANONYMOUS };
    // Clients send the same header again and again: skip parsing and hashing for the ones seen since the last refresh.
    const seen = authorization === undefined ? undefined : this.byHeader.get(authorization);
    if (seen !== undefined) return this.decide(access, seen, model);
    const token = parseAuthorizationHeader(authorization);
    if (token === 'malformed')
      return refuse(
        401,
        `malformed Authorization header; send "Authorization: Bearer <token>"${this.noActiveTokenHint()}`,
      );
    if (token === null)
      return refuse(
        401,
        `a token is required: send "Authorization: Bearer <token>" (tend token create)${this.noActiveTokenHint()}`,
      );
    const hash = hashToken(token);
    const known = this.fileTokens.get(hash) ?? this.byHash.get(hash);
    if (known !== undefined) {
      this.remember(authorization as string, known);
      return this.decide(access, known, model);
    }
    return this.lookUp(hash).then((found) => {
      if (found === undefined) return refuse(401, `invalid token${this.noActiveTokenHint()}`);
      this.remember(authorization as string, found);
      return this.decide(access, found, model);
    });
  }

  /** With authentication on and no active token, every refusal says why and how to get back in. */
  private noActiveTokenHint(): string {
    if (this.activeTokens > 0) return '';
    return '; no token is active on this server (the last one was revoked), and authentication stays on until it restarts: create one on the host with `tend token create --name NAME --scopes admin`, which writes to the registry directly';
  }

  /**
   * Append a refused management call to the audit log (outcome 'denied'), at most
   * REFUSALS_AUDITED_PER_SECOND a second: a flood of refused calls must not flood the log; the
   * next recorded entry counts the ones left out. Never throws, never delays the answer.
   */
  recordRefusal(refusal: {
    action: string;
    source: string;
    error: TendError;
    tokenId?: string | undefined;
  }): void {
    const now = Date.now();
    if (now - this.refusalWindowStartedAt >= 1000) {
      this.refusalWindowStartedAt = now;
      this.refusalsInWindow = 0;
    }
    if (this.refusalsInWindow >= REFUSALS_AUDITED_PER_SECOND) {
      this.refusalsNotRecorded += 1;
      return;
    }
    this.refusalsInWindow += 1;
    const skipped = this.refusalsNotRecorded;
    this.refusalsNotRecorded = 0;
    const detail = `${refusal.error.message.slice(0, 400)}${skipped > 0 ? ` (${skipped} earlier refused call(s) not recorded: over ${REFUSALS_AUDITED_PER_SECOND}/s)` : ''}`;
    void this.registry.audit
      .append({
        actor: refusal.tokenId ?? 'anonymous',
        source: refusal.source,
        action: 'access.denied',
        target: refusal.action,
        outcome: 'denied',
        detail,
      })
      .catch((err: unknown) =>
        this.logger.warn({ err: (err as Error).message }, 'recording a refused call in the audit log failed'),
      );
  }

  /** Decide, and note when a database token was last used (written at most once a minute per token). */
  private decide(access: RequiredAccess, token: KnownToken, model: string | undefined): AccessOutcome {
    const outcome = decideFor(access, token, model, token.revoked ? this.noActiveTokenHint() : '');
    if (outcome.ok && !this.fileTokenIds.has(token.id)) {
      const now = Date.now();
      if (now - (this.touchedAt.get(token.id) ?? 0) >= TOUCH_EVERY_MS) {
        this.touchedAt.set(token.id, now);
        void this.registry.tokens
          .touch(token.id, new Date(now))
          .catch((err: unknown) =>
            this.logger.warn({ err: (err as Error).message }, 'recording when a token was used failed'),
          );
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
    const record = await this.registry.tokens.findByHash(hash);
    if (record === null) return undefined;
    const known: KnownToken = {
      id: record.id,
      name: record.name,
      scopes: record.scopes as Scope[],
      models: record.models,
      revoked: record.revoked_at !== null,
    };
    this.byHash.set(hash, known);
    return known;
  }

  private maybeRefresh(): void {
    if (Date.now() - this.refreshedAt < REFRESH_MS || this.refreshing !== null) return;
    this.refresh().catch((err: unknown) =>
      this.logger.warn(
        { err: (err as Error).message },
        'reading the API tokens failed; keeping the last known set',
      ),
    );
  }

  /**
   * Reload every database token (revocations included). One read at a time: a read begun before a
   * revocation must not land after the read that follows it and bring the token back.
   */
  async refresh(): Promise<void> {
    while (this.refreshing !== null) await this.refreshing;
    const run = this.load();
    const settled: Promise<void> = run
      .then(
        () => undefined,
        () => undefined,
      )
      .then(() => {
        if (this.refreshing === settled) this.refreshing = null;
      });
    this.refreshing = settled;
    return run;
  }

  private async load(): Promise<void> {
    const records = await this.registry.tokens.listWithHashes();
    this.byHash.clear();
    let active = 0;
    for (const r of records) {
      const revoked = r.revoked_at !== null;
      if (!revoked) active += 1;
      this.byHash.set(r.token_sha256, {
        id: r.id,
        name: r.name,
        scopes: r.scopes as Scope[],
        models: r.models,
        revoked,
      });
    }
    this.databaseTokens = active;
    if (active > 0) this.authOn = true;
    this.byHeader.clear();
    this.refreshedAt = Date.now();
  }
}

function refuse(status: 401 | 403, message: string, tokenId?: string): AccessOutcome {
  const error = status === 401 ? errors.unauthorized(message) : errors.forbidden(message);
  return tokenId === undefined ? { ok: false, error } : { ok: false, error, tokenId };
}

function decideFor(
  access: RequiredAccess,
  token: KnownToken,
  model: string | undefined,
  hint: string,
): AccessOutcome {
  if (token.revoked) return refuse(401, `token ${token.id} has been revoked${hint}`, token.id);
  const decision = decideAccess(access, token, model);
  if (!decision.ok) return refuse(decision.status, `${decision.reason} (token ${token.id})`, token.id);
  return { ok: true, caller: token };
}
