/** Start and stop the HTTP frontend around an engine. */
import type { Logger } from '../../core/logger.js';
import type { Engine } from '../../engine/index.js';
import { buildHttpApp } from './app.js';

export interface RunningServer {
  /** Base URL, e.g. http://127.0.0.1:8000 */
  url: string;
  port: number;
  /** Stop accepting connections and finish the requests in progress. */
  close(): Promise<void>;
}

/** Listen on host:port (port 0 picks a free one). */
export async function startHttpServer(
  engine: Engine,
  options: { host: string; port: number; bodyLimitBytes: number; logger?: Logger },
): Promise<RunningServer> {
  const app = buildHttpApp(engine, { bodyLimitBytes: options.bodyLimitBytes, ...(options.logger ? { logger: options.logger } : {}) });
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return { url: `http://${host}:${port}`, port, close: () => app.close() };
}
