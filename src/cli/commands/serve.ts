/** `tend serve`: the registry and repositories over KServe V2, until SIGINT/SIGTERM. */
import type { ServerConfig } from '../../core/config.js';
import { resolveServerConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import { TEND_VERSION } from '../../core/version.js';
import { Engine } from '../../engine/index.js';
import { startGrpcServer, type RunningGrpcServer } from '../../server/grpc/index.js';
import { startHttpServer, type RunningServer } from '../../server/http/index.js';
import { resolveHome } from '../home.js';
import { parseDuration } from '../loadgen.js';

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
}

export interface ServingHandle {
  engine: Engine;
  server: RunningServer;
  grpc: RunningGrpcServer | undefined;
  stop(): Promise<void>;
}

/** Open the engine, listen (liveness answers at once), load the models, print where to look. */
export async function startServing(config: ServerConfig, describe?: (engine: Engine, url: string, grpcAddress: string | undefined) => string): Promise<ServingHandle> {
  const logger = createLogger(config.log_level);
  const engine = await Engine.open({ home: resolveHome(config.home), repos: config.repos, config, logger });
  let server: RunningServer;
  try {
    server = await startHttpServer(engine, { host: config.host, port: config.port, bodyLimitBytes: config.body_limit_bytes, logger });
  } catch (err) {
    await engine.close();
    throw err;
  }
  let grpc: RunningGrpcServer | undefined;
  if (config.grpc) {
    try {
      grpc = await startGrpcServer(engine, { host: config.host, port: config.grpc_port, maxMessageBytes: config.body_limit_bytes, logger });
    } catch (err) {
      await server.close();
      await engine.close();
      throw err;
    }
  }
  process.stdout.write(`tend ${TEND_VERSION} listening on ${server.url}${grpc ? ` (gRPC ${grpc.address})` : ''} — loading models…\n`);
  await engine.loadAll();
  for (const m of engine.listServed()) {
    const states = m.versions.map((v) => `v${v.version} ${v.state.toLowerCase()}${v.isReady ? '' : v.reason ? ` (${v.reason})` : ''}`);
    process.stdout.write(`  ${m.name} [${m.source}] ${m.error ?? (states.join(', ') || 'no versions')}\n`);
  }
  process.stdout.write(describe ? describe(engine, server.url, grpc?.address) : defaultBanner(engine, server.url));
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      await grpc?.close();
      await server.close();
      await engine.close();
      logger.flush();
    })();
    return stopping;
  };
  return { engine, server, grpc, stop };
}

function defaultBanner(engine: Engine, url: string): string {
  const first = engine.listServed()[0];
  const lines = [`ready: ${engine.ready ? 'yes' : 'no (see above)'} — health ${url}/v2/health/ready, metrics ${url}/metrics`];
  if (first) lines.push(`try: curl -s ${url}/v2/models/${first.name}`);
  else lines.push('no models yet: `tend push FILE --name NAME` (then restart), or `tend serve --repo DIR`');
  return `${lines.join('\n')}\n`;
}

/** Stop cleanly on the first SIGINT/SIGTERM, at once on the second. */
export function stopOnSignals(stop: () => Promise<void>): void {
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) process.exit(130);
    process.stdout.write(`\n${signal}: finishing requests in progress, then stopping (send again to stop at once)\n`);
    stop().then(
      () => process.exit(0),
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
      pollIntervalMs: opts.pollInterval === undefined ? undefined : parseDuration(opts.pollInterval),
      home: opts.home,
      repos: opts.repo,
      logLevel: opts.logLevel,
    },
  });
  const handle = await startServing(config);
  stopOnSignals(handle.stop);
}
