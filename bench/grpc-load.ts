/**
 * The gRPC load generator: a closed loop that keeps `concurrency` ModelInfer calls in flight over
 * one or more channels, counts the calls that complete in a fixed window after a warm-up, and
 * reports req/s and latency percentiles. It runs as a child process (`node grpc-load.js PLAN_JSON`,
 * printing one JSON line), so that its event loop is not the bench's nor the server's.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type * as grpc from '@grpc/grpc-js';
import { openInferenceClient, sendModelInferCallback, waitForConnection } from './grpc-infer.js';

export interface GrpcLoadPlan {
  /** host:port of the server. */
  address: string;
  /** File holding one encoded ModelInferRequest, sent as it is by every call. */
  requestPath: string;
  /** Calls in flight at any time, split evenly over the channels. */
  concurrency: number;
  /** Clients with an HTTP/2 connection each. */
  channels: number;
  warmupSeconds: number;
  durationSeconds: number;
}

export interface GrpcLoadResult {
  concurrency: number;
  channels: number;
  /** Length of the measured window. */
  durationSeconds: number;
  /** Calls that completed OK inside the window. */
  calls: number;
  /** Failed calls over the whole run, warm-up included. */
  errors: number;
  firstError: string | null;
  /** CPU the load generator itself used during the window, in cores (1 = one core busy throughout). */
  clientCpuCores: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p99: number };
}

/** Stop early when this many calls failed: the figure is void anyway. */
const MAX_ERRORS = 1000;
const HUNG_CALL_GRACE_MS = 30_000;

/** The `p`-th percentile (nearest rank) of ascending `sorted` values; NaN when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}

/** Latencies of the measured window, in a growable typed array (no per-call allocation). */
class LatencyLog {
  private values = new Float64Array(1 << 14);
  length = 0;

  push(ms: number): void {
    if (this.length === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = ms;
  }

  sorted(): Float64Array {
    return this.values.slice(0, this.length).sort();
  }
}

/** Split `concurrency` calls over `channels` as evenly as possible. */
export function slotsPerChannel(concurrency: number, channels: number): number[] {
  return Array.from(
    { length: channels },
    (_, i) => Math.floor(concurrency / channels) + (i < concurrency % channels ? 1 : 0),
  );
}

/** Run the closed loop in this process. */
export async function generateGrpcLoad(plan: GrpcLoadPlan): Promise<GrpcLoadResult> {
  if (!(plan.concurrency >= 1 && plan.channels >= 1 && plan.channels <= plan.concurrency)) {
    throw new Error(`grpc load: need 1 ≤ channels (${plan.channels}) ≤ concurrency (${plan.concurrency})`);
  }
  const request = readFileSync(plan.requestPath);
  const clients: grpc.Client[] = [];
  for (let i = 0; i < plan.channels; i++)
    clients.push(openInferenceClient(plan.address, { ownConnection: true }));
  try {
    await Promise.all(clients.map((c) => waitForConnection(c, 10_000)));
    const latencies = new LatencyLog();
    let calls = 0;
    let errors = 0;
    let firstError: string | null = null;
    let inFlight = 0;
    let stopping = false;
    const started = performance.now();
    const windowStart = started + plan.warmupSeconds * 1000;
    const windowEnd = windowStart + plan.durationSeconds * 1000;
    let cpuAtStart = process.cpuUsage();
    let cpuInWindow: NodeJS.CpuUsage | null = null;
    const windowTimers = [
      setTimeout(() => (cpuAtStart = process.cpuUsage()), windowStart - started),
      setTimeout(() => (cpuInWindow = process.cpuUsage(cpuAtStart)), windowEnd - started),
    ];
    let drained: () => void = () => undefined;
    const allDone = new Promise<void>((r) => (drained = r));

    const issue = (client: grpc.Client): void => {
      const sent = performance.now();
      inFlight += 1;
      sendModelInferCallback(client, request, (err) => {
        inFlight -= 1;
        const now = performance.now();
        if (err) {
          errors += 1;
          firstError ??= `${err.code} ${err.details}`;
          if (errors >= MAX_ERRORS) stopping = true;
        } else if (now >= windowStart && now < windowEnd) {
          calls += 1;
          latencies.push(now - sent);
        }
        if (now >= windowEnd) stopping = true;
        if (!stopping) issue(client);
        else if (inFlight === 0) drained();
      });
    };
    for (const [i, slots] of slotsPerChannel(plan.concurrency, plan.channels).entries()) {
      const client = clients[i] as grpc.Client;
      for (let s = 0; s < slots; s++) issue(client);
    }
    // Calls that hang would keep the loop from ever draining: give up on them after a grace period.
    const timer = setTimeout(
      () => {
        stopping = true;
        if (inFlight > 0) {
          errors += inFlight;
          firstError ??= `${inFlight} calls still in flight ${HUNG_CALL_GRACE_MS / 1000} s after the window`;
        }
        drained();
      },
      windowEnd - started + HUNG_CALL_GRACE_MS,
    );
    await allDone;
    clearTimeout(timer);
    for (const t of windowTimers) clearTimeout(t);
    const cpu: NodeJS.CpuUsage = cpuInWindow ?? process.cpuUsage(cpuAtStart);
    const sorted = latencies.sorted();
    return {
      concurrency: plan.concurrency,
      channels: plan.channels,
      durationSeconds: plan.durationSeconds,
      calls,
      errors,
      firstError,
      clientCpuCores: (cpu.user + cpu.system) / 1e6 / plan.durationSeconds,
      requestsPerSecond: calls / plan.durationSeconds,
      latencyMs: { p50: percentile(sorted, 50), p99: percentile(sorted, 99) },
    };
  } finally {
    for (const c of clients) c.close();
  }
}

const HERE = dirname(fileURLToPath(import.meta.url));

/** Run the load generator in a child process and return its result. */
export async function runGrpcLoad(plan: GrpcLoadPlan): Promise<GrpcLoadResult> {
  const ext = extname(fileURLToPath(import.meta.url));
  // When the bench runs from TypeScript sources (tsx), so must the child.
  const loader = ext === '.ts' ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...loader, join(HERE, `grpc-load${ext}`), JSON.stringify(plan)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const limitMs = (plan.warmupSeconds + plan.durationSeconds + 60) * 1000;
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  const code = await new Promise<number | null>((resolveExit, reject) => {
    child.on('error', reject);
    child.on('close', resolveExit);
  }).finally(() => clearTimeout(timer));
  if (code !== 0)
    throw new Error(`grpc load generator exited with ${code}: ${stderr.trim() || stdout.trim()}`);
  const line = stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as GrpcLoadResult;
  } catch {
    throw new Error(`grpc load generator printed no result: ${stdout.slice(0, 300)}`);
  }
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  return script !== undefined && resolve(script) === fileURLToPath(import.meta.url);
}

if (isEntryPoint()) {
  generateGrpcLoad(JSON.parse(process.argv[2] ?? '{}') as GrpcLoadPlan).then(
    (result) => {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
