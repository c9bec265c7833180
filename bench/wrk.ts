/**
 * wrk as the load generator of the benchmarks: a C client that does not compete with the server for
 * a JavaScript event loop. Bodies go through a Lua script that reads the body file at start-up.
 */
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const WRK_PATH = process.env.TEND_WRK ?? 'wrk';

export interface WrkResult {
  connections: number;
  durationSeconds: number;
  requests: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p75: number; p90: number; p99: number };
  /** Answers that were not 2xx or 3xx. */
  non2xx: number;
  /** connect + read + write + timeout errors. */
  socketErrors: number;
}

export interface WrkRun {
  url: string;
  /** Path of the Lua script made by {@link writePostScript}. */
  scriptPath: string;
  connections: number;
  durationSeconds: number;
  threads?: number;
}

/** wrk's version line, or null when the binary is missing. */
export function wrkVersion(): string | null {
  const probe = spawnSync(WRK_PATH, ['--version'], { encoding: 'utf8' });
  // wrk --version prints its banner and exits 1; only a missing binary sets `error`.
  if (probe.error !== undefined) return null;
  const banner = `${probe.stdout}${probe.stderr}`.split('\n')[0] ?? '';
  return /^wrk\s+(\S+)/.exec(banner)?.[1] ?? 'unknown';
}

/** Write `body` and a Lua script that POSTs it as JSON into `dir`; returns the script path. */
export function writePostScript(
  dir: string,
  name: string,
  body: string,
  headers: Record<string, string> = {},
): string {
  const bodyPath = join(dir, `${name}.body.json`);
  writeFileSync(bodyPath, body);
  return writeLuaScript(dir, name, bodyPath, { 'Content-Type': 'application/json', ...headers });
}

/**
 * Write a binary-extension body (JSON header of `headerLength` bytes, then raw tensor bytes) and a
 * Lua script that POSTs it with the headers the extension needs; returns the script path.
 */
export function writeBinaryPostScript(dir: string, name: string, body: Buffer, headerLength: number): string {
  const bodyPath = join(dir, `${name}.body.bin`);
  writeFileSync(bodyPath, body);
  return writeLuaScript(dir, name, bodyPath, {
    'Content-Type': 'application/octet-stream',
    'Inference-Header-Content-Length': String(headerLength),
  });
}

function writeLuaScript(
  dir: string,
  name: string,
  bodyPath: string,
  headers: Record<string, string>,
): string {
  const scriptPath = join(dir, `${name}.lua`);
  // JSON string escapes (\" \\ \n) are valid in a Lua string literal too; Lua strings hold binary bytes as they are.
  const lua = [
    `local file = assert(io.open(${JSON.stringify(bodyPath)}, "rb"))`,
    'wrk.body = file:read("*a")',
    'file:close()',
    'wrk.method = "POST"',
    ...Object.entries(headers).map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`),
    '',
  ].join('\n');
  writeFileSync(scriptPath, lua);
  return scriptPath;
}

/** Run wrk once and parse its report. */
export async function runWrk(run: WrkRun): Promise<WrkResult> {
  const args = [
    `-t${run.threads ?? 1}`,
    `-c${run.connections}`,
    `-d${Math.max(1, Math.round(run.durationSeconds))}s`,
    '--timeout',
    '30s',
    '--latency',
    '-s',
    run.scriptPath,
    run.url,
  ];
  const child = spawn(WRK_PATH, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) throw new Error(`wrk exited with ${code}: ${stderr.trim() || stdout.trim()}`);
  return parseWrkOutput(stdout, run.connections);
}

const TIME_UNITS_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function parseTimeMs(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!match) throw new Error(`wrk: cannot read the time '${text}'`);
  return Number(match[1]) * (TIME_UNITS_MS[match[2] ?? ''] ?? Number.NaN);
}

/** Parse the text wrk prints with `--latency`. */
export function parseWrkOutput(text: string, connections: number): WrkResult {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text);
  const total = /(\d+) requests in ([\d.]+\w+),/.exec(text);
  if (!rps || !total) throw new Error(`wrk: unexpected output:\n${text}`);
  const percentile = (p: number): number => {
    const m = new RegExp(`^\\s*${p}(?:\\.0+)?%\\s+(\\S+)\\s*$`, 'm').exec(text);
    if (!m) throw new Error(`wrk: no ${p}% latency in its output (run with --latency)`);
    return parseTimeMs(m[1] ?? '');
  };
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(text);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const socketErrors = socket ? socket.slice(1, 5).reduce((sum, n) => sum + Number(n), 0) : 0;
  return {
    connections,
    durationSeconds: parseTimeMs(total[2] ?? '') / 1000,
    requests: Number(total[1]),
    requestsPerSecond: Number(rps[1]),
    latencyMs: { p50: percentile(50), p75: percentile(75), p90: percentile(90), p99: percentile(99) },
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors,
  };
}
