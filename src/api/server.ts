/** The HTTP (KServe V2 REST, management API, dashboard) and gRPC servers, started from a script. */
import type { ServerConfigInput } from '../core/config.js';
import { createLogger } from '../core/logger.js';
import { startServing } from '../server/serving.js';
import { libraryConfig } from './engine.js';
import { resolveHomeDir } from './registry.js';

/** What `startServer` serves and where. */
export interface StartServerOptions {
  /** Registry home (default: `config.home`, else `$TEND_HOME`, else `./.tend`). */
  home?: string;
  /** Triton-like repositories served in place (added to `config.repos`). */
  repos?: string[];
  /**
   * Server settings as in the config file: `host` (default 127.0.0.1), `port` (8000; 0 picks a free
   * one), `grpc` and `grpc_port` (8001), `security`, `limits`, `models`… `log_level` defaults to
   * `silent` here. `TEND_*` environment variables are not read.
   */
  config?: ServerConfigInput;
}

/** A running server. */
export interface RunningTendServer {
  /** Base URL of the HTTP server, e.g. `http://127.0.0.1:8000`. */
  url: string;
  /** `host:port` of the gRPC server; undefined when gRPC is off. */
  grpcAddress: string | undefined;
  /** True once every servable model has a ready version. */
  readonly ready: boolean;
  /**
   * Stop gracefully: readiness turns false, requests in flight finish (for up to
   * `shutdown_timeout_ms`), models unload. Resolves true when everything drained in time.
   */
  stop(): Promise<boolean>;
}

/**
 * Start serving a registry home over HTTP (and gRPC unless `config.grpc` is false); resolves once
 * the models are loaded. Without a token, only loopback addresses are served (see the README's
 * security section).
 * @example
 * const server = await startServer({ home: './.tend', config: { port: 0, grpc: false } });
 * console.log(`${server.url}/v2/models/digits`);
 * await server.stop();
 */
export async function startServer(options: StartServerOptions = {}): Promise<RunningTendServer> {
  const home = resolveHomeDir(options.home ?? options.config?.home);
  const repos = [...(options.config?.repos ?? []), ...(options.repos ?? [])];
  const config = libraryConfig(options.config, home, repos);
  const serving = await startServing(config, {
    home,
    logger: createLogger(config.log_level, config.log_format),
  });
  const { engine } = serving;
  return {
    url: serving.server.url,
    grpcAddress: serving.grpc?.address,
    get ready() {
      return engine.ready;
    },
    stop: serving.stop,
  };
}
