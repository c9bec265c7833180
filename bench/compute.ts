/**
 * Compute ceilings: onnxruntime in this process, no HTTP, no queue, no worker hop. The best
 * items/s over batch sizes is what a server with perfect batching could reach at most.
 */
import { performance } from 'node:perf_hooks';
import { createDirectSession } from '../src/runtime/index.js';
import type { BenchModel } from './models.js';
import { median } from './statistics.js';

export interface BatchThroughput {
  batch: number;
  itemsPerSecond: number;
}

export interface ComputeCeiling {
  model: string;
  intraOpThreads: number;
  allowSpinning: boolean;
  perBatch: BatchThroughput[];
  best: BatchThroughput;
}

export interface ComputeOptions {
  runs: number;
  /** Time spent running each batch size per run. */
  secondsPerRun: number;
  intraOpThreads: number;
  allowSpinning: boolean;
  log: (line: string) => void;
  /** Wraps each timed sample, e.g. to measure it again when other processes took CPU meanwhile. */
  guard?: (label: string, sample: () => Promise<number>) => Promise<number>;
}

/** 1, 2, 4, ... up to `max`. */
export function powersOfTwo(max: number): number[] {
  const out: number[] = [];
  for (let b = 1; b <= max; b *= 2) out.push(b);
  return out;
}

/** Measure items/s of `model` at every power-of-two batch up to its sweep maximum. */
export async function measureComputeCeiling(
  model: BenchModel,
  options: ComputeOptions,
): Promise<ComputeCeiling> {
  const session = await createDirectSession(model.path, {
    intraOpThreads: options.intraOpThreads,
    graphOptimizationLevel: 'all',
    allowSpinning: options.allowSpinning,
  });
  const perBatch: BatchThroughput[] = [];
  try {
    for (const batch of powersOfTwo(model.maxSweepBatch)) {
      const inputs = model.makeInputs(batch);
      await session.run(inputs); // first run of a shape allocates; keep it out of the figure
      const samples: number[] = [];
      const guard = options.guard ?? ((_label: string, sample: () => Promise<number>) => sample());
      for (let r = 0; r < options.runs; r++) {
        samples.push(
          await guard(`${model.name} batch ${batch}`, async () => {
            let iterations = 0;
            const start = performance.now();
            let elapsedMs = 0;
            while (iterations < 5 || elapsedMs < options.secondsPerRun * 1000) {
              await session.run(inputs);
              iterations += 1;
              elapsedMs = performance.now() - start;
            }
            return (iterations * batch * 1000) / elapsedMs;
          }),
        );
      }
      const itemsPerSecond = median(samples);
      perBatch.push({ batch, itemsPerSecond });
      options.log(`  ${model.name} batch ${batch}: ${itemsPerSecond.toFixed(0)} items/s`);
    }
  } finally {
    await session.release();
  }
  const best = perBatch.reduce((a, b) => (b.itemsPerSecond > a.itemsPerSecond ? b : a));
  return {
    model: model.name,
    intraOpThreads: options.intraOpThreads,
    allowSpinning: options.allowSpinning,
    perBatch,
    best,
  };
}

/** Items/s of one batch size over `seconds` on an open session (one sample of a paired comparison). */
export async function sampleBatchThroughput(
  session: { run(inputs: ReturnType<BenchModel['makeInputs']>): Promise<unknown> },
  model: BenchModel,
  batch: number,
  seconds: number,
): Promise<number> {
  const inputs = model.makeInputs(batch);
  await session.run(inputs);
  let iterations = 0;
  const start = performance.now();
  let elapsedMs = 0;
  while (iterations < 5 || elapsedMs < seconds * 1000) {
    await session.run(inputs);
    iterations += 1;
    elapsedMs = performance.now() - start;
  }
  return (iterations * batch * 1000) / elapsedMs;
}
