/**
 * The batching target, measured so that its ratio divides like by like: raw onnxruntime in the
 * bench process at the model's best batch (from the compute sweep) against `tend serve` under 16
 * clients sending batch-1 binary requests (dynamic batching, delay 0, max batch 16, the preferred batch
 * size taken from the same sweep). The raw samples are taken while no server process
 * exists (a resident server, even idle after a load run, can hold CPU), and every sample of either
 * side is measured again when other processes took CPU meanwhile. Each round takes two samples of
 * each side, raw and served in alternating order, with a fresh server per round; the two samples of
 * a side give the A/A control (raw vs raw, tend vs tend) that says how far this machine's noise
 * alone moves a ratio.
 */
import { join } from 'node:path';
import { createDirectSession } from '../src/runtime/index.js';
import { sampleBatchThroughput, type ComputeCeiling } from './compute.js';
import { MAX_ATTEMPTS, measureUndisturbed, OTHER_CORES_LIMIT } from './cpu-accounting.js';
import { checkInferEndpoint, readBatchCounter } from './http-load.js';
import { v2BinaryBody, v2JsonBody, type BenchModel } from './models.js';
import {
  addToRepository,
  BATCHING_CLIENTS,
  BATCHING_MAX_BATCH_SIZE,
  batchingConfig,
  COMPUTE_INTRA_OP_THREADS,
  withServer,
  type SectionContext,
} from './sections.js';
import { startTendServer } from './servers.js';
import { median } from './statistics.js';
import { runWrk, writeBinaryPostScript } from './wrk.js';

/** The queue delay the target is measured with. */
export const TARGET_DELAY_US = 0;
/** A slow model's runs are stretched until they hold this many items per second of --duration (capped). */
const MIN_ITEMS_PER_DURATION_SECOND = 100;
const MAX_RUN_SECONDS = 30;

export interface TargetSample {
  itemsPerSecond: number;
  /** Other processes still took more than the limit during the last attempt. */
  disturbed: boolean;
  attempts: number;
  /** Failed requests (served samples only). */
  failures: number;
}

export interface TargetRound {
  /** Which side went first in this round. */
  rawFirst: boolean;
  raw: [TargetSample, TargetSample];
  served: [TargetSample, TargetSample];
}

export interface BatchingTargetModel {
  model: string;
  /** preferred_batch_size of the served model (see servedPreferredBatch). */
  preferredBatchSize: number;
  /** Best batch of the compute sweep, and its items/s there (for reference only: not the baseline). */
  rawBatch: number;
  sweepItemsPerSecond: number;
  delayUs: number;
  maxBatchSize: number;
  clients: number;
  runSeconds: number;
  rounds: TargetRound[];
  /** Medians over all undisturbed samples of each side. */
  rawItemsPerSecond: number;
  servedItemsPerSecond: number;
  /** A/A controls: median of the first samples over median of the second samples, per side. */
  rawControl: number;
  servedControl: number;
  failures: number;
  meanBatchSize: number | null;
}

/** The samples not disturbed by other processes, or all of them when every one was. */
function kept(samples: readonly TargetSample[]): readonly TargetSample[] {
  const clean = samples.filter((s) => !s.disturbed);
  return clean.length > 0 ? clean : samples;
}

/** Median items/s of the kept samples. */
export function medianRate(samples: readonly TargetSample[]): number {
  return median(kept(samples).map((s) => s.itemsPerSecond));
}

/**
 * A/A control of one side: the median of the rounds' first samples over that of their second
 * samples. Both sets are measured the same way, so any distance from 1 is the noise of the method.
 */
export function controlRatio(pairs: readonly [TargetSample, TargetSample][]): number {
  const first = medianRate(pairs.map((p) => p[0]));
  const second = medianRate(pairs.map((p) => p[1]));
  return second > 0 ? first / second : Number.NaN;
}

