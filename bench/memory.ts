/**
 * Memory across model reloads: load a model into a worker, run it once, unload it, collect
 * garbage, and watch the process RSS. A leak per cycle (a session or worker left behind) shows as
 * RSS growing from the early cycles to the last.
 */
import { Runtime } from '../src/runtime/index.js';
import type { BenchModel } from './models.js';

export interface MemoryResult {
  model: string;
  cycles: number;
  /** RSS in bytes after each cycle (index 0 = after cycle 1). */
  rssBytes: number[];
  /** The cycle whose RSS is the reference (the first cycles include one-time allocations). */
  referenceCycle: number;
}

function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined)
    throw new Error('the memory benchmark needs node --expose-gc (npm run bench passes it)');
  // Twice: the first pass finalizes objects whose release frees more on the second.
  gc();
  gc();
}

/** Run `cycles` load/run/unload cycles of `model` in a fresh Runtime. */
export async function measureReloadMemory(
  model: BenchModel,
  cycles: number,
  referenceCycle: number,
  log: (line: string) => void,
): Promise<MemoryResult> {
  const runtime = new Runtime();
  const rssBytes: number[] = [];
  try {
    for (let cycle = 1; cycle <= cycles; cycle++) {
      const loaded = await runtime.load({
        modelPath: model.path,
        label: `${model.name}:${cycle}`,
        instances: 1,
        session: { graphOptimizationLevel: 'all' },
        warmup: [],
      });
      await loaded.run(model.makeInputs(1));
      await loaded.unload();
      collectGarbage();
      // Let the worker threads' exit and the finalizers run before reading RSS.
      await new Promise((resolve) => setTimeout(resolve, 20));
      rssBytes.push(process.memoryUsage().rss);
      if (cycle === referenceCycle || cycle % 10 === 0 || cycle === cycles) {
        log(`  cycle ${cycle}: RSS ${((rssBytes[rssBytes.length - 1] ?? 0) / 2 ** 20).toFixed(1)} MiB`);
      }
    }
  } finally {
    await runtime.close();
  }
  return { model: model.name, cycles, rssBytes, referenceCycle };
}
