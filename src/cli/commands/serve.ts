/** `tend serve`: the registry and repositories over KServe V2, until SIGINT/SIGTERM. */
import type { ServerConfig } from '../../core/config.js';
import { resolveServerConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import { TEND_VERSION } from '../../core/version.js';
import type { Engine } from '../../engine/index.js';
import { startServing as startServingAndServers, type Serving } from '../../server/serving.js';
import { resolveHome } from '../home.js';
import { parseDuration } from '../../core/duration.js';

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
  logFormat?: string;
  /** `--shutdown-timeout`, e.g. 30s. */
  shutdownTimeout?: string;
  insecureNoAuth?: boolean;
  tokensFile?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
}

export type ServingHandle = Serving;

/** Open the engine, listen (liveness answers at once), load the models, print where to look. */
export async function startServing(
  config: ServerConfig,
  describe?: (engine: Engine, url: string, grpcAddress: string | undefined) => string,
): Promise<ServingHandle> {
  const serving = await startServingAndServers(config, {
    home: resolveHome(config.home),
    logger: createLogger(config.log_level, config.log_format),
    onInsecure: (warning) => process.stderr.write(`warning: ${warning}\n`),
    onListening: (server, grpc) =>
      process.stdout.write(
        `tend ${TEND_VERSION} listening on ${server.url}${grpc ? ` (gRPC ${grpc.address})` : ''} — loading models…\n`,
      ),
  });
  const { engine, server, grpc } = serving;
  for (const m of engine.table.listServed()) {
    const states = m.versions.map(
      (v) => `v${v.version} ${v.state.toLowerCase()}${v.isReady ? '' : v.reason ? ` (${v.reason})` : ''}`,
    );
    process.stdout.write(`  ${m.name} [${m.source}] ${m.error ?? (states.join(', ') || 'no versions')}\n`);
  }
  process.stdout.write(
    describe ? describe(engine, server.url, grpc?.address) : defaultBanner(engine, server.url),
  );
  return serving;
}

function defaultBanner(engine: Engine, url: string): string {
  const first = engine.table.listServed()[0];
  const lines = [
    `ready: ${engine.ready ? 'yes' : 'no (see above)'} — health ${url}/v2/health/ready, metrics ${url}/metrics`,
  ];
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
    process.stdout.write(
      `\n${signal}: not ready any more, finishing requests in flight, then stopping (send again to stop at once)\n`,
    );
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
      pollIntervalMs:
        opts.pollInterval === undefined
          ? undefined
          : parseDuration(opts.pollInterval, { what: '--poll-interval', plainSeconds: true, minMs: 1 }),
      home: opts.home,
      repos: opts.repo,
      logLevel: opts.logLevel,
      logFormat: opts.logFormat,
      shutdownTimeoutMs:
        opts.shutdownTimeout === undefined
          ? undefined
          : parseDuration(opts.shutdownTimeout, { what: '--shutdown-timeout', plainSeconds: true }),
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
