/** A gRPC client of tend's V2 service for the tests, built from the same proto file clients get. */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { LOADER_OPTIONS, PROTO_PATH } from '../src/server/grpc/index.js';

export type Message = Record<string, unknown>;

export interface GrpcTestClient {
  call(method: string, request: Message, options?: CallOptions): Promise<Message>;
  /** The status of a call that must fail. */
  fail(method: string, request: Message, options?: CallOptions): Promise<grpc.ServiceError>;
  stream(requests: Message[], authorization?: string): Promise<Message[]>;
  close(): void;
}

export interface CallOptions {
  deadlineMs?: number;
  authorization?: string;
  /** More metadata (a sticky routing header, say). */
  metadata?: Record<string, string>;
}

export function grpcClient(address: string): GrpcTestClient {
  const loaded = grpc.loadPackageDefinition(protoLoader.loadSync(PROTO_PATH, LOADER_OPTIONS)) as unknown as {
    inference: {
      GRPCInferenceService: new (address: string, credentials: grpc.ChannelCredentials) => grpc.Client;
    };
  };
  const client = new loaded.inference.GRPCInferenceService(
    address,
    grpc.credentials.createInsecure(),
  ) as grpc.Client &
    Record<
      string,
      (
        req: Message,
        meta: grpc.Metadata,
        opts: grpc.CallOptions,
        cb: (err: grpc.ServiceError | null, res: Message) => void,
      ) => void
    > &
    Record<string, () => grpc.ClientDuplexStream<Message, Message>>;
  const call = (method: string, request: Message, options: CallOptions = {}) =>
    new Promise<Message>((resolve, reject) => {
      const fn = client[method] as unknown as (
        req: Message,
        meta: grpc.Metadata,
        opts: grpc.CallOptions,
        cb: (err: grpc.ServiceError | null, res: Message) => void,
      ) => void;
      const opts: grpc.CallOptions =
        options.deadlineMs !== undefined ? { deadline: Date.now() + options.deadlineMs } : {};
      const metadata = new grpc.Metadata();
      if (options.authorization !== undefined) metadata.set('authorization', options.authorization);
      for (const [key, value] of Object.entries(options.metadata ?? {})) metadata.set(key, value);
      fn.call(client, request, metadata, opts, (err, res) => (err ? reject(err) : resolve(res)));
    });
  return {
    call,
    async fail(method, request, options) {
      try {
        await call(method, request, options);
      } catch (err) {
        return err as grpc.ServiceError;
      }
      throw new Error(`${method} was expected to fail`);
    },
    stream(requests, authorization) {
      return new Promise((resolve, reject) => {
        const fn = client['ModelStreamInfer'] as unknown as (
          metadata: grpc.Metadata,
        ) => grpc.ClientDuplexStream<Message, Message>;
        const metadata = new grpc.Metadata();
        if (authorization !== undefined) metadata.set('authorization', authorization);
        const duplex = fn.call(client, metadata);
        const got: Message[] = [];
        duplex.on('data', (m: Message) => got.push(m));
        duplex.on('error', reject);
        duplex.on('end', () => resolve(got));
        for (const r of requests) duplex.write(r);
        duplex.end();
      });
    },
    close: () => client.close(),
  };
}

/** One valid request per unary method of the V2 service, for the digits model (the access-table tests). */
export function digitsUnaryRequests(): Record<string, Message> {
  const pixels = Array.from({ length: 64 }, (_, i) => i % 16);
  return {
    ServerLive: {},
    ServerReady: {},
    ModelReady: { name: 'digits', version: '' },
    ServerMetadata: {},
    ModelMetadata: { name: 'digits', version: '' },
    ModelStatistics: { name: 'digits', version: '' },
    RepositoryIndex: { repository_name: '', ready: false },
    ModelInfer: {
      model_name: 'digits',
      model_version: '',
      inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 64], contents: { fp32_contents: pixels } }],
    },
    RepositoryModelLoad: { model_name: 'digits', parameters: {} },
    RepositoryModelUnload: { model_name: 'digits', parameters: {} },
  };
}
