/**
 * Triton's model repository extension over HTTP: the index, and explicit load / unload.
 * With `--model-control none` the engine refuses load and unload (403).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errors } from '../../core/errors.js';
import { checkParameterKeys } from '../../core/input-limits.js';
import type { Engine } from '../../engine/index.js';
import { parseJsonObject } from './v2-json.js';

export function registerRepositoryRoutes(app: FastifyInstance, engine: Engine): void {
  app.post('/v2/repository/index', async (request) => {
    const body = parseJsonObject(request.body, { optional: true });
    const ready = body['ready'];
    if (ready !== undefined && typeof ready !== 'boolean')
      throw errors.invalidInput('"ready" must be true or false');
    return engine.repositoryIndex({ readyOnly: ready === true });
  });

  const control =
    (action: 'load' | 'unload') => async (request: FastifyRequest<{ Params: { model: string } }>) => {
      const body = parseJsonObject(request.body, { optional: true });
      const params = body['parameters'];
      if (params !== undefined && (typeof params !== 'object' || params === null || Array.isArray(params))) {
        throw errors.invalidInput('"parameters" must be an object');
      }
      // Triton's load may override config.yaml or send files; tend loads what is in the repository.
      const allowed = action === 'unload' ? ['unload_dependents'] : [];
      const unknown = Object.keys((params ?? {}) as object).filter((k) => !allowed.includes(k));
      checkParameterKeys('"parameters"', unknown);
      if (unknown.length > 0) {
        throw errors.invalidInput(
          `unsupported ${action} parameter(s): ${unknown.join(', ')}; tend ${action}s the model as it is in its repository or the registry`,
        );
      }
      if (action === 'load') await engine.loadModel(request.params.model);
      else await engine.unloadModel(request.params.model);
      return {};
    };
  app.post('/v2/repository/models/:model/load', control('load'));
  app.post('/v2/repository/models/:model/unload', control('unload'));
}
