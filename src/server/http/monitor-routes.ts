/**
 * The monitoring API: ground truth for logged predictions (feedback), the monitor's answer for a
 * model version (quality, drift, data quality, alerts), the alerts themselves, and deleting logged rows.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errors } from '../../core/errors.js';
import { parseLogDeleteRequest, type Engine } from '../../engine/index.js';
import { parseJsonObject } from './v2-json.js';

type MonitorQuery = { version?: string; window?: string; last?: string };

function optionalString(query: Record<string, unknown>, key: string): string | undefined {
  const v = query[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw errors.invalidArgument(`give '${key}' once`);
  return v;
}

export function registerMonitorRoutes(app: FastifyInstance, engine: Engine): void {
  app.post('/v2/models/:model/feedback', async (request: FastifyRequest<{ Params: { model: string } }>) => {
    const body = parseJsonObject(request.body);
    const unknown = Object.keys(body).filter((k) => k !== 'feedback');
    if (unknown.length > 0)
      throw errors.invalidInput(
        `unknown field(s) ${unknown.map((k) => `'${k}'`).join(', ')}; the body is {"feedback": [...]}`,
      );
    if (!('feedback' in body))
      throw errors.invalidInput(
        'the body needs "feedback": [{"id", "row", "label"} or {"id", "row", "value"}, ...]',
      );
    return engine.monitoring.feedback(request.params.model, body['feedback']);
  });

  app.get(
    '/v2/models/:model/monitor',
    async (request: FastifyRequest<{ Params: { model: string }; Querystring: Record<string, unknown> }>) => {
      const q = request.query;
      const unknown = Object.keys(q).filter((k) => !['version', 'window', 'last'].includes(k));
      if (unknown.length > 0)
        throw errors.invalidArgument(
          `unknown query parameter(s) ${unknown.join(', ')}; use version, window (e.g. 1h) or last (e.g. 1000)`,
        );
      const query: MonitorQuery = {};
      const version = optionalString(q, 'version');
      const window = optionalString(q, 'window');
      const last = optionalString(q, 'last');
      if (version !== undefined) query.version = version;
      if (window !== undefined) query.window = window;
      if (last !== undefined) query.last = last;
      return engine.monitoring.view(request.params.model, query);
    },
  );

  // Privacy: forget logged rows (and their feedback) by request ids, date or feature value; audited.
  app.delete('/api/v1/prediction-log', async (request: FastifyRequest) => {
    if (request.body === undefined || request.body === null)
      throw errors.invalidArgument(
        'the body must say what to delete: {"model", "ids"?: [...], "before"?: "2026-11-25", "where"?: {"feature", "value"}}',
      );
    return engine.monitoring.deleteLogged(parseLogDeleteRequest(parseJsonObject(request.body)));
  });

  app.get('/api/v1/alerts', async (request: FastifyRequest<{ Querystring: Record<string, unknown> }>) => {
    const raw = optionalString(request.query, 'limit');
    const limit = raw === undefined ? 100 : Number(raw);
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 10_000)
      throw errors.invalidArgument(`limit '${raw ?? ''}' must be a whole number from 1 to 10000`);
    return engine.monitoring.alerts(limit);
  });
}
