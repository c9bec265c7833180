/**
 * A test-only route, registered only when tend starts with TEND_FAULT_INJECTION=1: make one instance
 * of a served version abort, hang, exit… as a native crash would (see the reliability tests).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errors } from '../../core/errors.js';
import { faultInjectionAvailable, injectFault, type Engine } from '../../engine/index.js';
import { parseJsonObject } from './v2-json.js';

export function registerFaultRoutes(app: FastifyInstance, engine: Engine): void {
  if (!faultInjectionAvailable()) return;
  app.post('/v2/debug/models/:model/versions/:version/fault', async (request: FastifyRequest<{ Params: { model: string; version: string } }>) => {
    const body = parseJsonObject(request.body);
    const { mode, instance } = body as { mode?: unknown; instance?: unknown };
    if (typeof mode !== 'string') throw errors.invalidArgument("'mode' must be a string");
    if (instance !== undefined && (typeof instance !== 'number' || !Number.isInteger(instance) || instance < 0)) throw errors.invalidArgument("'instance' must be a whole number ≥ 0");
    return injectFault(engine.table, request.params.model, request.params.version, mode, (instance as number | undefined) ?? 0);
  });
}
