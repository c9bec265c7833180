/**
 * Section 8: int8 dynamic quantization against fp32, per model: file size, items/s at batch 1 and
 * at batch 8 (seq 128 for the encoders), mean cosine similarity of the outputs, and the fused
 * kernels onnxruntime ran. Both models are loaded side by side in worker threads (one instance
 * each, onnxruntime's default threads); rounds alternate fp32 and int8, figures are medians.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measurePair } from '../src/engine/jobs/optimize-measure.js';
import { OutputComparison } from '../src/engine/jobs/optimize-compare.js';
import { outputPlan } from '../src/engine/serving/prediction-capture.js';
import { inferMaxBatchSize } from '../src/engine/serving/served-version.js';
import { extractSignature, readModelFile, writeModel } from '../src/onnx/index.js';
import { fusedKernels, quantizeDynamic } from '../src/optimize/index.js';
import { Runtime, type LoadedModel } from '../src/runtime/index.js';
import type { BenchModel } from './models.js';
import { digitsArtifact, type SectionContext } from './sections.js';
import { quantizedWeightRatio } from '../src/optimize/index.js';

export const OPTIMIZE_BATCHES = [1, 8];

/** The demo digits model (tend's trainer) in int8: accuracy on its held-out split and weight bytes. */
export interface DigitsInt8 {
  testRows: number;
  fp32Accuracy: number;
  int8Accuracy: number;
  /** Bytes of the quantized weights (int8, scales, zero points) ÷ their fp32 bytes. */
  weightRatio: number;
  fileRatio: number;
}

async function accuracy(
  model: LoadedModel,
  features: Float32Array,
  labels: Int32Array,
  rows: number,
  width: number,
): Promise<number> {
  let correct = 0;
  for (let start = 0; start < rows; start += 64) {
    const n = Math.min(64, rows - start);
    const data = features.slice(start * width, (start + n) * width);
    const result = await model.run([
      { name: model.inputNames[0] ?? 'features', datatype: 'FP32', shape: [n, width], data },
    ]);
    const scores = result.outputs.find((o) => o.name === 'probabilities') ?? result.outputs[0];
    const s = scores?.data as Float32Array;
    const k = s.length / n;
    for (let r = 0; r < n; r++) {
      let best = 0;
      for (let c = 1; c < k; c++) if ((s[r * k + c] as number) > (s[r * k + best] as number)) best = c;
      if (best === labels[start + r]) correct++;
    }
  }
  return correct / rows;
}

/** Quantize the trained demo digits model and score both on its test split. */
export async function runDigitsInt8(ctx: SectionContext): Promise<DigitsInt8> {
  const digits = digitsArtifact(ctx);
  const work = mkdtempSync(join(tmpdir(), 'tend-bench-digits-int8-'));
  const runtime = new Runtime();
  try {
    const original = readModelFile(digits.model.path);
    const quantized = quantizeDynamic(original, {});
    const int8Path = join(work, 'digits.int8.onnx');
    writeFileSync(int8Path, writeModel(quantized.model));
    const fp32 = await loadModel(runtime, digits.model.path, 'digits:fp32');
    const int8 = await loadModel(runtime, int8Path, 'digits:int8');
    const { features, labels, rows } = digits.testSet;
    const width = features.length / rows;
    const fp32Accuracy = await accuracy(fp32, features, labels, rows, width);
    const int8Accuracy = await accuracy(int8, features, labels, rows, width);
    return {
      testRows: rows,
      fp32Accuracy,
      int8Accuracy,
      weightRatio: quantizedWeightRatio(
        original,
        quantized.model,
        quantized.quantized.map((q) => q.weight),
      ),
      fileRatio: statSync(int8Path).size / statSync(digits.model.path).size,
    };
  } finally {
    await runtime.close();
    rmSync(work, { recursive: true, force: true });
  }
}

