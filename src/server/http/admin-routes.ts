/** Tokens and the audit log (admin), training runs (read) over HTTP. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errors } from '../../core/errors.js';
import { MAX_TOKEN_NAME_LENGTH, checkBytes } from '../../core/input-limits.js';
import type { Engine } from '../../engine/index.js';
import { parseJsonObject } from './v2-json.js';

function positiveInt(name: string, raw: unknown): number | undefined {
  if (raw === undefined) return undefined;
  const n = typeof raw === 'string' ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 100_000)
    throw errors.invalidArgument(`'${name}' must be a whole number from 1 to 100000`);
  return n;
}

function optionalString(query: Record<string, unknown>, key: string): string | undefined {
  const v = query[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw errors.invalidArgument(`give '${key}' once`);
  return v;
}

export function registerAdminRoutes(app: FastifyInstance, engine: Engine): void {
  /** Reload the token set now. The change is stored either way: a failed read must not hide a token shown only once. */
  const applyTokenChange = (request: FastifyRequest): Promise<void> =>
    engine.access
      .refresh()
      .catch((err: unknown) =>
        request.log.warn(
          { err: (err as Error).message },
          'the token change is stored; this server applies it at its next refresh',
        ),
      );

  app.get('/api/v1/tokens', async () => ({ tokens: await engine.tokens.list() }));
  app.post('/api/v1/tokens', async (request: FastifyRequest, reply: FastifyReply) => {
    const body = parseJsonObject(request.body);
    const unknown = Object.keys(body).filter((k) => !['name', 'scopes', 'models'].includes(k));
    if (unknown.length > 0)
      throw errors.invalidArgument(
        `unknown field(s) ${unknown.join(', ')}; the body is {"name", "scopes": ["infer", ...], "models": ["glob", ...]}`,
      );
    const { name, scopes, models } = body as { name?: unknown; scopes?: unknown; models?: unknown };
    if (typeof name !== 'string') throw errors.invalidArgument("'name' must be a string");
    checkBytes("'name'", name, MAX_TOKEN_NAME_LENGTH);
    if (!Array.isArray(scopes) || scopes.some((s) => typeof s !== 'string'))
      throw errors.invalidArgument("'scopes' must be an array of scope names");
    if (models !== undefined && (!Array.isArray(models) || models.some((m) => typeof m !== 'string')))
      throw errors.invalidArgument("'models' must be an array of model globs");
    const created = await engine.tokens.create({
      name,
      scopes: (scopes as string[]).join(','),
      models: models === undefined ? undefined : (models as string[]).join(','),
    });
    // This server applies its own token changes at once; other servers on the same registry within a second.
    await applyTokenChange(request);
    return reply.code(201).send({
      id: created.id,
      token: created.token,
      name: created.name,
      scopes: created.scopes,
      models: created.models,
    });
  });
  app.delete('/api/v1/tokens/:id', async (request: FastifyRequest<{ Params: { id: string } }>) => {
    const revoked = await engine.tokens.revoke(request.params.id);
    await applyTokenChange(request);
    return revoked;
  });
  app.get('/api/v1/audit', async (request: FastifyRequest<{ Querystring: Record<string, unknown> }>) => {
    const q = request.query;
    const unknown = Object.keys(q).filter((k) => !['limit', 'action', 'since', 'target'].includes(k));
    if (unknown.length > 0)
      throw errors.invalidArgument(
        `unknown query parameter(s) ${unknown.join(', ')}; use limit, action, since, target`,
      );
    const limit = positiveInt('limit', q['limit']);
    const action = optionalString(q, 'action');
    const since = optionalString(q, 'since');
    const target = optionalString(q, 'target');
    return {
      entries: await engine.tokens.auditLog({
        ...(limit !== undefined ? { limit } : {}),
        ...(action !== undefined ? { action } : {}),
        ...(since !== undefined ? { since } : {}),
        ...(target !== undefined ? { target } : {}),
      }),
    };
  });

  app.get('/api/v1/runs', async (request: FastifyRequest<{ Querystring: Record<string, unknown> }>) => {
    const q = request.query;
    const unknown = Object.keys(q).filter((k) => !['model', 'limit'].includes(k));
    if (unknown.length > 0)
      throw errors.invalidArgument(`unknown query parameter(s) ${unknown.join(', ')}; use model, limit`);
    const limit = positiveInt('limit', q['limit']);
    const model = optionalString(q, 'model');
    return {
      runs: await engine.runs.list({
        ...(model !== undefined ? { model } : {}),
        ...(limit !== undefined ? { limit } : {}),
      }),
    };
  });
  app.get('/api/v1/runs/:run', async (request: FastifyRequest<{ Params: { run: string } }>) =>
    engine.runs.get(request.params.run),
  );
}
