/** `POST /v2/models/{m}[/versions/{v}]/learn`: labelled samples for a model's online learner. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errors } from '../../core/errors.js';
import type { Engine } from '../../engine/index.js';
import { parseJsonObject } from './v2-json.js';

export function registerLearnRoutes(app: FastifyInstance, engine: Engine): void {
  const learn = async (request: FastifyRequest<{ Params: { model: string; version?: string } }>) => {
    const body = parseJsonObject(request.body);
    const unknown = Object.keys(body).filter((k) => k !== 'samples');
    if (unknown.length > 0)
      throw errors.invalidInput(
        `unknown field(s) ${unknown.map((k) => `'${k}'`).join(', ')}; the body is {"samples": [{"features": [...], "label": ...}]}`,
      );
    return engine.learn(request.params.model, request.params.version, body);
  };
  app.post('/v2/models/:model/learn', learn);
  app.post('/v2/models/:model/versions/:version/learn', learn);
}
