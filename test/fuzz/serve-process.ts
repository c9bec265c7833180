/**
 * A real `tend serve` in a child process on loopback, for the fuzzer: a crash is then the server's
 * death (seen as an exit), not the fuzzer's, and the two processes use both cores.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI, ROOT } from '../helpers.js';

export interface ServeProcess {
  url: string;
  /** host:port of the gRPC frontend. */
  grpcAddress: string;
  child: ChildProcess;
  /** Set once the process has exited: how. */
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** Log lines at level error or fatal (pino JSON, level ≥ 50), and any stderr text. */
  errorLines: string[];
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

/** The environment without TEND_* variables, so a developer's settings cannot change the run. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { NO_COLOR: '1' };
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TEND_')) env[k] = v;
  return env;
}

/**
 * Start `tend serve --home HOME --config FILE` on free ports and resolve once every model is loaded
 * (the banner line "ready:" printed).
 */
export function startServeProcess(options: {
  home: string;
  configFile: string;
  logLevel?: string;
  extraArgs?: string[];
}): Promise<ServeProcess> {
  const args = [
    '--import',
    'tsx',
    CLI,
    'serve',
    '--home',
    options.home,
    '--config',
    options.configFile,
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--grpc-port',
    '0',
    '--log-level',
    options.logLevel ?? 'error',
    ...(options.extraArgs ?? []),
  ];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const errorLines: string[] = [];
  let stdout = '';
  let partial = '';
  const proc: ServeProcess = {
    url: '',
    grpcAddress: '',
    child,
    exit: undefined,
    errorLines,
    stop: (graceMs = 5000) =>
      new Promise<void>((resolve) => {
        if (proc.exit) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
  const onLine = (line: string): void => {
    if (line.trim() === '' || errorLines.length >= 200) return;
    // onnxruntime writes its own refusals of bad inputs (TEND_INFERENCE_FAILED answers) to stderr.
    if (/\[[EW]:onnxruntime:/.test(line)) return;
    try {
      const entry = JSON.parse(line) as { level?: number };
      if ((entry.level ?? 0) >= 50) errorLines.push(line.slice(0, 4000));
    } catch {
      errorLines.push(line.slice(0, 2000)); // not a log entry: an uncaught error, a warning
    }
  };
  let stderrPartial = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderrPartial += chunk.toString();
    const lines = stderrPartial.split('\n');
    stderrPartial = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  });
  return new Promise<ServeProcess>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      if (proc.url === '') stdout += text;
      partial += text;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line.startsWith('{')) onLine(line);
      if (proc.url === '') {
        const listening = /listening on (http:\/\/[^\s]+)(?: \(gRPC ([^)\s]+)\))?/.exec(stdout);
        if (listening && /^ready: /m.test(stdout)) {
          proc.url = listening[1] as string;
          proc.grpcAddress = listening[2] ?? '';
          if (!/^ready: yes/m.test(stdout))
            reject(new Error(`tend serve started but is not ready:\n${stdout}`));
          else resolve(proc);
        }
      }
    });
    child.once('exit', (code, signal) => {
      proc.exit = { code, signal };
      if (proc.url === '')
        reject(
          new Error(
            `tend serve exited (${code ?? signal}) before it was ready:\n${stdout}\n${errorLines.join('\n')}`,
          ),
        );
    });
  });
}
