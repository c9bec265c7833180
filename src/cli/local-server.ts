/**
 * A `tend serve` child process on free ports, for commands that measure a server (`tend bench`
 * without --url): the load generator and the server then do not share an event loop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { errors } from '../core/errors.js';

export interface LocalServerOptions {
  home?: string;
  repo: readonly string[];
  /** Also serve gRPC (on a free port); HTTP only otherwise. */
  grpc: boolean;
}

export interface LocalServer {
  url: string;
  /** host:port of the gRPC frontend, when asked for. */
  grpcAddress: string | null;
  child: ChildProcess;
}

const READY_TIMEOUT_MS = 120_000;

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Start `tend serve` (the script this process runs) and wait until it is ready. */
export async function startLocalServer(opts: LocalServerOptions): Promise<LocalServer> {
  const port = await freePort();
  let grpcPort = opts.grpc ? await freePort() : 0;
  while (opts.grpc && grpcPort === port) grpcPort = await freePort();
  const script = process.argv[1];
  if (!script) throw errors.internal('cannot find the tend script to start a server');
  const args = [...process.execArgv, script, 'serve', '--host', '127.0.0.1', '--port', String(port)];
  args.push(...(opts.grpc ? ['--grpc-port', String(grpcPort)] : ['--no-grpc']), '--log-level', 'warn');
  if (opts.home) args.push('--home', opts.home);
  for (const r of opts.repo) args.push('--repo', r);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw errors.internal(`the server exited with code ${child.exitCode} before it was ready`);
    try {
      const res = await fetch(`${url}/v2/health/ready`);
      if (res.ok) return { url, grpcAddress: opts.grpc ? `127.0.0.1:${grpcPort}` : null, child };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  throw errors.internal(`the server did not become ready within ${READY_TIMEOUT_MS / 1000} s`);
}
