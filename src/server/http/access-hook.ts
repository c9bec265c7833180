/**
 * Every request passes here before its handler: the token check against the access table (401 / 403),
 * then the limits — per-token rate and concurrency, the server's in-flight ceiling and the memory
 * guard (503 + Retry-After) — and, for management calls, the caller recorded for the audit log.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TendError } from '../../core/errors.js';
import { runWithContext } from '../../core/request-context.js';
import { AccessControl, type AccessOutcome, type Caller, type Engine } from '../../engine/index.js';

/** What a route needs of its caller, as access control decides it. */
type RequiredAccess = ReturnType<typeof AccessControl.httpAccess>;

/** Scopes whose calls change things: their caller goes to the audit log. */
const MANAGEMENT = new Set(['deploy', 'admin']);

export interface AccessHookOptions {
  send: (reply: FastifyReply, err: TendError) => unknown;
}

export function registerAccessHook(app: FastifyInstance, engine: Engine, options: AccessHookOptions): void {
  const { send } = options;
  const limits = engine.requestLimits;
  const admit = (
    request: FastifyRequest,
    reply: FastifyReply,
    access: RequiredAccess,
    outcome: AccessOutcome,
    done: (err?: Error) => void,
  ): void => {
    if (!outcome.ok) {
      // RFC 6750: the challenge says whether a token is missing, bad, or lacks the scope.
      const given = request.headers.authorization !== undefined;
      const challenge =
        outcome.error.code === 'TEND_UNAUTHORIZED'
          ? given
            ? 'Bearer error="invalid_token"'
            : 'Bearer'
          : 'Bearer error="insufficient_scope"';
      void reply.header('www-authenticate', challenge);
      if (access.scope !== 'public' && MANAGEMENT.has(access.scope)) {
        engine.access.recordRefusal({
          action: `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`,
          source: request.ip,
          error: outcome.error,
          tokenId: outcome.tokenId,
        });
      }
      send(reply, outcome.error);
      return;
    }
    const caller: Caller = outcome.caller;
    const url = request.url;
    const isHealth = url.startsWith('/v2/health');
    if (!isHealth) {
      const admission = limits.admit(caller.id);
      if (!admission.ok) {
        send(reply, admission.error);
        return;
      }
      reply.raw.once('close', admission.release);
    }
    if (access.scope !== 'public' && MANAGEMENT.has(access.scope)) {
      runWithContext({ actor: caller.id, source: request.ip }, () => done());
    } else {
      done();
    }
  };

  app.addHook('onRequest', (request, reply, done) => {
    const access = AccessControl.httpAccess(request.method, request.routeOptions.url);
    const model =
      access.modelParam === undefined
        ? undefined
        : (request.params as Record<string, string | undefined>)[access.modelParam];
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
