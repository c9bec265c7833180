/**
 * `POST /v2/models/{m}[/versions/{v}]/explain`: the body of an infer request plus
 * `parameters: {method, nsamples, seed, output, top_k, background}`; answers the attributions of
 * every row (see engine/jobs/explain-job.ts). The access table gives it the infer scope.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Engine } from '../../engine/index.js';
import { decodeInferRequest, parseJsonObject } from './v2-json.js';

export function registerExplainRoutes(app: FastifyInstance, engine: Engine): void {
  const explain = async (request: FastifyRequest<{ Params: { model: string; version?: string } }>) => {
    const body = parseJsonObject(request.body);
    // The explain parameters are checked by the engine; the rest is an infer body.
    const { parameters, ...inferBody } = body;
    const decoded = decodeInferRequest(inferBody);
    return engine.explain(
      request.params.model,
      request.params.version,
      decoded.inputs,
      parameters as Record<string, unknown> | undefined,
    );
  };
  app.post('/v2/models/:model/explain', explain);
  app.post('/v2/models/:model/versions/:version/explain', explain);
}
