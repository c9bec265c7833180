/** Start and stop the HTTP frontend around an engine. */
import { errors } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { Engine } from '../../engine/index.js';
import { buildHttpApp } from './app.js';
import type { TlsFiles } from '../tls.js';

export interface RunningServer {
  /** Base URL, e.g. http://127.0.0.1:8000 */
  url: string;
  port: number;
  /** Stop accepting connections and finish the requests in progress. */
  close(): Promise<void>;
  /**
   * Shutdown, first step (the engine must be draining): wait until no request is in flight, or
   * `timeoutMs` passed. Resolves true when drained.
   */
  drained(timeoutMs: number): Promise<boolean>;
}

const DRAIN_POLL_MS = 20;

/** Listen on host:port (port 0 picks a free one). */
export async function startHttpServer(
  engine: Engine,
  options: { host: string; port: number; bodyLimitBytes: number; logger?: Logger; tls?: TlsFiles },
): Promise<RunningServer> {
  const app = buildHttpApp(engine, {
    bodyLimitBytes: options.bodyLimitBytes,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.tls ? { tls: options.tls } : {}),
  });
  try {
    await app.listen({ host: options.host, port: options.port });
  } catch (err) {
    await app.close();
    const code = (err as { code?: string }).code;
    if (code === 'EADDRINUSE') {
      throw errors.invalidArgument(
        `port ${options.port} on ${options.host} is already in use; stop the other server or pick another with --port`,
      );
    }
    if (code === 'EACCES' || code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
      throw errors.invalidArgument(`cannot listen on ${options.host}:${options.port} (${code})`);
    }
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const drained = async (timeoutMs: number): Promise<boolean> => {
    const until = Date.now() + timeoutMs;
    // The request limits count every admitted request until its answer is sent (health probes aside).
    while (engine.requestLimits.pending > 0) {
      if (Date.now() >= until) return false;
      await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
    }
    return true;
  };
  return {
    url: `${options.tls ? 'https' : 'http'}://${host}:${port}`,
    port,
    close: () => app.close(),
    drained,
  };
}
