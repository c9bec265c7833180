/**
 * The deployments management API (REST, JSON): an endpoint's routes, promote / rollback, history,
 * and alias moves — each change loads and warms the versions it names before any traffic moves.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errors } from '../../core/errors.js';
import { MAX_REASON_BYTES, checkBytes } from '../../core/input-limits.js';
import type { Engine } from '../../engine/index.js';
import { SCHEMAS } from './openapi.js';
import { parseJsonObject } from './v2-json.js';

type EndpointRequest = FastifyRequest<{ Params: { endpoint: string } }>;

/** Who made a change: the `x-tend-actor` header (until tokens name the caller). */
function actorOf(request: FastifyRequest): string | undefined {
  const v = request.headers['x-tend-actor'];
  return typeof v === 'string' && v !== '' ? v.slice(0, 200) : undefined;
}

export function registerDeploymentRoutes(app: FastifyInstance, engine: Engine): void {
  app.get('/api/v1/deployments', { schema: SCHEMAS.listDeployments }, async () => ({
    deployments: await engine.deployments.records(),
  }));

  app.get(
    '/api/v1/deployments/:endpoint',
    { schema: SCHEMAS.getDeployment },
    async (request: EndpointRequest) => {
      const record = await engine.deployments.record(request.params.endpoint);
      if (!record) throw errors.deploymentNotFound(request.params.endpoint);
      return { ...record, shadow: engine.deployments.shadowSnapshot()[record.endpoint] ?? null };
    },
  );

  app.put(
    '/api/v1/deployments/:endpoint',
    { schema: SCHEMAS.putDeployment },
    async (request: EndpointRequest) => {
      const body = parseJsonObject(request.body);
      // The routes object itself, or {routes, reason, expected_revision}.
      const wrapped = 'routes' in body;
      const routes = wrapped ? body['routes'] : body;
      const reason = wrapped ? body['reason'] : undefined;
      const expected = wrapped ? body['expected_revision'] : undefined;
      if (reason !== undefined && typeof reason !== 'string')
        throw errors.invalidInput('"reason" must be a string');
      if (reason !== undefined) checkBytes('"reason"', reason as string, MAX_REASON_BYTES);
      if (
        expected !== undefined &&
        expected !== null &&
        (typeof expected !== 'number' || !Number.isSafeInteger(expected))
      ) {
        throw errors.invalidInput('"expected_revision" must be an integer or null');
      }
      const actor = actorOf(request);
      return engine.deployments.apply(request.params.endpoint, routes, {
        action: 'put',
        ...(actor ? { actor } : {}),
        ...(reason !== undefined ? { reason } : {}),
        ...(expected !== undefined ? { expectedRevision: expected } : {}),
      });
    },
  );

  app.post(
    '/api/v1/deployments/:endpoint/promote',
    { schema: SCHEMAS.promote },
    async (request: EndpointRequest) =>
      engine.deployments.promote(request.params.endpoint, {
        ...(actorOf(request) ? { actor: actorOf(request) as string } : {}),
      }),
  );

  app.post(
    '/api/v1/deployments/:endpoint/rollback',
    { schema: SCHEMAS.rollback },
    async (request: EndpointRequest) => {
      const actor = actorOf(request);
      return engine.deployments.rollback(request.params.endpoint, actor ? { actor } : {});
    },
  );

  app.get(
    '/api/v1/deployments/:endpoint/history',
    { schema: SCHEMAS.history },
    async (request: FastifyRequest<{ Params: { endpoint: string }; Querystring: { limit?: string } }>) => {
      const raw = request.query.limit;
      const limit = raw === undefined ? undefined : Number(raw);
      if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1))
        throw errors.invalidInput('limit must be a positive integer');
      return {
        history: await engine.deployments.history(
          request.params.endpoint,
          limit === undefined ? {} : { limit },
        ),
      };
    },
  );

  app.put(
    '/api/v1/models/:name/aliases/:alias',
    { schema: SCHEMAS.moveAlias },
    async (request: FastifyRequest<{ Params: { name: string; alias: string } }>) => {
      const body = parseJsonObject(request.body);
      const version = body['version'];
      const number = typeof version === 'string' && /^[0-9]+$/.test(version) ? Number(version) : version;
      if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 1)
        throw errors.invalidInput('"version" must be a positive integer');
      return engine.moveAlias(request.params.name, request.params.alias, number, actorOf(request));
    },
  );
}
