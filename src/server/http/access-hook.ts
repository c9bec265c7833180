/**
 * Every request passes here before its handler: the token check against the access table (401 / 403),
 * then the limits — per-token rate and concurrency, the server's in-flight ceiling and the memory
 * guard (503 + Retry-After) — and, for management calls, the caller recorded for the audit log.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { LimitsConfig } from '../../core/config.js';
import type { TendError } from '../../core/errors.js';
import { runWithContext } from '../../core/request-context.js';
import { AccessControl, type AccessOutcome, type Caller, type Engine, type RequiredAccess } from '../../engine/index.js';
import { ConcurrencyLimiter, overloadedError, rateLimitedError, TokenBucket, tooManyInFlightError } from '../../engine/index.js';

const RSS_SAMPLE_MS = 500;

/** Scopes whose calls change things: their caller goes to the audit log. */
const MANAGEMENT = new Set(['deploy', 'admin']);

export interface AccessHookOptions {
  limits: LimitsConfig;
  send: (reply: FastifyReply, err: TendError) => unknown;
}

export function registerAccessHook(app: FastifyInstance, engine: Engine, options: AccessHookOptions): void {
  const { limits, send } = options;
  const buckets = limits.rate_limit_per_second !== undefined ? new TokenBucket({ ratePerSecond: limits.rate_limit_per_second, burst: limits.rate_limit_burst ?? Math.max(1, Math.ceil(limits.rate_limit_per_second)) }) : null;
  const perToken = limits.max_in_flight_per_token !== undefined ? new ConcurrencyLimiter(limits.max_in_flight_per_token) : null;
  let inFlight = 0;
  let rssBytes = process.memoryUsage.rss();
  let rssSampledAt = Date.now();
  const overMemory = (): boolean => {
    if (limits.shed_rss_mb === undefined) return false;
    const now = Date.now();
    if (now - rssSampledAt >= RSS_SAMPLE_MS) {
      rssBytes = process.memoryUsage.rss();
      rssSampledAt = now;
    }
    return rssBytes > limits.shed_rss_mb * 1024 * 1024;
  };

  const admit = (request: FastifyRequest, reply: FastifyReply, access: RequiredAccess, outcome: AccessOutcome, done: (err?: Error) => void): void => {
    if (!outcome.ok) {
      // RFC 6750: the challenge says whether a token is missing, bad, or lacks the scope.
      const given = request.headers.authorization !== undefined;
      const challenge = outcome.error.code === 'TEND_UNAUTHORIZED' ? (given ? 'Bearer error="invalid_token"' : 'Bearer') : 'Bearer error="insufficient_scope"';
      void reply.header('www-authenticate', challenge);
      send(reply, outcome.error);
      return;
    }
    const caller: Caller = outcome.caller;
    const url = request.url;
    const isHealth = url.startsWith('/v2/health');
    if (!isHealth) {
      if (inFlight >= limits.max_in_flight || overMemory()) {
        send(reply, overloadedError(1));
        return;
      }
      if (buckets !== null && caller.id !== 'anonymous') {
        const decision = buckets.take(caller.id);
        if (!decision.ok) {
          send(reply, rateLimitedError(decision.retryAfterSeconds));
          return;
        }
      }
      let release: (() => void) | undefined;
      if (perToken !== null && caller.id !== 'anonymous') {
        const decision = perToken.tryAcquire(caller.id);
        if (!decision.ok) {
          send(reply, tooManyInFlightError(limits.max_in_flight_per_token ?? 0, decision.retryAfterSeconds));
          return;
        }
        release = decision.release;
      }
      inFlight += 1;
      reply.raw.once('close', () => {
        inFlight -= 1;
        release?.();
      });
    }
    if (access.scope !== 'public' && MANAGEMENT.has(access.scope)) {
      runWithContext({ actor: caller.id, source: request.ip }, () => done());
    } else {
      done();
    }
  };

  app.addHook('onRequest', (request, reply, done) => {
    const access = AccessControl.httpAccess(request.method, request.routeOptions.url);
    const model = access.modelParam === undefined ? undefined : (request.params as Record<string, string | undefined>)[access.modelParam];
    const outcome = engine.access.check(access, request.headers.authorization, model);
    if (outcome instanceof Promise) {
      outcome.then(
        (o) => admit(request, reply, access, o, done),
        (err: unknown) => done(err as Error),
      );
    } else {
      admit(request, reply, access, outcome, done);
    }
  });
}