/** Summarize rounds into the figures of one model. */
export function summarizeRounds(
  base: Omit<
    BatchingTargetModel,
    'rawItemsPerSecond' | 'servedItemsPerSecond' | 'rawControl' | 'servedControl' | 'failures'
  >,
): BatchingTargetModel {
  const raw = base.rounds.flatMap((r) => r.raw);
  const served = base.rounds.flatMap((r) => r.served);
  return {
    ...base,
    rawItemsPerSecond: medianRate(raw),
    servedItemsPerSecond: medianRate(served),
    rawControl: controlRatio(base.rounds.map((r) => r.raw)),
    servedControl: controlRatio(base.rounds.map((r) => r.served)),
    failures: served.reduce((sum, s) => sum + s.failures, 0),
  };
}

/**
 * The served model's preferred batch size: the sweep's best batch among those that let two batches
 * be in flight at once with `clients` clients (one running, the next waiting in the worker), as an
 * operator would set it from the same sweep (`preferred_batch_size`).
 */
export function servedPreferredBatch(ceiling: ComputeCeiling, clients: number): number {
  const fitting = ceiling.perBatch.filter((b) => b.batch <= Math.max(1, Math.floor(clients / 2)));
  if (fitting.length === 0) return 1;
  return fitting.reduce((a, b) => (b.itemsPerSecond > a.itemsPerSecond ? b : a)).batch;
}

/** Measure the target for each model with a compute ceiling; `rounds` of four samples each. */
export async function runBatchingTarget(
  ctx: SectionContext,
  models: readonly BenchModel[],
  ceilings: readonly ComputeCeiling[],
  rounds: number,
): Promise<BatchingTargetModel[]> {
  const out: BatchingTargetModel[] = [];
  for (const model of models) {
    const ceiling = ceilings.find((c) => c.model === model.name);
    if (ceiling === undefined) throw new Error(`no compute ceiling for ${model.name}`);
    ctx.log(`batching target: ${model.name}, raw ORT batch ${ceiling.best.batch} vs served`);
    out.push(await measureModel(ctx, model, ceiling, rounds));
  }
  return out;
}

