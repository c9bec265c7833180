/**
 * The protocols section: one `tend serve` (HTTP and gRPC) with the models loaded, 16 clients sending
 * batch-1 requests as V2 JSON (wrk), the binary tensor extension (wrk) and gRPC ModelInfer with raw
 * contents (a Node load generator in its own process, on one channel and on two), and raw
 * onnxruntime at the model's best batch as the ceiling. Each round measures every one of them once,
 * so a slow moment of the shared machine hits them all; figures are medians over the rounds. A run
 * during which other processes took CPU is measured again (see cpu-accounting.ts).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDirectSession } from '../src/runtime/index.js';
import { sampleBatchThroughput, type ComputeCeiling } from './compute.js';
import { checkProtocolOutputs, type OutputCheck } from './output-check.js';
import { encodeModelInferRequest } from './grpc-infer.js';
import { runGrpcLoad, type GrpcLoadResult } from './grpc-load.js';
import { readBatchCounter, type BatchCounter } from './http-load.js';
import {
  MAX_ATTEMPTS,
  measureUndisturbed,
  OTHER_CORES_LIMIT,
  type UndisturbedPolicy,
} from './cpu-accounting.js';
import { v2BinaryBody, v2JsonBody, type BenchModel } from './models.js';
import {
  addToRepository,
  BATCHING_MAX_BATCH_SIZE,
  batchingConfig,
  COMPUTE_INTRA_OP_THREADS,
  runComputeCeilings,
  withServer,
  type SectionContext,
} from './sections.js';
import { startTendServer } from './servers.js';
import { median } from './statistics.js';
import { runWrk, writeBinaryPostScript, writePostScript } from './wrk.js';

export const PROTOCOL_CLIENTS = 16;
export const PROTOCOL_DELAY_US = 0;
/**
 * A slow model completes few requests per run, and in whole batches: 16 clients and batches of 16
 * finish together, so an 8 s run of a 56 items/s model counts in steps of 16 out of ~450 (3.5%,
 * close to the 5-point rule). Its runs are stretched until they hold this many items per second of
 * --duration at the ceiling rate (capped).
 */
const MIN_ITEMS_PER_DURATION_SECOND = 100;
const MAX_RUN_SECONDS = 30;
/** Warm-up of each gRPC load process after the first (a fresh process has a cold JIT and a new connection). */
const GRPC_REPEAT_WARMUP_SECONDS = 1;

export type ProtocolKey = 'json' | 'binary' | 'grpc' | 'grpc-2ch';

export const PROTOCOLS: readonly { key: ProtocolKey; label: string }[] = [
  { key: 'json', label: 'JSON over HTTP' },
  { key: 'binary', label: 'binary tensors over HTTP' },
  { key: 'grpc', label: `gRPC, 1 channel × ${PROTOCOL_CLIENTS}` },
  { key: 'grpc-2ch', label: `gRPC, 2 channels × ${PROTOCOL_CLIENTS / 2}` },
];

export interface ProtocolRun {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  failures: number;
  /** Server process CPU (all threads, inference included) per request it served during the run; null off Linux. */
  serverCpuMsPerRequest: number | null;
  /** CPU of the load generator in cores (wrk: its whole process; gRPC: the measured window). */
  clientCpuCores: number | null;
  /** CPU other processes of the machine used meanwhile, in cores; null off Linux. */
  otherCores: number | null;
  /** Times the run was measured (repeated when other processes took more than the limit). */
  attempts: number;
  /** Still above the limit after the last attempt. */
  disturbed: boolean;
}

export interface ProtocolFigure {
  protocol: ProtocolKey;
  label: string;
  runs: ProtocolRun[];
  /** Medians over the undisturbed runs (over all runs when every one was disturbed). */
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Failed requests over all runs. */
  failures: number;
  meanBatchSize: number | null;
  serverCpuMsPerRequest: number | null;
  clientCpuCores: number | null;
  /** Median over the runs the figures use. */
  otherCores: number | null;
  /** Runs measured in all, repeats included. */
  attempts: number;
  /** Runs still disturbed after their last attempt (left out of the medians unless all were). */
  disturbedRuns: number;
}

