/**
 * `tend bench REF`: load a V2 endpoint the way Triton's perf_analyzer does, over HTTP (JSON or
 * binary tensors) or gRPC, closed loop (--concurrency) or open loop (--request-rate), and report
 * latency percentiles, rates, failures by status and the server's own queue and compute times.
 * Without --url it starts `tend serve` in a child process on free ports.
 */
import { performance } from 'node:perf_hooks';
import { printJson, isInteractive, printTable } from '../output.js';
import { startLocalServer } from '../local-server.js';
import { runClosedLoop } from '../loadgen/closed-loop.js';
import { RequestCsvWriter } from '../loadgen/csv-writer.js';
import { summarizeLevel, type LevelSummary } from '../loadgen/level-summary.js';
import { runOpenLoop } from '../loadgen/open-loop.js';
import { fetchStatistics, serverSideTimes } from '../loadgen/stats-extension.js';
import {
  defaultGrpcAddress,
  parseBenchOptions,
  type BenchLevel,
  type BenchOptions,
  type BenchPlan,
} from './bench-options.js';
import { protocolLabel, prepareTarget, type BenchTarget } from './bench-target.js';
import { parseRef } from './registry.js';

// bench/servers.ts starts its servers on ports found the same way.
export { freePort } from '../local-server.js';
export type { BenchOptions } from './bench-options.js';

async function progressBar() {
  if (!isInteractive()) return undefined;
  const { SingleBar, Presets } = await import('cli-progress');
  return new SingleBar(
    {
      format: 'bench {level} |{bar}| {value}/{total} s  {requests} requests',
      hideCursor: true,
      stream: process.stderr,
    },
    Presets.shades_classic,
  );
}

function levelLabel(level: BenchLevel): string {
  return 'concurrency' in level ? `c=${level.concurrency}` : `${level.requestRate} req/s`;
}

async function runLevel(
  target: BenchTarget,
  plan: BenchPlan,
  level: BenchLevel,
  batch: number,
  stats: () => ReturnType<typeof fetchStatistics>,
  onTick: (done: number) => void,
) {
  const before = await stats();
  const sender = target.sender(level);
  try {
    await sender.connect();
    const timing = { durationMs: plan.durationMs, warmupMs: plan.warmupMs, onTick };
    const cpuBefore = process.cpuUsage();
    const startedMs = performance.now();
    const result =
      'concurrency' in level
        ? await runClosedLoop(sender, level.concurrency, timing)
        : await runOpenLoop(sender, {
            ...timing,
            ratePerSecond: level.requestRate,
            maxInFlight: plan.maxInFlight,
          });
    const cpu = process.cpuUsage(cpuBefore);
    const cpuCores = (cpu.user + cpu.system) / 1000 / (performance.now() - startedMs);
    const server = serverSideTimes(before, await stats());
    const concurrency = 'concurrency' in level ? level.concurrency : null;
    return { log: result.log, summary: summarizeLevel(result, concurrency, batch, server, cpuCores) };
  } finally {
    sender.close();
  }
}

