/**
 * The handlers of `inference.GRPCInferenceService`. Like the HTTP frontend they only decode and
 * encode: the engine resolves, validates, batches and runs, and errors map to statuses in status.ts.
 */
import { randomUUID } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import { errors } from '../../core/errors.js';
import {
  MAX_MODEL_NAME_LENGTH,
  MAX_REQUEST_ID_BYTES,
  MAX_VERSION_REF_BYTES,
  checkParameterKeys,
  isOverBytes,
} from '../../core/input-limits.js';
import { runWithContext } from '../../core/request-context.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import type { CancelSignal, Engine } from '../../engine/index.js';
import { SERVER_METADATA } from '../protocol/extensions.js';
import { tritonModelConfig } from '../protocol/model-config.js';
import { modelMetadata } from '../protocol/model-metadata.js';
import {
  UndecodableMessage,
  undecodable,
  type ModelInferRequestMessage,
  type ModelInferResponseMessage,
} from './definition.js';
import { decodeModelInferRequest, encodeModelInferResponse } from './infer-codec.js';
import { grpcError, isClientStatus } from './status.js';

/** Aborts when the call is cancelled (client gone or deadline passed): a queued request is dropped. */
class CallCancelSignal implements CancelSignal {
  aborted = false;
  private readonly listeners = new Set<() => void>();

