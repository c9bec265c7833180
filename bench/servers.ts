/**
 * Servers under test run as child processes, so that the load generator and the bench's own
 * in-process measurements never share their event loop. Every child is remembered and killed when
 * the bench ends, whichever way it ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { freePort } from '../src/cli/commands/bench.js';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
/** The repository root (this file is bench/servers.ts, run through tsx). */
export const REPO_ROOT = resolve(HERE, '..');

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      for (const child of live) child.kill('SIGKILL');
      process.exit(130);
    });
  }
}

export interface ChildServer {
  name: string;
  baseUrl: string;
  /** host:port of the gRPC frontend (tend servers only). */
  grpcAddress?: string;
  logPath: string;
  pid: number;
  /** Stop the child (SIGTERM, then SIGKILL after 5 s). */
  stop(): Promise<void>;
}

export interface StartOptions {
  name: string;
  /** The program; Node (this one) when absent. */
  command?: string;
  args: string[];
  env?: Record<string, string>;
  port: number;
  logPath: string;
  readyPath: string;
  readyTimeoutMs: number;
}

export async function startChild(options: StartOptions): Promise<ChildServer> {
  installExitHook();
  const logFd = openSync(options.logPath, 'a');
  // Logs go to a file: a pipe nobody drains would stall a chatty server.
  const child = spawn(options.command ?? process.execPath, options.args, {
    cwd: REPO_ROOT,
    stdio: ['ignore', logFd, logFd],
    env: { ...process.env, ...options.env },
  });
  closeSync(logFd);
  live.add(child);
  let exited: string | null = null;
  const exitedPromise = new Promise<void>((resolveExit) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      exited = `exited with ${signal ?? code}`;
      resolveExit();
    });
  });
  const baseUrl = `http://127.0.0.1:${options.port}`;
  const server: ChildServer = {
    name: options.name,
    baseUrl,
    logPath: options.logPath,
    pid: child.pid ?? -1,
    stop: async () => {
      if (exited !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exitedPromise;
      clearTimeout(timer);
    },
  };
  const deadline = Date.now() + options.readyTimeoutMs;
  for (;;) {
    if (exited !== null)
      throw new Error(`${options.name} ${exited} before it was ready:\n${logTail(options.logPath)}`);
    try {
      const res = await fetch(baseUrl + options.readyPath, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return server;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(
        `${options.name} was not ready after ${options.readyTimeoutMs / 1000} s:\n${logTail(options.logPath)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The last lines of a log file, for error messages. */
export function logTail(path: string, lines = 20): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Start the bare Fastify ceiling server (bench/ceiling-server). */
export async function startCeilingServer(logDir: string): Promise<ChildServer> {
  const ext = extname(fileURLToPath(import.meta.url));
  const script = join(HERE, `ceiling-server${ext}`);
  // When the bench itself runs from TypeScript sources (tsx), so must the child.
  const loader = ext === '.ts' ? ['--import', 'tsx'] : [];
  const port = await freePort();
  return startChild({
    name: 'fastify ceiling server',
    args: [...loader, script, String(port)],
    port,
    logPath: join(logDir, 'ceiling-server.log'),
    readyPath: '/v2/health/ready',
    readyTimeoutMs: 30_000,
  });
}

export interface TendServeOptions {
  name: string;
  repos: string[];
  home: string;
  configPath?: string;
  logDir: string;
  /** Extra environment variables for the server process. */
  env?: Record<string, string>;
  /** The checkout whose `bin/tend.js` runs (another commit's build); this one when absent. */
  root?: string;
}

/**
 * Start `node bin/tend.js serve` on a free HTTP port and a free gRPC port (gRPC is on by default,
 * and its default port 8001 may be taken) and wait until every model is ready.
 */
export async function startTendServer(options: TendServeOptions): Promise<ChildServer> {
  const port = await freePort();
  let grpcPort = await freePort();
  while (grpcPort === port) grpcPort = await freePort();
  const args = [join(options.root ?? REPO_ROOT, 'bin', 'tend.js'), 'serve'];
  for (const repo of options.repos) args.push('--repo', repo);
  // The default log level (info): the figures are those of a server started the way users start it.
  args.push(
    '--home',
    options.home,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--grpc-port',
    String(grpcPort),
  );
  if (options.configPath !== undefined) args.push('--config', options.configPath);
  const server = await startChild({
    name: `tend serve (${options.name})`,
    args,
    port,
    logPath: join(options.logDir, `serve-${options.name}.log`),
    readyPath: '/v2/health/ready',
    readyTimeoutMs: 180_000,
    ...(options.env !== undefined ? { env: options.env } : {}),
  });
  return { ...server, grpcAddress: `127.0.0.1:${grpcPort}` };
}

/** Stop every child still running. */
export async function stopAllServers(): Promise<void> {
  await Promise.all(
    [...live].map(
      (child) =>
        new Promise<void>((done) => {
          if (child.exitCode !== null || child.signalCode !== null) return done();
          child.once('exit', () => done());
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 5000).unref();
        }),
    ),
  );
}