export interface Sample {
  itemsPerSecond: number;
  /** Other processes still took CPU during the last attempt. */
  disturbed: boolean;
}

export interface ProtocolModelResult {
  model: string;
  /** Raw onnxruntime: best batch of the compute sweep and its items/s there. */
  ceilingBatch: number;
  ceilingSweepItemsPerSecond: number;
  /** Raw onnxruntime at that batch, one sample per round; the ratios use the median of the undisturbed ones. */
  ceilingSamples: Sample[];
  ceilingItemsPerSecond: number;
  /** Length of each measured run of this model (longer than --duration for slow models). */
  runSeconds: number;
  figures: ProtocolFigure[];
  check: OutputCheck;
}

export interface ProtocolsResult {
  clients: number;
  maxBatchSize: number;
  delayUs: number;
  models: ProtocolModelResult[];
  skippedModels: string[];
}

interface Tally {
  runs: ProtocolRun[];
  batches: number;
  items: number;
}

type LoadRun = Pick<ProtocolRun, 'requestsPerSecond' | 'p50Ms' | 'p99Ms' | 'failures' | 'clientCpuCores'>;

function fromGrpc(r: GrpcLoadResult): LoadRun {
  // JSON has no NaN: a run with no completed call comes back with null percentiles.
  return {
    requestsPerSecond: r.requestsPerSecond,
    p50Ms: r.latencyMs.p50 ?? Number.NaN,
    p99Ms: r.latencyMs.p99 ?? Number.NaN,
    failures: r.errors,
    clientCpuCores: r.clientCpuCores,
  };
}

function medianOrNull(values: (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null && Number.isFinite(v));
  return known.length > 0 ? median(known) : null;
}

/** The runs not disturbed by other processes, or all of them when every one was. */
export function undisturbed<T extends { disturbed: boolean }>(runs: readonly T[]): readonly T[] {
  const clean = runs.filter((r) => !r.disturbed);
  return clean.length > 0 ? clean : runs;
}

function summarize(key: ProtocolKey, label: string, tally: Tally): ProtocolFigure {
  // A run that other processes disturbed measured them as much as tend: the medians leave it out.
  const kept = undisturbed(tally.runs);
  return {
    protocol: key,
    label,
    runs: tally.runs,
    requestsPerSecond: median(kept.map((r) => r.requestsPerSecond)),
    p50Ms: median(kept.map((r) => r.p50Ms)),
    p99Ms: median(kept.map((r) => r.p99Ms)),
    failures: tally.runs.reduce((sum, r) => sum + r.failures, 0),
    meanBatchSize: tally.batches > 0 ? tally.items / tally.batches : null,
    serverCpuMsPerRequest: medianOrNull(kept.map((r) => r.serverCpuMsPerRequest)),
    clientCpuCores: medianOrNull(kept.map((r) => r.clientCpuCores)),
    otherCores: medianOrNull(kept.map((r) => r.otherCores)),
    attempts: tally.runs.reduce((sum, r) => sum + r.attempts, 0),
    disturbedRuns: tally.runs.filter((r) => r.disturbed).length,
  };
}

/** Measure every protocol of every model against one server; ceilings come from `compute` when it has them. */
export async function runProtocols(
  ctx: SectionContext,
  models: readonly BenchModel[],
  compute: readonly ComputeCeiling[] | undefined,
  skippedModels: string[],
): Promise<ProtocolsResult> {
  const missing = models.filter((m) => !compute?.some((c) => c.model === m.name));
  const ceilings = [
    ...(compute ?? []),
    ...(missing.length > 0 ? await runComputeCeilings(ctx, missing) : []),
  ];
  const repo = join(ctx.workDir, 'repo-protocols');
  const config = batchingConfig({ label: `on, delay ${PROTOCOL_DELAY_US} µs`, delayUs: PROTOCOL_DELAY_US });
  for (const model of models) addToRepository(repo, model.name, model.path, config);
  const results: ProtocolModelResult[] = [];
  await withServer(
    () =>
      startTendServer({
        name: 'protocols',
        repos: [repo],
        home: join(ctx.workDir, 'home-protocols'),
        logDir: ctx.workDir,
      }),
    async (server) => {
      const grpcAddress = server.grpcAddress;
      if (grpcAddress === undefined) throw new Error('the tend server has no gRPC address');
      for (const model of models) {
        const ceiling = ceilings.find((c) => c.model === model.name);
        if (ceiling === undefined) throw new Error(`no compute ceiling for ${model.name}`);
        results.push(
          await measureModel(ctx, model, ceiling, { baseUrl: server.baseUrl, grpcAddress, pid: server.pid }),
        );
      }
    },
  );
  return {
    clients: PROTOCOL_CLIENTS,
    maxBatchSize: BATCHING_MAX_BATCH_SIZE,
    delayUs: PROTOCOL_DELAY_US,
    models: results,
    skippedModels,
  };
}

