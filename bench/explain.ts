/**
 * Explanations (issue 24): how fast KernelSHAP pushes perturbed rows through a served version, against
 * onnxruntime in this process at the explainer's batch size, interleaved run by run: an explanation
 * of one digit (default nsamples, reference summarised to 50 rows) then as many rows through a bare
 * session in batches of EXPLAIN_BATCH_ROWS. The explanation's figure counts every model evaluation
 * (f(x), the background, every coalition × background row) over the wall time of the whole call,
 * the regression and the row filling in JavaScript included.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ServerConfigSchema } from '../src/core/config.js';
import { Engine, attachReference } from '../src/engine/index.js';
import { EXPLAIN_BATCH_ROWS } from '../src/engine/jobs/explain-job.js';
import { Registry } from '../src/registry/index.js';
import { createDirectSession } from '../src/runtime/index.js';
import { median } from './statistics.js';

const ROOT = join(import.meta.dirname, '..');
const DIGITS_MLP = join(ROOT, 'fixtures', 'models', 'digits_mlp.onnx');
const DIGITS_CSV = join(ROOT, 'assets', 'datasets', 'digits.csv');
/** Explanations timed (the "median of 10"). */
export const EXPLAIN_RUNS = 10;

export interface ExplainBenchResult {
  batchRows: number;
  /** Coalitions per explanation and model evaluations per explanation (median). */
  nsamples: number;
  evaluations: number;
  /** Per run, in the order measured. */
  explainSeconds: number[];
  explainEvaluationsPerSecond: number[];
  ortEvaluationsPerSecond: number[];
}

/** The digits rows scaled as the MLP reads them (pixels / 16), with the digit last. */
function digitsRows(): number[][] {
  return readFileSync(DIGITS_CSV, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(',').map(Number))
    .map((cells) => [...cells.slice(0, 64).map((v) => v / 16), cells[64] as number]);
}

export async function runExplain(options: {
  workDir: string;
  runs: number;
  log: (line: string) => void;
}): Promise<ExplainBenchResult> {
  const rows = digitsRows();
  const home = join(options.workDir, 'explain-home');
  mkdirSync(home, { recursive: true });
  const registry = await Registry.open(home);
  try {
    await registry.models.push(DIGITS_MLP, { name: 'digits' });
    const header = [...Array.from({ length: 64 }, (_, j) => `pixel_${Math.floor(j / 8)}_${j % 8}`), 'digit'];
    const reference = rows.filter((_, i) => i % 2 === 0).map((r) => r.join(','));
    await attachReference(
      registry,
      'digits',
      undefined,
      `${[header.join(','), ...reference].join('\n')}\n`,
      'bench',
    );
  } finally {
    await registry.close();
  }
  const config = ServerConfigSchema.parse({ log_level: 'silent', monitoring: { enabled: false } });
  const engine = await Engine.open({ home, config, monitoring: false });
  const session = await createDirectSession(DIGITS_MLP, { graphOptimizationLevel: 'all' });
  try {
    await engine.loadAll();
    const explainRow = async (r: number) => {
      const counter = { rows: 0, calls: 0 };
      const pixels = Float32Array.from((rows[(2 * r + 1) % rows.length] as number[]).slice(0, 64));
      const started = performance.now();
      const response = await engine.explain(
        'digits',
        undefined,
        [{ name: 'pixels', datatype: 'FP32', shape: [1, 64], data: pixels }],
        { seed: r },
        counter,
      );
      return {
        seconds: (performance.now() - started) / 1000,
        evaluations: counter.rows,
        nsamples: response.nsamples,
      };
    };
    const batch = Float32Array.from(
      { length: EXPLAIN_BATCH_ROWS * 64 },
      (_, i) => rows[Math.floor(i / 64) % rows.length]?.[i % 64] as number,
    );
    const ortRows = async (count: number) => {
      const started = performance.now();
      let done = 0;
      while (done < count) {
        await session.run([
          { name: 'pixels', datatype: 'FP32', shape: [EXPLAIN_BATCH_ROWS, 64], data: batch },
        ]);
        done += EXPLAIN_BATCH_ROWS;
      }
      return done / ((performance.now() - started) / 1000);
    };
    // Warm-up: the k-means summary of the reference is computed once and cached; the first runs allocate.
    const warm = await explainRow(0);
    await ortRows(warm.evaluations);
    const result: ExplainBenchResult = {
      batchRows: EXPLAIN_BATCH_ROWS,
      nsamples: warm.nsamples,
      evaluations: 0,
      explainSeconds: [],
      explainEvaluationsPerSecond: [],
      ortEvaluationsPerSecond: [],
    };
    const evaluations: number[] = [];
    const nsamples: number[] = [];
    for (let run = 1; run <= Math.max(EXPLAIN_RUNS, options.runs); run++) {
      const e = await explainRow(run);
      evaluations.push(e.evaluations);
      nsamples.push(e.nsamples);
      result.explainSeconds.push(e.seconds);
      result.explainEvaluationsPerSecond.push(e.evaluations / e.seconds);
      result.ortEvaluationsPerSecond.push(await ortRows(e.evaluations));
      options.log(
        `  explain run ${run}: ${(e.seconds * 1000).toFixed(0)} ms, ${Math.round(e.evaluations / e.seconds).toLocaleString('en-US')} evaluations/s; ` +
          `onnxruntime in-process ${Math.round(result.ortEvaluationsPerSecond.at(-1) ?? 0).toLocaleString('en-US')} rows/s`,
      );
    }
    result.evaluations = median(evaluations);
    result.nsamples = median(nsamples);
    return result;
  } finally {
    await session.release();
    await engine.close();
  }
}
