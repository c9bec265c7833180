/**
 * Starting a worker thread whether tend runs from its TypeScript source (tsx: tests, development)
 * or from dist. Modules that own a worker name its entry with `siblingModule` and start it with
 * `startWorkerFrom`; neither they nor their worker need to know which of the two they run from.
 */
import { fork, type ChildProcess, type ForkOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, threadId, type WorkerOptions } from 'node:worker_threads';
import type * as EsbuildApi from 'esbuild';

/** True when `moduleUrl` (a module's `import.meta.url`) is TypeScript source run through tsx. */
export function isSourceModule(moduleUrl: string | URL): boolean {
  const path = typeof moduleUrl === 'string' ? new URL(moduleUrl).pathname : moduleUrl.pathname;
  return path.endsWith('.ts');
}

/**
 * The module `name` next to `moduleUrl`, with the extension the caller has (.ts from source, .js in dist).
 * @example const WORKER_URL = siblingModule(import.meta.url, 'worker');
 */
export function siblingModule(moduleUrl: string, name: string): URL {
  return new URL(`./${name}${isSourceModule(moduleUrl) ? '.ts' : '.js'}`, moduleUrl);
}

const bundles = new Map<string, URL>();

/**
 * From source, a worker's TypeScript is bundled once per process into plain JavaScript with esbuild
 * (a dev dependency, never needed by dist). Loading tsx inside every worker instead costs about 4×
 * the start time of a compiled worker, which hundreds of worker starts in the tests pay. The bundle
 * lives under node_modules/.cache so that it resolves its external packages like the source does;
 * its name is its content hash, written atomically, so concurrent test processes share it safely.
 */
function bundledSourceWorker(entry: URL, externals: readonly string[]): URL {
  const key = `${entry.href}\n${externals.join('\n')}`;
  const known = bundles.get(key);
  if (known) return known;
  const require = createRequire(import.meta.url);
  const esbuild = require('esbuild') as typeof EsbuildApi;
  const entryPath = fileURLToPath(entry);
  const built = esbuild.buildSync({
    entryPoints: [entryPath],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: [...externals],
    write: false,
    logLevel: 'silent',
  });
  const code = (built.outputFiles[0] as { contents: Uint8Array }).contents;
  const dir = fileURLToPath(new URL('../../node_modules/.cache/tend/', import.meta.url));
  const stem = basename(entryPath, extname(entryPath));
  const file = join(dir, `${stem}-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    const partial = `${file}.${process.pid}.${threadId}.tmp`;
    writeFileSync(partial, code);
    renameSync(partial, file);
  }
  const url = pathToFileURL(file);
  bundles.set(key, url);
  return url;
}

/**
 * The parent's Node flags a worker thread inherits, minus `--input-type`: it describes the parent's
 * `-e` script (a script run as `node --input-type=module -e …` that uses tend), and a worker given it
 * exits at once.
 */
export function workerExecArgv(execArgv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i] as string;
    if (arg === '--input-type') i++;
    else if (!arg.startsWith('--input-type=')) kept.push(arg);
  }
  return kept;
}

/**
 * Start a worker thread running the module at `entry` (from `siblingModule`). From source, the entry
 * and everything it imports are bundled, except the packages named in `externals` (native addons such
 * as onnxruntime-node or better-sqlite3, which must load from node_modules).
 * @example startWorkerFrom(siblingModule(import.meta.url, 'log-writer'), { workerData }, ['better-sqlite3'])
 */
export function startWorkerFrom(entry: URL, options: WorkerOptions, externals: readonly string[]): Worker {
  if (!isSourceModule(entry))
    return new Worker(entry, { ...options, execArgv: options.execArgv ?? workerExecArgv(process.execArgv) });
  // Plain JavaScript: the worker must not inherit the parent's `--import tsx`.
  return new Worker(bundledSourceWorker(entry, externals), { ...options, execArgv: [] });
}

/**
 * Start a child process (with an IPC channel) running the module at `entry` (from `siblingModule`),
 * bundled from source like `startWorkerFrom`. The child never inherits the parent's Node flags
 * (`--import tsx`, `--inspect` with its port, heap sizes meant for the server).
 * @example startProcessFrom(siblingModule(import.meta.url, 'process-host'), { serialization: 'advanced' },
 * ['onnxruntime-node'])
 */
export function startProcessFrom(
  entry: URL,
  options: ForkOptions,
  externals: readonly string[],
): ChildProcess {
  const script = isSourceModule(entry) ? bundledSourceWorker(entry, externals) : entry;
  return fork(fileURLToPath(script), [], { ...options, execArgv: [] });
}
