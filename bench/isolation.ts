/**
 * Section 9: what process isolation costs against thread isolation. The same model is loaded
 * twice through `Runtime.load` in this process, one instance in a worker thread and one in a child
 * process, and driven in a closed loop (each client sends its next batch when the last one
 * answered) at 1 and 8 clients. Thread and process runs alternate, round after round, so a slow
 * moment of the machine hits both; figures are medians over the rounds.
 */
import { performance } from 'node:perf_hooks';
import type { Tensor } from '../src/core/tensor.js';
import { nearestRank } from '../src/core/percentile.js';
import {
  Runtime,
  liveProcessIds,
  residentMemoryMb,
  type InstanceGroup,
  type LoadedModel,
} from '../src/runtime/index.js';
import { SMALL_CNN, type BenchModel } from './models.js';
import type { Outcome } from './report-rows.js';
import { digitsArtifact, type SectionContext } from './sections.js';
import { median, ratio } from './statistics.js';

export const ISOLATION_CLIENTS = [1, 8];
/** One intra-op thread per session: the models are small, and both sides get the same. */
export const ISOLATION_INTRA_OP_THREADS = 1;

type Isolation = 'thread' | 'process';

export interface LoopFigure {
  runsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

export interface IsolationRow {
  model: string;
  batch: number;
  inputBytes: number;
  clients: number;
  thread: LoopFigure;
  process: LoopFigure;
}

export interface IsolationResult {
  rows: IsolationRow[];
  /** Median time of Runtime.load (start, session, one warm-up run) per isolation. */
  loadMs: Record<Isolation, number>;
  /** Resident memory of one model child process after its runs, in MiB (null where /proc is absent). */
  childRssMb: number | null;
  rounds: number;
  secondsPerRun: number;
}

const groupsOf = (isolation: Isolation): InstanceGroup[] => [{ count: 1, isolation }];

function inputBytes(inputs: readonly Tensor[]): number {
  return inputs.reduce((sum, t) => sum + (Array.isArray(t.data) ? 0 : t.data.byteLength), 0);
}

/** `clients` loops each running batch after batch for `seconds`. */
async function closedLoop(
  model: LoadedModel,
  inputs: () => Tensor[],
  clients: number,
  seconds: number,
): Promise<LoopFigure> {
  const latenciesMs: number[] = [];
  const started = performance.now();
  const until = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < until) {
        const batch = inputs();
        const sent = performance.now();
        await model.run(batch);
        latenciesMs.push(performance.now() - sent);
      }
    }),
  );
  const elapsedSeconds = (performance.now() - started) / 1000;
  latenciesMs.sort((a, b) => a - b);
  return {
    runsPerSecond: latenciesMs.length / elapsedSeconds,
    p50Ms: nearestRank(latenciesMs, 0.5) ?? Number.NaN,
    p99Ms: nearestRank(latenciesMs, 0.99) ?? Number.NaN,
  };
}

function medianFigure(figures: readonly LoopFigure[]): LoopFigure {
  return {
    runsPerSecond: median(figures.map((f) => f.runsPerSecond)),
    p50Ms: median(figures.map((f) => f.p50Ms)),
    p99Ms: median(figures.map((f) => f.p99Ms)),
  };
}

async function timedLoad(
  runtime: Runtime,
  model: BenchModel,
  batch: number,
  isolation: Isolation,
): Promise<{ loaded: LoadedModel; ms: number }> {
  const started = performance.now();
  const loaded = await runtime.load({
    modelPath: model.path,
    label: `${model.name}-${isolation}:1`,
    groups: groupsOf(isolation),
    session: { intraOpThreads: ISOLATION_INTRA_OP_THREADS, graphOptimizationLevel: 'all' },
    warmup: model.makeInputs(batch),
  });
  return { loaded, ms: performance.now() - started };
}

