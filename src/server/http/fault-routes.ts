/**
 * Test-only routes, registered only when tend starts with TEND_FAULT_INJECTION=1: make one instance
 * of a served version abort, hang, exit… as a native crash would (see the reliability tests); and
 * switch authentication off without a restart, for the benchmark that measures what auth costs in
 * one process (an admin call: it revokes every token, then clears the latch as a restart would).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errors } from '../../core/errors.js';
import { faultInjectionAvailable, injectFault, type Engine } from '../../engine/index.js';
import { parseJsonObject } from './v2-json.js';

export function registerFaultRoutes(app: FastifyInstance, engine: Engine): void {
  if (!faultInjectionAvailable()) return;
  app.post(
    '/v2/debug/models/:model/versions/:version/fault',
    async (request: FastifyRequest<{ Params: { model: string; version: string } }>) => {
      const body = parseJsonObject(request.body);
      const { mode, instance } = body as { mode?: unknown; instance?: unknown };
      if (typeof mode !== 'string') throw errors.invalidArgument("'mode' must be a string");
      if (
        instance !== undefined &&
        (typeof instance !== 'number' || !Number.isInteger(instance) || instance < 0)
      )
        throw errors.invalidArgument("'instance' must be a whole number ≥ 0");
      return injectFault(
        engine.table,
        request.params.model,
        request.params.version,
        mode,
        (instance as number | undefined) ?? 0,
      );
    },
  );
  app.post('/v2/debug/auth/off', async () => {
    const tokens = await engine.tokens.list();
    for (const t of tokens) if (t.revoked_at === null) await engine.tokens.revoke(t.id);
    await engine.access.refresh();
    engine.access.clearLatchWhenNoTokenIsActive();
    return { revoked: tokens.filter((t) => t.revoked_at === null).length, authentication: false };
  });
}