export async function benchCommand(ref: string, opts: BenchOptions): Promise<void> {
  const plan = parseBenchOptions(opts);
  const { name, version } = parseRef(ref);
  const csv = opts.csv ? await RequestCsvWriter.open(opts.csv) : undefined;
  const local =
    plan.url === null ? await startLocalServer({ ...opts, grpc: plan.protocol === 'grpc' }) : undefined;
  try {
    const baseUrl = plan.url ?? local?.url ?? '';
    const grpcAddress =
      plan.protocol === 'grpc'
        ? (plan.grpcAddress ?? local?.grpcAddress ?? defaultGrpcAddress(baseUrl))
        : null;
    const target = await prepareTarget({
      baseUrl,
      name,
      version,
      plan,
      batch: opts.batch,
      dataPath: opts.data,
      grpcAddress,
    });
    const stats = () => fetchStatistics(baseUrl, name, target.servedVersion);
    const progress = opts.json ? undefined : await progressBar();
    const levels: LevelSummary[] = [];
    const totalSeconds = Math.round((plan.warmupMs + plan.durationMs) / 1000);
    for (const level of plan.levels) {
      const started = Date.now();
      const label = levelLabel(level);
      progress?.start(totalSeconds, 0, { level: label, requests: 0 });
      const { log, summary } = await runLevel(target, plan, level, opts.batch, stats, (done) =>
        progress?.update(Math.min(totalSeconds, Math.round((Date.now() - started) / 1000)), {
          level: label,
          requests: done,
        }),
      );
      progress?.stop();
      levels.push(summary);
      await csv?.writeLevel(level, log);
    }
    if (opts.json) {
      printJson({
        model: ref,
        url: target.modelUrl,
        protocol: plan.protocol,
        binary: plan.binary,
        grpc_address: grpcAddress,
        batch: opts.batch,
        duration_seconds: plan.durationMs / 1000,
        warmup_seconds: plan.warmupMs / 1000,
        csv: opts.csv ?? null,
        levels,
      });
      return;
    }
    printHuman(ref, target, plan, opts.batch, levels, grpcAddress);
    if (opts.csv) process.stdout.write(`one row per request in ${opts.csv}\n`);
  } finally {
    await csv?.close();
    local?.child.kill('SIGTERM');
  }
}

const ms = (x: number): string => x.toFixed(2);
const us = (x: number | undefined): string => (x === undefined ? '—' : x.toFixed(0));

function printHuman(
  ref: string,
  target: BenchTarget,
  plan: BenchPlan,
  batch: number,
  levels: readonly LevelSummary[],
  grpcAddress: string | null,
): void {
  const where = grpcAddress === null ? target.modelUrl : `${grpcAddress} (version ${target.servedVersion})`;
  process.stdout.write(
    `${ref} over ${protocolLabel(plan)} at ${where}, batch ${batch}, ${plan.durationMs / 1000} s per level\n`,
  );
  const open = levels.some((l) => l.request_rate !== null);
  printTable(
    [
      open ? 'RATE' : 'CONCURRENCY',
      'SENT/S',
      'OK/S',
      'P50 MS',
      'P90 MS',
      'P95 MS',
      'P99 MS',
      'ERRORS',
      'QUEUE µS',
      'INFER µS',
    ],
    levels.map((l) => [
      open ? l.request_rate : l.concurrency,
      l.send_rate_rps.toFixed(0),
      l.throughput_rps.toFixed(0),
      ms(l.latency_ms.p50),
      ms(l.latency_ms.p90),
      ms(l.latency_ms.p95),
      ms(l.latency_ms.p99),
      l.errors,
      us(l.server?.queue_us),
      us(l.server?.compute_infer_us),
    ]),
  );
  for (const l of levels) {
    const label = l.request_rate !== null ? `${l.request_rate} req/s` : `c=${l.concurrency}`;
    const failures = Object.entries(l.errors_by_status).map(([status, n]) => `${status} ×${n}`);
    if (failures.length > 0) process.stdout.write(`${label}: errors by status: ${failures.join(', ')}\n`);
    if (l.error_samples[0] !== undefined)
      process.stdout.write(`${label}: first error: ${l.error_samples[0]}\n`);
    if (l.max_in_flight !== null && l.peak_in_flight !== null && l.peak_in_flight >= l.max_in_flight)
      process.stdout.write(
        `${label}: the in-flight cap (${l.max_in_flight}) was reached: requests due then were not sent — raise --max-in-flight\n`,
      );
    if (l.schedule_lag_ms !== null && l.schedule_lag_ms.p99 > 5)
      process.stdout.write(
        `${label}: sends lagged their schedule by ${ms(l.schedule_lag_ms.p99)} ms at p99 — the load generator is short of CPU\n`,
      );
  }
  if (levels.some((l) => l.server === null))
    process.stdout.write('server-side times: the server does not answer the statistics extension\n');
}