/** Thread vs process throughput and latency for the digits model (batch 1) and small_cnn (batch 8). */
export async function runIsolation(ctx: SectionContext): Promise<IsolationResult> {
  const cases: Array<{ model: BenchModel; batch: number }> = [
    { model: digitsArtifact(ctx).model, batch: 1 },
    { model: SMALL_CNN, batch: 8 },
  ];
  const rounds = ctx.computeRuns;
  const seconds = ctx.computeSecondsPerRun;
  const runtime = new Runtime();
  const rows: IsolationRow[] = [];
  const loadMs: Record<Isolation, number[]> = { thread: [], process: [] };
  let childRssMb: number | null = null;
  try {
    for (const { model, batch } of cases) {
      const loaded: Partial<Record<Isolation, LoadedModel>> = {};
      for (const isolation of ['thread', 'process'] as const) {
        const { loaded: m, ms } = await timedLoad(runtime, model, batch, isolation);
        loaded[isolation] = m;
        loadMs[isolation].push(ms);
      }
      // Made once and copied per run (a thread run detaches its inputs): generating them is not what is measured.
      const template = model.makeInputs(batch);
      const inputs = (): Tensor[] => template.map((t) => ({ ...t, data: t.data.slice() }) as Tensor);
      for (const isolation of ['thread', 'process'] as const)
        await closedLoop(loaded[isolation]!, inputs, 8, Math.min(0.5, seconds));
      for (const clients of ISOLATION_CLIENTS) {
        const samples: Record<Isolation, LoopFigure[]> = { thread: [], process: [] };
        for (let round = 0; round < rounds; round++) {
          for (const isolation of ['thread', 'process'] as const) {
            samples[isolation].push(await closedLoop(loaded[isolation]!, inputs, clients, seconds));
          }
        }
        const row = {
          model: model.name,
          batch,
          inputBytes: inputBytes(inputs()),
          clients,
          thread: medianFigure(samples.thread),
          process: medianFigure(samples.process),
        };
        ctx.log(
          `${row.model} batch ${batch}, ${clients} client(s): thread ${row.thread.runsPerSecond.toFixed(0)} runs/s p50 ${row.thread.p50Ms.toFixed(3)} ms; ` +
            `process ${row.process.runsPerSecond.toFixed(0)} runs/s p50 ${row.process.p50Ms.toFixed(3)} ms`,
        );
        rows.push(row);
      }
      const pid = liveProcessIds()[0];
      if (pid !== undefined) childRssMb = residentMemoryMb(pid) ?? null;
      await Promise.all([loaded.thread?.unload(), loaded.process?.unload()]);
    }
  } finally {
    await runtime.close();
  }
  return {
    rows,
    loadMs: { thread: median(loadMs.thread), process: median(loadMs.process) },
    childRssMb,
    rounds,
    secondsPerRun: seconds,
  };
}

const fmtRate = (x: number): string => Math.round(x).toLocaleString('en-US');
const fmtMs = (x: number): string => (x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3));
const fmtRatio = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : '—');

/** Section 9 of BENCHMARKS.md. */
export function renderIsolation(
  outcome: Outcome<IsolationResult> | undefined,
  whyMissing: (o: Outcome<unknown> | undefined) => string,
): string[] {
  const out: string[] = ['## 9. Isolation: a child process per instance vs a worker thread', ''];
  if (outcome === undefined || !('data' in outcome))
    return [...out, `_Not measured: ${whyMissing(outcome)}._`, ''];
  const d = outcome.data;
  out.push(
    'One instance of the model through `Runtime.load` + `run` in the bench process (no HTTP, no batcher): `isolation: thread` (a worker ' +
      'thread; inputs and outputs cross as transferred ArrayBuffers) vs `isolation: process` (a child process; every batch crosses a pipe ' +
      'there and back as one frame: a JSON header and the raw tensor bytes, copied once each way). ' +
      `Clients run a closed loop; intra-op threads ${ISOLATION_INTRA_OP_THREADS}; medians of ${d.rounds} ` +
      `alternating round(s) of ${d.secondsPerRun} s. Ratios are process / thread.`,
    '',
    '| model | batch | input bytes | clients | thread runs/s | process runs/s | throughput ratio | thread p50 ms | process p50 ms | p50 ratio | thread p99 ms | process p99 ms |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const r of d.rows) {
    out.push(
      `| ${r.model} | ${r.batch} | ${r.inputBytes.toLocaleString('en-US')} | ${r.clients} | ${fmtRate(r.thread.runsPerSecond)} | ${fmtRate(r.process.runsPerSecond)} | ` +
        `${fmtRatio(ratio(r.process.runsPerSecond, r.thread.runsPerSecond))} | ${fmtMs(r.thread.p50Ms)} | ${fmtMs(r.process.p50Ms)} | ` +
        `${fmtRatio(ratio(r.process.p50Ms, r.thread.p50Ms))} | ${fmtMs(r.thread.p99Ms)} | ${fmtMs(r.process.p99Ms)} |`,
    );
  }
  out.push(
    '',
    `Load (start, create the session, one warm-up run), median: thread ${fmtMs(d.loadMs.thread)} ms, process ${fmtMs(d.loadMs.process)} ms. ` +
      (d.childRssMb === null
        ? ''
        : `A model child process holds about ${Math.round(d.childRssMb)} MiB resident (its own Node and onnxruntime). `) +
      'What process isolation buys: a crash, a hang past `hang_timeout_ms` or memory over `memory_limit_mb` fails only that ' +
      "instance's in-flight requests and it restarts; in a thread, a native crash ends the whole server.",
    '',
  );
  return out;
}