  constructor(call: { on(event: 'cancelled', listener: () => void): unknown; cancelled?: boolean }) {
    if (call.cancelled) this.aborted = true;
    else
      call.on('cancelled', () => {
        this.aborted = true;
        for (const l of this.listeners) l();
        this.listeners.clear();
      });
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    this.listeners.add(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    this.listeners.delete(listener);
  }
}

/** Probes: never counted against limits. */
const HEALTH_METHODS = new Set(['ServerLive', 'ServerReady', 'ModelReady']);

/** Methods that change what is served: their caller goes to the audit log. */
const MANAGEMENT_METHODS = new Set(['RepositoryModelLoad', 'RepositoryModelUnload']);

/** The model a request names (`name` in most messages, `model_name` in infer and repository calls). */
function modelOf(request: unknown): string | undefined {
  if (typeof request !== 'object' || request === null) return undefined;
  const r = request as { name?: unknown; model_name?: unknown };
  const value = typeof r.name === 'string' ? r.name : r.model_name;
  return typeof value === 'string' ? value : undefined;
}

/** The request's name, version and id for a refused stream message's answer; a field over its limit is not echoed. */
function echoOf(msg: ModelInferRequestMessage): { model_name: string; model_version: string; id: string } {
  return {
    model_name: isOverBytes(msg.model_name, MAX_MODEL_NAME_LENGTH) ? '' : msg.model_name,
    model_version: isOverBytes(msg.model_version, MAX_VERSION_REF_BYTES) ? '' : msg.model_version,
    id: isOverBytes(msg.id, MAX_REQUEST_ID_BYTES) ? '' : msg.id,
  };
}

type Unary<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => void;

interface NameVersion {
  name: string;
  version: string;
}

/** Build the service implementation around an engine. */
export function inferenceService(
  engine: Engine,
  logger: Logger = silentLogger,
): grpc.UntypedServiceImplementation {
  const fail = (method: string, err: unknown): grpc.ServiceError => {
    const status = grpcError(err);
    if (isClientStatus(status.code))
      logger.info({ method, grpc_code: status.code, err: status.details }, 'grpc request refused');
    else
      logger.error(
        { method, err: (err as Error).message, stack: (err as Error).stack },
        'grpc request failed',
      );
    return status;
  };
  /** The access table's rule for the method, with the `authorization` metadata; management calls carry their caller. */
  const authorize = async <T>(
    method: string,
    metadata: grpc.Metadata,
    model: string | undefined,
    peer: string,
    work: () => Promise<T> | T,
  ): Promise<T> => {
    const header = metadata.get('authorization')[0];
    const outcome = await engine.access.checkGrpc(
      method,
      typeof header === 'string' ? header : undefined,
      model === '' ? undefined : model,
    );
    if (!outcome.ok) {
      if (MANAGEMENT_METHODS.has(method))
        engine.access.recordRefusal({
          action: `grpc ${method}`,
          source: peer,
          error: outcome.error,
          tokenId: outcome.tokenId,
        });
      throw outcome.error;
    }
    if (HEALTH_METHODS.has(method)) return work();
    const admission = engine.requestLimits.admit(outcome.caller.id);
    if (!admission.ok) throw admission.error;
    try {
      if (MANAGEMENT_METHODS.has(method))
        return await runWithContext({ actor: outcome.caller.id, source: peer }, work);
      return await work();
    } finally {
      admission.release();
    }
  };
  const unary =
    <Req, Res>(
      method: string,
      handle: (request: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res> | Res,
    ): Unary<Req, Res> =>
    (call, callback) => {
      Promise.resolve()
        .then(() =>
          authorize(method, call.metadata, modelOf(call.request), call.getPeer(), () => {
            if (call.request instanceof UndecodableMessage) throw undecodable(call.request);
            return handle(call.request, call);
          }),
        )
        .then(
          (response) => callback(null, response),
          (err: unknown) => callback(fail(method, err)),
        );
    };

  const infer = async (
    msg: ModelInferRequestMessage,
    signal: CancelSignal,
    metadata: grpc.Metadata,
  ): Promise<ModelInferResponseMessage> => {
    if (msg instanceof UndecodableMessage) throw undecodable(msg);
    const { model, version, request } = decodeModelInferRequest(msg);
    // The request id routes canary / experiment traffic; a sticky key comes from call metadata.
    request.id ??= randomUUID();
    const routed = await engine.route(model, version, request.id, (name) => {
      const v = metadata.get(name)[0];
      return typeof v === 'string' ? v : undefined;
    });
    request.signal = signal;
    return encodeModelInferResponse(await engine.inferRouted(model, routed, request));
  };

  const modelName = (request: NameVersion): string => {
    if (request.name === '') throw errors.invalidArgument('name is required');
    return request.name;
  };

  return {
    ServerLive: unary('ServerLive', () => ({ live: true })),
    ServerReady: unary('ServerReady', () => ({ ready: engine.ready })),
    ServerMetadata: unary('ServerMetadata', () => SERVER_METADATA),
    ModelReady: unary('ModelReady', async (request: NameVersion) => {
      const sv = await engine.resolve(
        modelName(request),
        request.version === '' ? undefined : request.version,
      );
      return { ready: sv.isReady };
    }),
    ModelMetadata: unary('ModelMetadata', async (request: NameVersion) =>
      modelMetadata(
        engine,
        await engine.resolve(modelName(request), request.version === '' ? undefined : request.version),
      ),
    ),
    ModelConfig: unary('ModelConfig', async (request: NameVersion) => ({
      config: tritonModelConfig(
        await engine.resolve(modelName(request), request.version === '' ? undefined : request.version),
      ),
    })),
    ModelInfer: unary('ModelInfer', (request: ModelInferRequestMessage, call) =>
      infer(request, new CallCancelSignal(call), call.metadata),
    ),
    ModelStreamInfer: (call: grpc.ServerDuplexStream<ModelInferRequestMessage, unknown>) => {
      const signal = new CallCancelSignal(call);
      let pending = 0;
      let ended = false;
      const finish = () => {
        if (ended && pending === 0) call.end();
      };
      call.on('data', (msg: ModelInferRequestMessage) => {
        pending++;
        authorize('ModelStreamInfer', call.metadata, msg.model_name, call.getPeer(), () =>
          infer(msg, signal, call.metadata),
        )
          .then(
            (response) => call.write({ error_message: '', infer_response: response }),
            (err: unknown) => {
              const status = fail('ModelStreamInfer', err);
              // The stream stays open: the error travels in the response, with the request's id.
              const echo = msg instanceof UndecodableMessage ? {} : echoOf(msg);
              call.write({ error_message: status.details, infer_response: echo });
            },
          )
          .finally(() => {
            pending--;
            finish();
          });
      });
      call.on('end', () => {
        ended = true;
        finish();
      });
      call.on('error', () => undefined);
    },
    ModelStatistics: unary('ModelStatistics', async (request: NameVersion) => ({
      model_stats: await engine.table.statistics(
        request.name === '' ? undefined : request.name,
        request.version === '' ? undefined : request.version,
      ),
    })),
    RepositoryIndex: unary(
      'RepositoryIndex',
      async (request: { repository_name: string; ready: boolean }) => {
        if (request.repository_name !== '') {
          throw errors.invalidArgument(
            'repository_name is not supported: tend indexes all its repositories and the registry together',
          );
        }
        return { models: await engine.repositoryIndex({ readyOnly: request.ready }) };
      },
    ),
    RepositoryModelLoad: unary(
      'RepositoryModelLoad',
      async (request: { model_name: string; parameters: Record<string, unknown> }) => {
        if (request.model_name === '') throw errors.invalidArgument('model_name is required');
        const unknown = Object.keys(request.parameters);
        checkParameterKeys('parameters', unknown);
        if (unknown.length > 0)
          throw errors.invalidArgument(
            `unsupported load parameter(s): ${unknown.join(', ')}; tend loads the model as it is in its repository or the registry`,
          );
        await engine.loadModel(request.model_name);
        return {};
      },
    ),
    RepositoryModelUnload: unary(
      'RepositoryModelUnload',
      async (request: { model_name: string; parameters: Record<string, unknown> }) => {
        if (request.model_name === '') throw errors.invalidArgument('model_name is required');
        const unknown = Object.keys(request.parameters).filter((k) => k !== 'unload_dependents');
        checkParameterKeys('parameters', unknown);
        if (unknown.length > 0)
          throw errors.invalidArgument(`unsupported unload parameter(s): ${unknown.join(', ')}`);
        await engine.unloadModel(request.model_name);
        return {};
      },
    ),
  };
}
