/**
 * `tend bench REF`: a concurrency sweep against a V2 endpoint, like Triton's perf_analyzer.
 * Without --url it starts `tend serve` in a child process on a free port, so the load generator
 * and the server do not share an event loop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { errors } from '../../core/errors.js';
import { parseDuration } from '../../core/duration.js';
import { runLoad, parseConcurrencyList, type LoadLevelResult } from '../loadgen.js';
import { isInteractive, printJson, printTable } from '../output.js';
import { parseRef } from './registry.js';

export interface BenchOptions {
  url?: string;
  concurrency: string;
  duration: string;
  warmup: string;
  batch: number;
  shape: string[];
  data?: string;
  home?: string;
  repo: string[];
  json?: boolean;
}

interface MetadataInput {
  name: string;
  datatype: string;
  shape: number[];
}

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

async function startLocalServer(opts: BenchOptions): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const script = process.argv[1];
  if (!script) throw errors.internal('cannot find the tend script to start a server');
  const args = [
    ...process.execArgv,
    script,
    'serve',
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--no-grpc',
    '--log-level',
    'warn',
  ];
  if (opts.home) args.push('--home', opts.home);
  for (const r of opts.repo) args.push('--repo', r);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw errors.internal(`the server exited with code ${child.exitCode} before it was ready`);
    try {
      const res = await fetch(`${url}/v2/health/ready`);
      if (res.ok) return { url, child };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  throw errors.internal('the server did not become ready within 120 s');
}

/** Parse `name=1,128` flags into a map of input dimensions. */
export function parseShapes(flags: readonly string[]): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    const dims = flag
      .slice(eq + 1)
      .split(',')
      .map(Number);
    if (eq <= 0 || dims.some((d) => !Number.isInteger(d) || d < 1)) {
      throw errors.invalidArgument(`--shape '${flag}' must look like NAME=D1,D2,... with positive integers`);
    }
    shapes.set(flag.slice(0, eq), dims);
  }
  return shapes;
}

function randomValues(datatype: string, count: number): unknown[] {
  const out = new Array<unknown>(count);
  for (let i = 0; i < count; i++) {
    if (datatype === 'FP32' || datatype === 'FP64' || datatype === 'FP16') out[i] = Math.random();
    else if (datatype === 'BOOL') out[i] = Math.random() < 0.5;
    else if (datatype === 'BYTES') out[i] = 'tend';
    else out[i] = Math.floor(Math.random() * 10);
  }
  return out;
}

/** A V2 request body of `batch` items with random values, shaped from the model's metadata. */
export function syntheticBody(
  inputs: readonly MetadataInput[],
  batch: number,
  shapes: Map<string, number[]>,
): string {
  return JSON.stringify({
    inputs: inputs.map((input) => {
      const given = shapes.get(input.name);
      const shape = given ?? input.shape.map((d, i) => (d >= 0 ? d : i === 0 ? batch : 1));
      const count = shape.reduce((a, b) => a * b, 1);
      return { name: input.name, shape, datatype: input.datatype, data: randomValues(input.datatype, count) };
    }),
  });
}

async function progressBar() {
  if (!isInteractive()) return undefined;
  const { SingleBar, Presets } = await import('cli-progress');
  return new SingleBar(
    {
      format: 'bench c={c} |{bar}| {value}/{total} s  {requests} requests',
      hideCursor: true,
      stream: process.stderr,
    },
    Presets.shades_classic,
  );
}

export async function benchCommand(ref: string, opts: BenchOptions): Promise<void> {
  const concurrencies = parseConcurrencyList(opts.concurrency);
  const durationMs = parseDuration(opts.duration, { what: '--duration', plainSeconds: true, minMs: 1 });
  const warmupMs = parseDuration(opts.warmup, { what: '--warmup', plainSeconds: true });
  const shapes = parseShapes(opts.shape);
  const { name, version } = parseRef(ref);
  const local = opts.url ? undefined : await startLocalServer(opts);
  const baseUrl = (opts.url ?? local?.url ?? '').replace(/\/$/, '');
  try {
    const modelUrl = `${baseUrl}/v2/models/${encodeURIComponent(name)}${version ? `/versions/${encodeURIComponent(version)}` : ''}`;
    const metaRes = await fetch(modelUrl);
    const meta = (await metaRes.json()) as { inputs?: MetadataInput[]; error?: string };
    if (!metaRes.ok)
      throw errors.withCode(
        metaRes.status === 404 ? 'TEND_MODEL_NOT_FOUND' : 'TEND_BAD_REQUEST',
        meta.error ?? `metadata request answered ${metaRes.status}`,
      );
    const body = opts.data
      ? readFileSync(opts.data, 'utf8')
      : syntheticBody(meta.inputs ?? [], opts.batch, shapes);
    const check = await fetch(`${modelUrl}/infer`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json' },
    });
    if (!check.ok) {
      const answer = (await check.json()) as { error?: string };
      throw errors.invalidArgument(
        `the benchmark request is refused: ${answer.error ?? check.status} (use --shape or --data)`,
      );
    }
    const progress = opts.json ? undefined : await progressBar();
    const results: LoadLevelResult[] = [];
    for (const c of concurrencies) {
      const levelStart = Date.now();
      const totalSeconds = Math.round((warmupMs + durationMs) / 1000);
      progress?.start(totalSeconds, 0, { c, requests: 0 });
      results.push(
        await runLoad({
          url: `${modelUrl}/infer`,
          body,
          concurrency: c,
          durationMs,
          warmupMs,
          itemsPerRequest: opts.batch,
          onTick: (done) =>
            progress?.update(Math.min(totalSeconds, Math.round((Date.now() - levelStart) / 1000)), {
              c,
              requests: done,
            }),
        }),
      );
      progress?.stop();
    }
    if (opts.json) {
      printJson({
        model: ref,
        url: modelUrl,
        batch: opts.batch,
        duration_seconds: durationMs / 1000,
        levels: results,
      });
      return;
    }
    process.stdout.write(`${ref} at ${modelUrl}, batch ${opts.batch}, ${durationMs / 1000} s per level\n`);
    printTable(
      ['CONCURRENCY', 'REQ/S', 'ITEMS/S', 'P50 MS', 'P90 MS', 'P99 MS', 'ERRORS'],
      results.map((r) => [
        r.concurrency,
        r.throughput_rps.toFixed(0),
        r.throughput_items_per_second.toFixed(0),
        r.latency_ms.p50.toFixed(2),
        r.latency_ms.p90.toFixed(2),
        r.latency_ms.p99.toFixed(2),
        r.errors,
      ]),
    );
  } finally {
    local?.child.kill('SIGTERM');
  }
}