async function measureModel(
  ctx: SectionContext,
  model: BenchModel,
  ceiling: ComputeCeiling,
  roundCount: number,
): Promise<BatchingTargetModel> {
  const repo = join(ctx.workDir, `repo-target-${model.name}`);
  const preferredBatchSize = servedPreferredBatch(ceiling, BATCHING_CLIENTS);
  const config = batchingConfig({ label: `on, delay ${TARGET_DELAY_US} µs`, delayUs: TARGET_DELAY_US });
  if (config.dynamic_batching !== false && config.dynamic_batching !== undefined)
    config.dynamic_batching.preferred_batch_size = [preferredBatchSize];
  addToRepository(repo, model.name, model.path, config);
  const inputs = model.makeInputs(1);
  const binary = v2BinaryBody(inputs);
  const script = writeBinaryPostScript(ctx.workDir, `target-${model.name}`, binary.body, binary.headerLength);
  const wanted = (MIN_ITEMS_PER_DURATION_SECOND * ctx.load.durationSeconds) / ceiling.best.itemsPerSecond;
  const runSeconds = Math.round(Math.min(MAX_RUN_SECONDS, Math.max(ctx.load.durationSeconds, wanted)));
  const policy = (serverPid: number | null) => ({
    serverPid,
    otherCoresLimit: OTHER_CORES_LIMIT,
    maxAttempts: MAX_ATTEMPTS,
    log: ctx.log,
  });

  const session = await createDirectSession(model.path, {
    intraOpThreads: COMPUTE_INTRA_OP_THREADS,
    graphOptimizationLevel: 'all',
    allowSpinning: false,
  });
  let batches = 0;
  let items = 0;
  const rounds: TargetRound[] = [];
  try {
    const rawPair = async (round: number): Promise<[TargetSample, TargetSample]> => {
      const pair: TargetSample[] = [];
      for (const which of ['a', 'b']) {
        const m = await measureUndisturbed(`${model.name} raw ORT`, policy(null), () =>
          sampleBatchThroughput(session, model, ceiling.best.batch, runSeconds / 2),
        );
        pair.push({ itemsPerSecond: m.value, disturbed: m.disturbed, attempts: m.attempts, failures: 0 });
        ctx.log(
          `  ${model.name} round ${round} raw ${which}: batch ${ceiling.best.batch} ${m.value.toFixed(1)} items/s` +
            (m.disturbed ? ' (DISTURBED)' : ''),
        );
      }
      return pair as [TargetSample, TargetSample];
    };
    const servedPair = (round: number): Promise<[TargetSample, TargetSample]> =>
      withServer(
        () =>
          startTendServer({
            name: `target-${model.name}-${round}`,
            repos: [repo],
            home: join(ctx.workDir, `home-target-${model.name}-${round}`),
            logDir: ctx.workDir,
          }),
        async (server) => {
          const url = `${server.baseUrl}/v2/models/${model.name}/infer`;
          await checkInferEndpoint(url, v2JsonBody(inputs), []);
          if (ctx.load.warmupSeconds > 0)
            await runWrk({
              url,
              scriptPath: script,
              connections: BATCHING_CLIENTS,
              durationSeconds: ctx.load.warmupSeconds,
            });
          const pair: TargetSample[] = [];
          for (const which of ['a', 'b']) {
            const m = await measureUndisturbed(`${model.name} served`, policy(server.pid), async () => {
              const before = await readBatchCounter(server.baseUrl, model.name);
              const r = await runWrk({
                url,
                scriptPath: script,
                connections: BATCHING_CLIENTS,
                durationSeconds: runSeconds,
              });
              const after = await readBatchCounter(server.baseUrl, model.name);
              return { r, before, after };
            });
            const { r, before, after } = m.value;
            if (before !== null && after !== null) {
              batches += after.batches - before.batches;
              items += after.items - before.items;
            }
            const failures = r.non2xx + r.socketErrors;
            pair.push({
              itemsPerSecond: r.requestsPerSecond,
              disturbed: m.disturbed,
              attempts: m.attempts,
              failures,
            });
            ctx.log(
              `  ${model.name} round ${round} served ${which}: ${r.requestsPerSecond.toFixed(1)} items/s, ` +
                `p50 ${r.latencyMs.p50.toFixed(2)} ms` +
                (m.disturbed ? ' (DISTURBED)' : '') +
                (failures > 0 ? `, ${failures} FAILED` : ''),
            );
          }
          return pair as [TargetSample, TargetSample];
        },
      );
    for (let round = 1; round <= roundCount; round++) {
      // Alternate which side goes first so that a drift over the section favours neither.
      const rawFirst = round % 2 === 1;
      if (rawFirst) {
        const raw = await rawPair(round);
        rounds.push({ rawFirst, raw, served: await servedPair(round) });
      } else {
        const served = await servedPair(round);
        rounds.push({ rawFirst, served, raw: await rawPair(round) });
      }
    }
  } finally {
    await session.release();
  }
  const result = summarizeRounds({
    model: model.name,
    preferredBatchSize,
    rawBatch: ceiling.best.batch,
    sweepItemsPerSecond: ceiling.best.itemsPerSecond,
    delayUs: TARGET_DELAY_US,
    maxBatchSize: BATCHING_MAX_BATCH_SIZE,
    clients: BATCHING_CLIENTS,
    runSeconds,
    rounds,
    meanBatchSize: batches > 0 ? items / batches : null,
  });
  ctx.log(
    `  ${model.name}: served ${result.servedItemsPerSecond.toFixed(1)} / raw ${result.rawItemsPerSecond.toFixed(1)} items/s = ` +
      `${(result.servedItemsPerSecond / result.rawItemsPerSecond).toFixed(3)}; A/A raw ${result.rawControl.toFixed(3)}, ` +
      `tend ${result.servedControl.toFixed(3)}; mean batch ${result.meanBatchSize?.toFixed(2) ?? '—'}`,
  );
  return result;
}
