/** `tend serve`: the registry and repositories over KServe V2, until SIGINT/SIGTERM. */
import type { ServerConfig } from '../../core/config.js';
import { resolveServerConfig } from '../../core/config.js';
import { createLogger, type Logger } from '../../core/logger.js';
import { TEND_VERSION } from '../../core/version.js';
import { Engine } from '../../engine/index.js';
import { startGrpcServer, type RunningGrpcServer } from '../../server/grpc/index.js';
import { startHttpServer, type RunningServer } from '../../server/http/index.js';
import { resolveHome } from '../home.js';
import { parseDuration } from '../../core/duration.js';
import { errors } from '../../core/errors.js';
import { readTlsFiles, type TlsFiles } from '../../server/tls.js';

export interface ServeOptions {
  repo: string[];
  home?: string;
  host?: string;
  port?: number;
  grpcPort?: number;
  /** false with --no-grpc; undefined keeps the config's choice. */
  grpc?: boolean;
  modelControl?: string;
  /** `--poll-interval`, e.g. 1s or 500ms (poll mode). */
  pollInterval?: string;
  config?: string;
  logLevel?: string;
  /** `--shutdown-timeout`, e.g. 30s. */
  shutdownTimeout?: string;
  insecureNoAuth?: boolean;
  tokensFile?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
}

export interface ServingHandle {
  engine: Engine;
  server: RunningServer;
  grpc: RunningGrpcServer | undefined;
  /** Drain and stop; true when everything in flight finished within shutdown_timeout_ms. */
  stop(): Promise<boolean>;
}

/** Open the engine, listen (liveness answers at once), load the models, print where to look. */
export async function startServing(config: ServerConfig, describe?: (engine: Engine, url: string, grpcAddress: string | undefined) => string): Promise<ServingHandle> {
  const logger = createLogger(config.log_level);
  const engine = await Engine.open({ home: resolveHome(config.home), repos: config.repos, config, logger });
  let server: RunningServer;
  let tls: TlsFiles | undefined;
  try {
    checkAuthForHost(engine, config, logger);
    tls = readTlsFiles(config.security);
    server = await startHttpServer(engine, { host: config.host, port: config.port, bodyLimitBytes: config.body_limit_bytes, logger, ...(tls ? { tls } : {}) });
  } catch (err) {
    await engine.close();
    throw err;
  }
  let grpc: RunningGrpcServer | undefined;
  if (config.grpc) {
    try {
      grpc = await startGrpcServer(engine, { host: config.host, port: config.grpc_port, maxMessageBytes: config.body_limit_bytes, logger, ...(tls ? { tls } : {}) });
    } catch (err) {
      await server.close();
      await engine.close();
      throw err;
    }
  }
  process.stdout.write(`tend ${TEND_VERSION} listening on ${server.url}${grpc ? ` (gRPC ${grpc.address})` : ''} — loading models…\n`);
  await engine.loadAll();
  for (const m of engine.table.listServed()) {
    const states = m.versions.map((v) => `v${v.version} ${v.state.toLowerCase()}${v.isReady ? '' : v.reason ? ` (${v.reason})` : ''}`);
    process.stdout.write(`  ${m.name} [${m.source}] ${m.error ?? (states.join(', ') || 'no versions')}\n`);
  }
  process.stdout.write(describe ? describe(engine, server.url, grpc?.address) : defaultBanner(engine, server.url));
  let stopping: Promise<boolean> | undefined;
  const stop = () => {
    stopping ??= drainAndStop(engine, server, grpc, config.shutdown_timeout_ms, logger);
    return stopping;
  };
  return { engine, server, grpc, stop };
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/**
 * Safe by default: with no token configured, only loopback addresses are served; any other host
 * needs --insecure-no-auth, which is then announced at start and on /v2. Authentication, once on,
 * stays on until the process ends (see AccessControl).
 */
function checkAuthForHost(engine: Engine, config: ServerConfig, logger: Logger): void {
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
  process.stderr.write(`warning: ${warning}\n`);
}

/**
 * Graceful stop: readiness turns false, the frontends stop accepting and finish what is in flight or
 * queued, then the engine unloads and the prediction log is flushed. Resolves true when everything
 * drained within `timeoutMs`, false when the deadline cut it short.
 */
async function drainAndStop(engine: Engine, server: RunningServer, grpc: RunningGrpcServer | undefined, timeoutMs: number, logger: Logger): Promise<boolean> {
  engine.beginShutdown();
  const started = Date.now();
  const [httpDrained] = await Promise.all([server.drained(timeoutMs), grpc?.close(timeoutMs)]);
  const outcome = httpDrained ? 'drained' : 'timeout';
  if (outcome === 'timeout') {
    logger.warn({ timeout_ms: timeoutMs }, 'shutdown deadline passed with requests still in flight; stopping anyway');
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

function defaultBanner(engine: Engine, url: string): string {
  const first = engine.table.listServed()[0];
  const lines = [`ready: ${engine.ready ? 'yes' : 'no (see above)'} — health ${url}/v2/health/ready, metrics ${url}/metrics`];
  if (first) lines.push(`try: curl -s ${url}/v2/models/${first.name}`);
  else lines.push('no models yet: `tend push FILE --name NAME` (then restart), or `tend serve --repo DIR`');
  return `${lines.join('\n')}\n`;
}

/** Drain and stop on the first SIGINT/SIGTERM (exit 0, or 1 past the deadline); exit at once on the second. */
export function stopOnSignals(stop: () => Promise<boolean>): void {
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      process.stderr.write(`${signal} again: stopping now, requests in flight are lost\n`);
      process.exit(130);
    }
    process.stdout.write(`\n${signal}: not ready any more, finishing requests in flight, then stopping (send again to stop at once)\n`);
    stop().then(
      (drained) => process.exit(drained ? 0 : 1),
      (err: unknown) => {
        process.stderr.write(`error while stopping: ${(err as Error).message}\n`);
        process.exit(2);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

export async function serveCommand(opts: ServeOptions): Promise<void> {
  const config = resolveServerConfig({
    file: opts.config,
    flags: {
      host: opts.host,
      port: opts.port,
      grpcPort: opts.grpcPort,
      // commander sets grpc: true unless --no-grpc; only the explicit "no" overrides the config file.
      grpc: opts.grpc === false ? false : undefined,
      modelControl: opts.modelControl,
      pollIntervalMs: opts.pollInterval === undefined ? undefined : parseDuration(opts.pollInterval, { what: '--poll-interval', plainSeconds: true, minMs: 1 }),
      home: opts.home,
      repos: opts.repo,
      logLevel: opts.logLevel,
      shutdownTimeoutMs: opts.shutdownTimeout === undefined ? undefined : parseDuration(opts.shutdownTimeout, { what: '--shutdown-timeout', plainSeconds: true }),
      insecureNoAuth: opts.insecureNoAuth,
      tokensFile: opts.tokensFile,
      tlsCert: opts.tlsCert,
      tlsKey: opts.tlsKey,
      tlsCa: opts.tlsCa,
    },
  });
  const handle = await startServing(config);
  stopOnSignals(handle.stop);
}
