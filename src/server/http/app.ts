/**
 * The HTTP frontend: KServe V2 / Open Inference Protocol REST on Fastify, plus /metrics.
 * It parses and encodes; the engine resolves, validates and runs.
 */
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Duplex } from 'node:stream';
import { TendError, toTendError, errors } from '../../core/errors.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import type { Engine, InferRequest } from '../../engine/index.js';
import { SERVER_METADATA } from '../protocol/extensions.js';
import { tritonModelConfig } from '../protocol/model-config.js';
import { modelMetadata } from '../protocol/model-metadata.js';
import { registerDeploymentRoutes } from './deployment-routes.js';
import { registerMonitorRoutes } from './monitor-routes.js';
import { registerLearnRoutes } from './learn-routes.js';
import { registerExplainRoutes } from './explain-routes.js';
import { registerAdminRoutes } from './admin-routes.js';
import { registerFaultRoutes } from './fault-routes.js';
import { registerAccessHook } from './access-hook.js';
import type { TlsFiles } from '../tls.js';
import { registerDashboardRoutes } from './dashboard-routes.js';
import { registerOpenApi } from './openapi.js';
import { registerRepositoryRoutes } from './repository-routes.js';
import { ClientGoneSignal } from './client-gone.js';
import { HEADER_LENGTH, encodeBinaryResponse, wantsBinary } from './v2-binary.js';
import { encodeInferResponse } from './v2-json.js';
import { encodeData } from './v2-json-elements.js';
import { bodyReader, LARGE_BODY_SLOT, throwBodyRefusal, type RequestWithSlot } from './body-reader.js';
import { decodeInferBody, jsonPartBytes, type DecodedInferBody } from './infer-body.js';
import { LargeBodies } from './json-body-pool.js';

export interface HttpAppOptions {
  /** Largest request body in bytes (413 beyond). */
  bodyLimitBytes: number;
  logger?: Logger;
  /** Serve HTTPS (and ask for client certificates when `ca` is given). */
  tls?: TlsFiles;
}

const EMPTY_BODY = Buffer.alloc(0);

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

interface ModelParams {
  model: string;
  version?: string;
}

/** Status, code and message for anything thrown while handling a request. */
export function httpError(err: unknown): TendError {
  if (err instanceof TendError) return err;
  const e = err as { code?: string; statusCode?: number; message?: string };
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return errors.payloadTooLarge('request body is larger than the server accepts (body_limit_bytes)');
  }
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
    return errors.unsupportedMediaType(e.message ?? 'unsupported media type');
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return errors.badRequest(e.message ?? 'bad request');
  }
  return toTendError(err);
}

function sendError(reply: FastifyReply, err: TendError): FastifyReply {
  if (err.retryAfterSeconds !== undefined) void reply.header('retry-after', String(err.retryAfterSeconds));
  const message =
    err.status >= 500 && err.code === 'TEND_INTERNAL' ? 'internal error; see the server log' : err.message;
  return reply.code(err.status).send({ error: message, code: err.code });
}

