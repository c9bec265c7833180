/**
 * Speed of a parent model and its candidate, measured in the same run: for each batch size, rounds
 * alternate between the two (parent, candidate, parent, …) so that a slow moment of the machine
 * hits both. Times are onnxruntime's `session.run` in the worker, so messaging is not counted.
 */
import type { Tensor } from '../../core/tensor.js';
import type { LoadedModel } from '../../runtime/index.js';
import { median, nearestRank } from '../../core/percentile.js';
import { copyTensors } from '../serving/run-request.js';

export interface SpeedFigure {
  p50_ms: number;
  p99_ms: number;
  items_per_s: number;
}

export interface ModelSpeed {
  /** Batch size → figure. */
  byBatch: Map<number, SpeedFigure>;
  batch1: SpeedFigure | null;
  best: (SpeedFigure & { size: number }) | null;
  /** Batch size → items/s of each round, in the order measured (for A/A controls). */
  roundRates: Map<number, number[]>;
}

export interface MeasureOptions {
  batches: readonly number[];
  /** Rounds per batch size (medians over rounds). */
  rounds: number;
  /** Time spent running one model at one batch size in one round. */
  msPerRun: number;
  /** At least this many runs per model, batch size and round. */
  minRuns?: number;
  /** Called before each batch size is timed (progress: `index` of `count`, from 0). */
  onBatch?: (batch: number, index: number, count: number) => void;
}

/** Run `model` on `inputs` for about `ms` (and at least `minRuns` times); the runs' times in ms. */
async function timeRuns(
  model: LoadedModel,
  inputs: readonly Tensor[],
  ms: number,
  minRuns: number,
): Promise<number[]> {
  const times: number[] = [];
  const until = performance.now() + ms;
  while (times.length < minRuns || performance.now() < until) {
    const result = await model.run(copyTensors(inputs)); // runs transfer their buffers: a copy each time
    times.push(result.computeNs / 1e6);
  }
  return times;
}

/** Measure both models at every batch size; `inputsFor(batch)` gives one request of that batch. */
export async function measurePair(
  parent: LoadedModel,
  candidate: LoadedModel,
  inputsFor: (batch: number) => Tensor[],
  options: MeasureOptions,
): Promise<{ parent: ModelSpeed; candidate: ModelSpeed }> {
  const minRuns = options.minRuns ?? 3;
  const models = [parent, candidate];
  const times = models.map(() => new Map<number, number[]>());
  const rates = models.map(() => new Map<number, number[]>());
  for (const [index, batch] of options.batches.entries()) {
    options.onBatch?.(batch, index, options.batches.length);
    const inputs = inputsFor(batch);
    for (let round = 0; round < options.rounds; round++) {
      // Alternate which model goes first, so neither always runs on a warmer (or busier) machine.
      const order = round % 2 === 0 ? [0, 1] : [1, 0];
      for (const m of order) {
        const runs = await timeRuns(models[m] as LoadedModel, inputs, options.msPerRun, minRuns);
        const all = times[m]?.get(batch) ?? [];
        all.push(...runs);
        times[m]?.set(batch, all);
        const total = runs.reduce((a, b) => a + b, 0);
        const perRound = rates[m]?.get(batch) ?? [];
        perRound.push(total > 0 ? (batch * runs.length * 1000) / total : 0);
        rates[m]?.set(batch, perRound);
      }
    }
  }
  const summarize = (m: number): ModelSpeed => {
    const byBatch = new Map<number, SpeedFigure>();
    for (const batch of options.batches) {
      const sorted = [...(times[m]?.get(batch) ?? [])].sort((a, b) => a - b);
      byBatch.set(batch, {
        p50_ms: nearestRank(sorted, 0.5) ?? Number.NaN,
        p99_ms: nearestRank(sorted, 0.99) ?? Number.NaN,
        items_per_s: median(rates[m]?.get(batch) ?? []),
      });
    }
    let best: (SpeedFigure & { size: number }) | null = null;
    for (const [size, f] of byBatch) if (!best || f.items_per_s > best.items_per_s) best = { size, ...f };
    return { byBatch, batch1: byBatch.get(1) ?? null, best, roundRates: rates[m] ?? new Map() };
  };
  return { parent: summarize(0), candidate: summarize(1) };
}
