/**
 * Serving as a whole: open the engine, check that the address may be served without
 * authentication, start HTTP (liveness answers at once) and gRPC, load the models, and stop by
 * draining. `tend serve` and the library's `startServer` both start here; neither prints from here.
 */
import type { ServerConfig } from '../core/config.js';
import { errors } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { Engine } from '../engine/index.js';
import { startGrpcServer, type RunningGrpcServer } from './grpc/index.js';
import { startHttpServer, type RunningServer } from './http/index.js';
import { readTlsFiles, type TlsFiles } from './tls.js';

export interface ServingOptions {
  /** The registry home, already resolved to an absolute path. */
  home: string;
  logger: Logger;
  /** Called once both frontends listen, before the models load. */
  onListening?: (server: RunningServer, grpc: RunningGrpcServer | undefined) => void;
  /** Called with the warning when a non-loopback address is served without authentication. */
  onInsecure?: (warning: string) => void;
}

export interface Serving {
  engine: Engine;
  server: RunningServer;
  grpc: RunningGrpcServer | undefined;
  /** Drain and stop; true when everything in flight finished within shutdown_timeout_ms. Idempotent. */
  stop(): Promise<boolean>;
}

/** Open the engine, listen, load every model. Nothing is left open when it throws. */
export async function startServing(config: ServerConfig, options: ServingOptions): Promise<Serving> {
  const { logger } = options;
  const engine = await Engine.open({ home: options.home, repos: config.repos, config, logger });
  let server: RunningServer;
  let tls: TlsFiles | undefined;
  try {
    checkAuthForHost(engine, config, logger, options.onInsecure);
    tls = readTlsFiles(config.security);
    server = await startHttpServer(engine, {
      host: config.host,
      port: config.port,
      bodyLimitBytes: config.body_limit_bytes,
      logger,
      ...(tls ? { tls } : {}),
    });
  } catch (err) {
    await engine.close();
    throw err;
  }
  let grpc: RunningGrpcServer | undefined;
  if (config.grpc) {
    try {
      grpc = await startGrpcServer(engine, {
        host: config.host,
        port: config.grpc_port,
        maxMessageBytes: config.body_limit_bytes,
        logger,
        ...(tls ? { tls } : {}),
      });
    } catch (err) {
      await server.close();
      await engine.close();
      throw err;
    }
  }
  options.onListening?.(server, grpc);
  let stopping: Promise<boolean> | undefined;
  const stop = () => {
    stopping ??= drainAndStop(engine, server, grpc, config.shutdown_timeout_ms, logger);
    return stopping;
  };
  try {
    await engine.loadAll();
  } catch (err) {
    await stop();
    throw err;
  }
  return { engine, server, grpc, stop };
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/**
 * Safe by default: with no token configured, only loopback addresses are served; any other host
 * needs insecure_no_auth, which is then announced at start and on /v2. Authentication, once on,
 * stays on until the process ends (see AccessControl).
 */
function checkAuthForHost(
  engine: Engine,
  config: ServerConfig,
  logger: Logger,
  onInsecure: ((warning: string) => void) | undefined,
): void {
  if (LOOPBACK.test(config.host)) return;
  if (engine.access.enabled) {
    // Beyond loopback authentication is required for the server's whole life, whatever happens to the tokens.
    engine.access.requireAuthentication();
    return;
  }
  if (!config.security.insecure_no_auth) {
    throw errors.invalidArgument(
      `refusing to serve ${config.host} without authentication: create a token first (tend token create --name NAME --scopes infer,read), or pass --insecure-no-auth to serve anyone who can reach this address`,
    );
  }
  const warning = `authentication is off (--insecure-no-auth) and tend listens on ${config.host}: anyone who can reach it may deploy and delete models`;
  engine.setAuthWarning(warning);
  logger.warn(warning);
  onInsecure?.(warning);
}

/**
 * Graceful stop: readiness turns false, the frontends stop accepting and finish what is in flight or
 * queued, then the engine unloads and the prediction log is flushed. Resolves true when everything
 * drained within `timeoutMs`, false when the deadline cut it short.
 */
async function drainAndStop(
  engine: Engine,
  server: RunningServer,
  grpc: RunningGrpcServer | undefined,
  timeoutMs: number,
  logger: Logger,
): Promise<boolean> {
  engine.beginShutdown();
  const started = Date.now();
  const [httpDrained] = await Promise.all([server.drained(timeoutMs), grpc?.close(timeoutMs)]);
  const outcome = httpDrained ? 'drained' : 'timeout';
  if (outcome === 'timeout') {
    logger.warn(
      { timeout_ms: timeoutMs },
      'shutdown deadline passed with requests still in flight; stopping anyway',
    );
  } else {
    logger.info({ drain_ms: Date.now() - started }, 'requests drained');
  }
  if (outcome === 'drained') {
    await server.close();
    await engine.close();
  } else {
    // Past the deadline nothing may wait on the stuck requests: close what closes promptly, flush the log.
    const briefly = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
    await Promise.race([server.close(), briefly(1000)]);
    await Promise.race([engine.close(), briefly(5000)]);
  }
  logger.flush();
  return outcome === 'drained';
}
