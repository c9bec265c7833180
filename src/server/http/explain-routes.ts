/**
 * `POST /v2/models/{m}[/versions/{v}]/explain`: the body of an infer request plus
 * `parameters: {method, nsamples, seed, output, top_k, background}`; answers the attributions of
 * every row (see engine/jobs/explain-job.ts). The access table gives it the infer scope.
 * `GET /v2/models/{m}/importance?method=permutation|mean_abs_shap`: global importance from the
 * prediction log (read scope).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errors } from '../../core/errors.js';
import type { Engine, ImportanceQuery } from '../../engine/index.js';
import { decodeInferRequest, parseJsonObject } from './v2-json.js';

export function registerExplainRoutes(app: FastifyInstance, engine: Engine): void {
  const explain = async (request: FastifyRequest<{ Params: { model: string; version?: string } }>) => {
    const body = parseJsonObject(request.body);
    // The explain parameters are checked by the engine; the rest is an infer body.
    const { parameters, ...inferBody } = body;
    const decoded = decodeInferRequest(inferBody);
    return engine.explain(request.params.model, request.params.version, decoded.inputs, parameters);
  };
  app.post('/v2/models/:model/explain', explain);
  app.post('/v2/models/:model/versions/:version/explain', explain);

  const KEYS = ['version', 'method', 'last', 'repeats', 'seed', 'rows', 'nsamples'] as const;
  app.get(
    '/v2/models/:model/importance',
    async (request: FastifyRequest<{ Params: { model: string }; Querystring: Record<string, unknown> }>) => {
      const q = request.query;
      const unknown = Object.keys(q).filter((k) => !(KEYS as readonly string[]).includes(k));
      if (unknown.length > 0)
        throw errors.invalidArgument(
          `unknown query parameter(s) ${unknown.join(', ')}; use ${KEYS.join(', ')}`,
        );
      const query: ImportanceQuery = {};
      for (const key of KEYS) {
        const v = q[key];
        if (typeof v === 'string') query[key] = v;
        else if (v !== undefined) throw errors.invalidArgument(`query parameter ${key} must be given once`);
      }
      return engine.importance(request.params.model, query);
    },
  );
}