export interface OptimizeRow {
  model: string;
  description: string;
  fp32Bytes: number;
  int8Bytes: number;
  /** Batch → items/s medians. */
  fp32: Record<number, number>;
  int8: Record<number, number>;
  /** Batch → items/s of each round in the order measured (A/A controls). */
  fp32Rounds: Record<number, number[]>;
  int8Rounds: Record<number, number[]>;
  meanCosine: number | null;
  agreement: number | null;
  fusedKernels: string[];
  rounds: number;
  quantizeMs: number;
}

async function loadModel(runtime: Runtime, path: string, label: string): Promise<LoadedModel> {
  return runtime.load({
    modelPath: path,
    label,
    instances: 1,
    session: { graphOptimizationLevel: 'all' },
    warmup: [],
  });
}

/** Quantize and measure each model. */
export async function runOptimize(
  ctx: SectionContext,
  models: readonly BenchModel[],
  rounds: number,
): Promise<OptimizeRow[]> {
  const rows: OptimizeRow[] = [];
  const work = mkdtempSync(join(tmpdir(), 'tend-bench-optimize-'));
  const runtime = new Runtime();
  try {
    for (const model of models) {
      ctx.log(`int8-dynamic vs fp32: ${model.name}`);
      const started = performance.now();
      const original = readModelFile(model.path);
      const quantized = quantizeDynamic(original, {});
      const int8Path = join(work, `${model.name}.int8.onnx`);
      writeFileSync(int8Path, writeModel(quantized.model));
      const quantizeMs = performance.now() - started;
      const optimizedPath = join(work, `${model.name}.int8.optimized.onnx`);
      const probe = await runtime.load({
        modelPath: int8Path,
        label: 'probe',
        instances: 1,
        session: { graphOptimizationLevel: 'all', optimizedModelFilePath: optimizedPath },
        warmup: [],
      });
      await probe.unload();
      const kernels = fusedKernels(original, readModelFile(optimizedPath));

      const fp32 = await loadModel(runtime, model.path, `${model.name}:fp32`);
      const int8 = await loadModel(runtime, int8Path, `${model.name}:int8`);
      const signature = extractSignature(original.graph as NonNullable<typeof original.graph>);
      const comparison = new OutputComparison(outputPlan(signature, inferMaxBatchSize(signature, {})));
      const evalInputs = model.makeInputs(32);
      const [a, b] = await Promise.all([fp32.run(model.makeInputs(32)), int8.run(evalInputs)]);
      comparison.add(a.outputs, b.outputs, 32, null);
      const quality = comparison.summary();
      const slow = statSync(model.path).size > 10 * 2 ** 20;
      const speed = await measurePair(fp32, int8, (batch) => model.makeInputs(batch), {
        batches: OPTIMIZE_BATCHES,
        rounds,
        msPerRun: slow ? 1500 : 500,
      });
      for (const b of OPTIMIZE_BATCHES) {
        ctx.log(
          `  ${model.name} batch ${b}: fp32 ${speed.parent.byBatch.get(b)?.items_per_s.toFixed(1)} items/s, int8 ${speed.candidate.byBatch.get(b)?.items_per_s.toFixed(1)} items/s`,
        );
      }
      await Promise.all([fp32.unload(), int8.unload()]);
      const roundsOf = (s: typeof speed.parent): Record<number, number[]> =>
        Object.fromEntries(OPTIMIZE_BATCHES.map((b) => [b, s.roundRates.get(b) ?? []]));
      const figures = (s: typeof speed.parent) =>
        Object.fromEntries(OPTIMIZE_BATCHES.map((b) => [b, s.byBatch.get(b)?.items_per_s ?? Number.NaN]));
      rows.push({
        model: model.name,
        description: model.description,
        fp32Bytes: statSync(model.path).size,
        int8Bytes: statSync(int8Path).size,
        fp32: figures(speed.parent),
        int8: figures(speed.candidate),
        fp32Rounds: roundsOf(speed.parent),
        int8Rounds: roundsOf(speed.candidate),
        meanCosine: quality.mean_cosine,
        agreement: quality.agreement,
        fusedKernels: Object.keys(kernels.fused_kernels).sort(),
        rounds,
        quantizeMs,
      });
    }
  } finally {
    await runtime.close();
    rmSync(work, { recursive: true, force: true });
  }
  return rows;
}