interface ServerUnderTest {
  baseUrl: string;
  grpcAddress: string;
  pid: number;
}

async function measureModel(
  ctx: SectionContext,
  model: BenchModel,
  ceiling: ComputeCeiling,
  server: ServerUnderTest,
): Promise<ProtocolModelResult> {
  const { baseUrl, grpcAddress } = server;
  const url = `${baseUrl}/v2/models/${model.name}/infer`;
  const inputs = model.makeInputs(1);
  const jsonScript = writePostScript(ctx.workDir, `protocols-${model.name}-json`, v2JsonBody(inputs));
  const binary = v2BinaryBody(inputs);
  const binaryScript = writeBinaryPostScript(
    ctx.workDir,
    `protocols-${model.name}-binary`,
    binary.body,
    binary.headerLength,
  );
  const grpcRequestPath = join(ctx.workDir, `protocols-${model.name}.grpc.bin`);
  writeFileSync(grpcRequestPath, encodeModelInferRequest(model.name, inputs));

  const session = await createDirectSession(model.path, {
    intraOpThreads: COMPUTE_INTRA_OP_THREADS,
    graphOptimizationLevel: 'all',
    allowSpinning: false,
  });
  try {
    const check = await checkProtocolOutputs(
      { model: model.name, httpInferUrl: url, grpcAddress, rawOrt: await session.run(inputs) },
      inputs,
    );
    ctx.log(
      `  ${model.name}: outputs over JSON, binary and gRPC ${check.protocolsIdentical ? 'bit-identical' : 'DIFFER'}` +
        `; ${check.matchesRawOrt ? 'identical to' : 'DIFFERENT from'} raw onnxruntime` +
        (check.differences.length > 0 ? ` (${check.differences.join('; ')})` : ''),
    );

    const { load } = ctx;
    const wanted = (MIN_ITEMS_PER_DURATION_SECOND * load.durationSeconds) / ceiling.best.itemsPerSecond;
    const runSeconds = Math.round(Math.min(MAX_RUN_SECONDS, Math.max(load.durationSeconds, wanted)));
    const counter = (): Promise<BatchCounter | null> => readBatchCounter(baseUrl, model.name);
    const runOnce = async (
      key: ProtocolKey,
      durationSeconds: number,
      grpcWarmupSeconds: number,
    ): Promise<LoadRun> => {
      switch (key) {
        case 'json':
        case 'binary': {
          const r = await runWrk({
            url,
            scriptPath: key === 'json' ? jsonScript : binaryScript,
            connections: PROTOCOL_CLIENTS,
            durationSeconds,
          });
          // wrk's CPU comes from the accounting around the run (it is a reaped child of the bench).
          return {
            requestsPerSecond: r.requestsPerSecond,
            p50Ms: r.latencyMs.p50,
            p99Ms: r.latencyMs.p99,
            failures: r.non2xx + r.socketErrors,
            clientCpuCores: null,
          };
        }
        case 'grpc':
        case 'grpc-2ch': {
          const channels = key === 'grpc' ? 1 : 2;
          const r = await runGrpcLoad({
            address: grpcAddress,
            requestPath: grpcRequestPath,
            concurrency: PROTOCOL_CLIENTS,
            channels,
            warmupSeconds: grpcWarmupSeconds,
            durationSeconds,
          });
          if (r.firstError !== null)
            ctx.log(`  ${model.name} ${key}: ${r.errors} failed calls, first: ${r.firstError}`);
          return fromGrpc(r);
        }
      }
    };

    if (load.warmupSeconds > 0) {
      for (const p of PROTOCOLS) await runOnce(p.key, load.warmupSeconds, 0);
    }
    const tallies = new Map<ProtocolKey, Tally>(
      PROTOCOLS.map((p) => [p.key, { runs: [], batches: 0, items: 0 }]),
    );
    const ceilingSamples: Sample[] = [];
    const policy: UndisturbedPolicy = {
      serverPid: server.pid,
      otherCoresLimit: OTHER_CORES_LIMIT,
      maxAttempts: MAX_ATTEMPTS,
      log: ctx.log,
    };
    for (let round = 1; round <= load.runs; round++) {
      const raw = await measureUndisturbed(`${model.name} raw ORT`, policy, () =>
        sampleBatchThroughput(session, model, ceiling.best.batch, runSeconds / 2),
      );
      ceilingSamples.push({ itemsPerSecond: raw.value, disturbed: raw.disturbed });
      ctx.log(
        `  ${model.name} round ${round}/${load.runs}: raw ORT batch ${ceiling.best.batch} ${raw.value.toFixed(1)} items/s${raw.disturbed ? ' (DISTURBED)' : ''}`,
      );
      for (const p of PROTOCOLS) {
        const tally = tallies.get(p.key) as Tally;
        const measured = await measureUndisturbed(`${model.name} ${p.label}`, policy, async () => {
          const before = await counter();
          const loadRun = await runOnce(p.key, runSeconds, GRPC_REPEAT_WARMUP_SECONDS);
          const after = await counter();
          const served =
            before !== null && after !== null
              ? { batches: after.batches - before.batches, items: after.items - before.items }
              : null;
          return { loadRun, served };
        });
        const items = measured.value.served?.items ?? 0;
        tally.batches += measured.value.served?.batches ?? 0;
        tally.items += items;
        const { shares } = measured;
        // Per request the server served in the same interval (a gRPC run's warm-up calls are in both counts).
        const serverCpuMsPerRequest =
          shares !== null && items > 0 ? (shares.serverCores * shares.wallSeconds * 1000) / items : null;
        const run: ProtocolRun = {
          ...measured.value.loadRun,
          clientCpuCores: measured.value.loadRun.clientCpuCores ?? shares?.clientCores ?? null,
          serverCpuMsPerRequest,
          otherCores: shares?.otherCores ?? null,
          attempts: measured.attempts,
          disturbed: measured.disturbed,
        };
        tally.runs.push(run);
        ctx.log(
          `  ${model.name} ${p.label} round ${round}/${load.runs}: ${run.requestsPerSecond.toFixed(1)} req/s, ` +
            `p50 ${run.p50Ms.toFixed(2)} ms, p99 ${run.p99Ms.toFixed(2)} ms` +
            (serverCpuMsPerRequest !== null
              ? `, server CPU ${serverCpuMsPerRequest.toFixed(3)} ms/req`
              : '') +
            (run.clientCpuCores !== null ? `, client ${run.clientCpuCores.toFixed(2)} cores` : '') +
            (run.otherCores !== null ? `, others ${run.otherCores.toFixed(2)} cores` : '') +
            (run.disturbed ? ' (DISTURBED)' : '') +
            (run.failures > 0 ? `, ${run.failures} FAILED` : ''),
        );
      }
    }
    return {
      model: model.name,
      ceilingBatch: ceiling.best.batch,
      ceilingSweepItemsPerSecond: ceiling.best.itemsPerSecond,
      ceilingSamples,
      ceilingItemsPerSecond: median(undisturbed(ceilingSamples).map((c) => c.itemsPerSecond)),
      runSeconds,
      figures: PROTOCOLS.map((p) => summarize(p.key, p.label, tallies.get(p.key) as Tally)),
      check,
    };
  } finally {
    await session.release();
  }
}