/** Build the Fastify app (not listening). Test it with `app.inject()` or `app.listen()`. */
export function buildHttpApp(engine: Engine, options: HttpAppOptions): FastifyInstance {
  const logger = options.logger ?? silentLogger;
  const tls = options.tls;
  const common = {
    logger: false,
    bodyLimit: options.bodyLimitBytes,
    return503OnClosing: true,
    // Model names may be 128 characters (Fastify's default stops route parameters at 100).
    routerOptions: { maxParamLength: 256 },
    // A client must send its whole request within the request deadline (slow-drip bodies are cut off).
    requestTimeout: engine.limits.request_timeout_ms,
    // Fastify's own refusals (a URL it cannot decode, …) answer in tend's error format too.
    frameworkErrors: (error: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
      sendError(reply, errors.badRequest(`bad request: ${error.message}`));
    },
    // A request Node's HTTP parser cannot read (unknown method, broken framing): answer once and close.
    clientErrorHandler: (error: Error & { code?: string }, socket: Duplex) => {
      if (!socket.writable) {
        socket.destroy();
        return;
      }
      const body = JSON.stringify({
        error: `malformed HTTP request (${error.code ?? 'parse error'})`,
        code: 'TEND_BAD_REQUEST',
      });
      socket.end(
        `HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    },
  };
  const app = (tls === undefined
    ? Fastify(common)
    : Fastify({
        ...common,
        https: {
          cert: tls.cert,
          key: tls.key,
          ...(tls.ca !== undefined ? { ca: tls.ca, requestCert: true, rejectUnauthorized: true } : {}),
        },
      })) as unknown as FastifyInstance;

  // Route schemas feed the OpenAPI document only: handlers validate their input with precise
  // messages and write their own JSON, so schemas neither validate nor serialize.
  app.setValidatorCompiler(() => () => true);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  registerOpenApi(app);

  // V2 bodies are JSON whatever the content type says (`curl -d` sends form encoding). Large bodies are
  // bounded in number, scanned while they arrive and parsed off the main thread (body-reader.ts).
  const largeBodies = new LargeBodies({
    largeBodyBytes: engine.limits.large_body_bytes,
    slots: engine.limits.max_large_bodies ?? availableParallelism(),
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    '*',
    bodyReader({
      bodyLimitBytes: options.bodyLimitBytes,
      largeBodies,
      maxTensorElements: engine.limits.max_tensor_elements,
    }),
  );
  const releaseLargeBody = (request: FastifyRequest): void =>
    (request as RequestWithSlot)[LARGE_BODY_SLOT]?.();
  app.addHook('onResponse', (request, _reply, done) => {
    releaseLargeBody(request);
    done();
  });
  app.addHook('onRequestAbort', (request, done) => {
    releaseLargeBody(request);
    done();
  });
  app.addHook('onClose', async () => largeBodies.close());
  app.addHook('preValidation', (request, _reply, done) => {
    try {
      throwBodyRefusal(request);
      done();
    } catch (err) {
      done(err as Error);
    }
  });

  app.setErrorHandler((err, request, reply) => {
    const e = httpError(err);
    if (e.status >= 500 && e.code === 'TEND_INTERNAL') {
      logger.error(
        { req_id: request.id, url: request.url, code: e.code, err: e.message, stack: e.stack },
        'request failed',
      );
    } else {
      logger.info(
        { req_id: request.id, url: request.url, status: e.status, code: e.code, err: e.message },
        'request refused',
      );
    }
    return sendError(reply, e);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, errors.notFound(`no route for ${request.method} ${request.url.split('?')[0] ?? ''}`)),
  );

  // Shutting down: health keeps answering (ready → 503) while everything else is refused, so load
  // balancers move away; requests already in flight or queued run to the end.
  app.addHook('onRequest', (request, reply, done) => {
    if (engine.draining && !request.url.startsWith('/v2/health')) {
      void reply.header('connection', 'close');
      sendError(
        reply,
        errors.unavailable('the server is shutting down; send the request to another replica', 1),
      );
      return;
    }
    done();
  });

  registerAccessHook(app, engine, { send: sendError });

  // Routes live in a plugin registered after the OpenAPI generator, so that it sees every one.
  void app.register(async (api) => {
    api.get('/v2', async () =>
      engine.authWarning === undefined
        ? SERVER_METADATA
        : { ...SERVER_METADATA, warning: engine.authWarning },
    );
    api.get('/v2/health/live', async () => ({ live: true }));
    api.get('/v2/health/ready', async (_req, reply) => {
      if (engine.ready) return { ready: true };
      if (engine.draining)
        return reply
          .code(503)
          .send({ ready: false, error: 'the server is shutting down', code: 'TEND_UNAVAILABLE' });
      return reply.code(503).send({
        ready: false,
        error: 'models are loading or a model failed to load',
        code: 'TEND_UNAVAILABLE',
      });
    });

    api.get('/v2/models', async () => ({
      models: engine.table.listServed().map((m) => ({
        name: m.name,
        source: m.source,
        ...(m.error !== undefined ? { error: m.error } : {}),
        versions: m.versions.map((v) => ({ version: String(v.version), state: v.state, reason: v.reason })),
      })),
    }));

    const metadata = async (request: FastifyRequest<{ Params: ModelParams }>) => {
      const { model, version } = request.params;
      return modelMetadata(engine, await engine.resolve(model, version));
    };
    api.get('/v2/models/:model', metadata);
    api.get('/v2/models/:model/versions/:version', metadata);
    const config = async (request: FastifyRequest<{ Params: ModelParams }>) => {
      const { model, version } = request.params;
      return tritonModelConfig(await engine.resolve(model, version));
    };
    api.get('/v2/models/:model/config', config);
    api.get('/v2/models/:model/versions/:version/config', config);

    const ready = async (request: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply) => {
      const { model, version } = request.params;
      const sv = await engine.resolve(model, version);
      if (sv.isReady) return { name: sv.model, version: String(sv.version), ready: true };
      return reply.code(503).send({
        name: sv.model,
        version: String(sv.version),
        ready: false,
        error: `model '${sv.model}' version ${sv.version} is ${sv.state.toLowerCase()}${sv.reason ? `: ${sv.reason}` : ''}`,
        code: 'TEND_MODEL_NOT_READY',
      });
    };
    api.get('/v2/models/:model/ready', ready);
    api.get('/v2/models/:model/versions/:version/ready', ready);

    const infer = async (request: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply) => {
      const started = process.hrtime.bigint();
      const { model, version } = request.params;
      const header = request.headers[HEADER_LENGTH];
      const headerLength = typeof header === 'string' ? header : undefined;
      const body = Buffer.isBuffer(request.body) ? request.body : EMPTY_BODY;
      let decoded: DecodedInferBody;
      if (jsonPartBytes(body.length, headerLength) >= largeBodies.largeBodyBytes) {
        // Parsing tens of megabytes of JSON takes seconds: a worker does it, the main thread keeps serving.
        try {
          decoded = await largeBodies.decode(body, headerLength);
        } finally {
          releaseLargeBody(request);
        }
      } else {
        decoded = decodeInferBody(body, headerLength);
      }
      const inferRequest: InferRequest = decoded.request;
      const binaryOutputs = decoded.binaryOutputs;
      // The request id routes canary / experiment traffic, so it is fixed before routing.
      inferRequest.id ??= randomUUID();
      const routed = await engine.route(model, version, inferRequest.id, (name) =>
        headerValue(request.headers[name]),
      );
      // A client that hangs up while queued is dropped from the queue.
      inferRequest.signal = new ClientGoneSignal(reply.raw);
      const response = await engine.inferRouted(model, routed, inferRequest);
      // One line per answered inference at debug: at info level the access log would cost a quarter of the
      // throughput of a small model. Refused and failed requests are logged at info and above.
      if (logger.isLevelEnabled('debug')) {
        logger.debug(
          {
            req_id: response.id,
            model: response.model_name,
            version: response.model_version,
            status: 200,
            latency_ms: Number(process.hrtime.bigint() - started) / 1e6,
          },
          'infer',
        );
      }
      if (wantsBinary(binaryOutputs)) {
        const encoded = encodeBinaryResponse(response, binaryOutputs, encodeData);
        return reply
          .header(HEADER_LENGTH, String(encoded.jsonLength))
          .header('content-type', 'application/octet-stream')
          .send(encoded.body);
      }
      return reply
        .header('content-type', 'application/json; charset=utf-8')
        .send(encodeInferResponse(response));
    };
    api.post('/v2/models/:model/infer', infer);
    api.post('/v2/models/:model/versions/:version/infer', infer);

    registerRepositoryRoutes(api, engine);
    registerLearnRoutes(api, engine);
    registerExplainRoutes(api, engine);
    registerAdminRoutes(api, engine);
    registerFaultRoutes(api, engine);
    registerDeploymentRoutes(api, engine);
    registerMonitorRoutes(api, engine);
    registerDashboardRoutes(api, engine);

    // Statistics extension (Triton's): cumulative counts and durations per model version.
    api.get('/v2/models/stats', async () => ({ model_stats: await engine.table.statistics() }));
    api.get('/v2/models/:model/stats', async (request: FastifyRequest<{ Params: ModelParams }>) => ({
      model_stats: await engine.table.statistics(request.params.model),
    }));
    api.get(
      '/v2/models/:model/versions/:version/stats',
      async (request: FastifyRequest<{ Params: ModelParams }>) => ({
        model_stats: await engine.table.statistics(request.params.model, request.params.version),
      }),
    );

    api.get('/metrics', async (_req, reply) => {
      const text = await engine.metrics.render();
      return reply.header('content-type', engine.metrics.contentType).send(text);
    });
  });
  return app;
}
