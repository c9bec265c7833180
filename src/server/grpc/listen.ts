/** Start and stop the gRPC frontend around an engine. */
import * as grpc from '@grpc/grpc-js';
import { errors } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { Engine } from '../../engine/index.js';
import { inferenceServiceDefinition } from './definition.js';
import { inferenceService } from './service.js';
import type { TlsFiles } from '../tls.js';

export interface RunningGrpcServer {
  /** host:port, as gRPC clients take it. */
  address: string;
  port: number;
  /** Stop accepting calls and let the ones in progress finish (forced after `graceMs`). */
  close(graceMs?: number): Promise<void>;
}

function credentials(tls: TlsFiles | undefined): grpc.ServerCredentials {
  if (tls === undefined) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(
    tls.ca ?? null,
    [{ private_key: tls.key, cert_chain: tls.cert }],
    tls.ca !== undefined,
  );
}

/** Listen on host:port (0 picks a free one). Messages up to `maxMessageBytes` are accepted. */
export async function startGrpcServer(
  engine: Engine,
  options: { host: string; port: number; maxMessageBytes: number; logger?: Logger; tls?: TlsFiles },
): Promise<RunningGrpcServer> {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': options.maxMessageBytes,
    'grpc.max_send_message_length': -1,
  });
  server.addService(inferenceServiceDefinition(), inferenceService(engine, options.logger));
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${options.port}`, credentials(options.tls), (err, bound) =>
      err ? reject(err) : resolve(bound),
    );
  }).catch((err: unknown) => {
    server.forceShutdown();
    const message = (err as Error).message;
    if (/EADDRINUSE|address already in use/i.test(message)) {
      throw errors.invalidArgument(
        `gRPC port ${options.port} on ${options.host} is already in use; pick another with --grpc-port, or --no-grpc`,
      );
    }
    throw errors.invalidArgument(`cannot listen for gRPC on ${options.host}:${options.port}: ${message}`);
  });
  return {
    address: `${host}:${port}`,
    port,
    close: (graceMs = 10_000) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        timer.unref();
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
