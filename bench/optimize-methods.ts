/**
 * Section 8, Optimization II: one row per method the issue names, each candidate made by the same
 * code as `tend optimize` (makeCandidate) and timed beside its fp32 parent in worker threads, rounds
 * alternating (measurePair), so each speed ratio comes with the per-round rates for its A/A control:
 *   - small_cnn int8-static (QDQ, calibrated on 200 random images, agreement on 500 others);
 *   - text_encoder_6l fp16 (size and cosine; on CPU it computes in fp32, so it is not faster);
 *   - the digits demo model with 50% of its hidden units removed and fine-tuned on its training
 *     split (parameters, size, throughput at the best batch, accuracy on the held-out split).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Tensor } from '../src/core/tensor.js';
import { makeCandidate, offlineOptimize } from '../src/engine/jobs/optimize-candidate.js';
import { OutputComparison } from '../src/engine/jobs/optimize-compare.js';
import type { EvaluationData } from '../src/engine/jobs/optimize-data.js';
import { measurePair, type ModelSpeed } from '../src/engine/jobs/optimize-measure.js';
import { outputPlan } from '../src/engine/serving/prediction-capture.js';
import { inferMaxBatchSize } from '../src/engine/serving/served-version.js';
import { extractSignature, readModelFile } from '../src/onnx/index.js';
import { Random } from '../src/train/index.js';
import { fusedKernels } from '../src/optimize/index.js';
import { Runtime, type LoadedModel } from '../src/runtime/index.js';
import type { BenchModel } from './models.js';
import { digitsArtifact, type SectionContext } from './sections.js';
import type { CandidateOptions } from '../src/engine/jobs/optimize-candidate.js';

export interface MethodRow {
  model: string;
  method: 'int8-static' | 'fp16' | 'prune-structured-finetuned';
  parentBytes: number;
  candidateBytes: number;
  /** Weight parameters (float initializer elements) of each side. */
  parentParameters: number;
  candidateParameters: number;
  batches: number[];
  /** Batch → median items/s, and each round's items/s in the order measured (A/A controls). */
  parent: Record<number, number>;
  candidate: Record<number, number>;
  parentRounds: Record<number, number[]>;
  candidateRounds: Record<number, number[]>;
  meanCosine: number | null;
  agreement: number | null;
  /** Labelled data: accuracy of each side (and of the pruned model before fine-tuning). */
  accuracy: { parent: number; candidate: number; beforeFinetune: number | null; rows: number } | null;
  /** Quantized kernels onnxruntime runs (op → count). */
  quantizedKernels: Record<string, number>;
  rounds: number;
}

const QUANTIZED = /(^|\.)(QLinear\w+|QGemm|DynamicQuantize\w+|MatMulInteger\w*|ConvInteger)$/;

async function load(runtime: Runtime, path: string, label: string): Promise<LoadedModel> {
  return runtime.load({
    modelPath: path,
    label,
    instances: 1,
    session: { graphOptimizationLevel: 'all' },
    warmup: [],
  });
}

function parameters(path: string): number {
  const graph = readModelFile(path).graph;
  return (graph?.initializer ?? []).reduce((n, t) => n + t.dims.map(Number).reduce((a, b) => a * b, 1), 0);
}

/** `count` requests of one row each, float inputs drawn from a normal distribution seeded by `seed`. */
function requestsOf(model: BenchModel, count: number, seed: number, source: string): EvaluationData {
  const random = new Random(seed);
  const requests = Array.from({ length: count }, () =>
    model
      .makeInputs(1)
      .map((t) =>
        t.data instanceof Float32Array ? { ...t, data: Float32Array.from(t.data, () => random.normal()) } : t,
      ),
  );
  return { source, synthetic: false, labels: null, requests };
}

interface Measured {
  speed: { parent: ModelSpeed; candidate: ModelSpeed };
  meanCosine: number | null;
  agreement: number | null;
}

async function measure(
  runtime: Runtime,
  parentPath: string,
  candidatePath: string,
  inputsFor: (batch: number) => Tensor[],
  evaluation: Tensor[][],
  batches: number[],
  rounds: number,
  msPerRun: number,
): Promise<Measured> {
  const parent = await load(runtime, parentPath, 'parent');
  const candidate = await load(runtime, candidatePath, 'candidate');
  try {
    const model = readModelFile(parentPath);
    const signature = extractSignature(model.graph as NonNullable<typeof model.graph>);
    const comparison = new OutputComparison(outputPlan(signature, inferMaxBatchSize(signature, {})));
    for (const inputs of evaluation) {
      const rows = Number(inputs[0]?.shape[0] ?? 1);
      const copy = () => inputs.map((t) => ({ ...t, data: t.data.slice() as typeof t.data }));
      const [a, b] = await Promise.all([parent.run(copy()), candidate.run(copy())]);
      comparison.add(a.outputs, b.outputs, rows, null);
    }
    const quality = comparison.summary();
    const speed = await measurePair(parent, candidate, inputsFor, { batches, rounds, msPerRun });
    return { speed, meanCosine: quality.mean_cosine, agreement: quality.agreement };
  } finally {
    await Promise.all([parent.unload(), candidate.unload()]);
  }
}

function row(
  base: Pick<MethodRow, 'model' | 'method' | 'accuracy' | 'quantizedKernels' | 'rounds' | 'batches'>,
  parentPath: string,
  candidatePath: string,
  m: Measured,
): MethodRow {
  const figures = (s: ModelSpeed) =>
    Object.fromEntries(base.batches.map((b) => [b, s.byBatch.get(b)?.items_per_s ?? Number.NaN]));
  const roundsOf = (s: ModelSpeed) =>
    Object.fromEntries(base.batches.map((b) => [b, s.roundRates.get(b) ?? []]));
  return {
    ...base,
    parentBytes: statSync(parentPath).size,
    candidateBytes: statSync(candidatePath).size,
    parentParameters: parameters(parentPath),
    candidateParameters: parameters(candidatePath),
    parent: figures(m.speed.parent),
    candidate: figures(m.speed.candidate),
    parentRounds: roundsOf(m.speed.parent),
    candidateRounds: roundsOf(m.speed.candidate),
    meanCosine: m.meanCosine,
    agreement: m.agreement,
  };
}

async function quantizedKernels(runtime: Runtime, parentPath: string, candidatePath: string, work: string) {
  const optimized = join(work, 'probe.optimized.onnx');
  await offlineOptimize(runtime, candidatePath, optimized, 'all');
  const ops = fusedKernels(readModelFile(parentPath), readModelFile(optimized)).op_counts;
  return Object.fromEntries(Object.entries(ops).filter(([op]) => QUANTIZED.test(op)));
}

/** Accuracy of `model` (probabilities output) on raw feature rows. */
async function accuracy(
  model: LoadedModel,
  features: Float32Array,
  labels: Int32Array,
  rows: number,
): Promise<number> {
  const width = features.length / rows;
  const result = await model.run([
    {
      name: model.inputNames[0] ?? 'features',
      datatype: 'FP32',
      shape: [rows, width],
      data: features.slice(),
    },
  ]);
  const scores = (result.outputs.find((o) => o.name === 'probabilities') ?? result.outputs[0])
    ?.data as Float32Array;
  const k = scores.length / rows;
  let correct = 0;
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < k; c++)
      if ((scores[r * k + c] as number) > (scores[r * k + best] as number)) best = c;
    if (best === labels[r]) correct++;
  }
  return correct / rows;
}

/** The three Optimization II rows; `encoder` is text_encoder_6l when its file is there. */
export async function runOptimizeMethods(
  ctx: SectionContext,
  cnn: BenchModel,
  encoder: BenchModel | null,
  rounds: number,
): Promise<MethodRow[]> {
  const rows: MethodRow[] = [];
  const work = mkdtempSync(join(tmpdir(), 'tend-bench-optimize-ii-'));
  const runtime = new Runtime();
  const make = async (parentPath: string, file: string, options: CandidateOptions) => {
    const path = join(work, file);
    return { path, made: await makeCandidate(runtime, parentPath, path, options) };
  };
  try {
    ctx.log('int8-static vs fp32: small_cnn');
    const calibration = requestsOf(cnn, 200, 1, 'bench calibration');
    const cnnEval = requestsOf(cnn, 500, 2, 'bench evaluation').requests;
    const cnnInt8 = await make(cnn.path, 'small_cnn.int8-static.onnx', {
      method: 'int8-static',
      calibration,
    });
    const cnnBatches = [1, 8];
    rows.push(
      row(
        {
          model: cnn.name,
          method: 'int8-static',
          accuracy: null,
          quantizedKernels: await quantizedKernels(runtime, cnn.path, cnnInt8.path, work),
          rounds,
          batches: cnnBatches,
        },
        cnn.path,
        cnnInt8.path,
        await measure(
          runtime,
          cnn.path,
          cnnInt8.path,
          (b) => cnn.makeInputs(b),
          cnnEval,
          cnnBatches,
          rounds,
          500,
        ),
      ),
    );

    if (encoder !== null) {
      ctx.log('fp16 vs fp32: text_encoder_6l');
      const fp16 = await make(encoder.path, 'encoder.fp16.onnx', { method: 'fp16' });
      const batches = [1, 8];
      rows.push(
        row(
          { model: encoder.name, method: 'fp16', accuracy: null, quantizedKernels: {}, rounds, batches },
          encoder.path,
          fp16.path,
          await measure(
            runtime,
            encoder.path,
            fp16.path,
            (b) => encoder.makeInputs(b),
            [encoder.makeInputs(8), encoder.makeInputs(4)],
            batches,
            rounds,
            1500,
          ),
        ),
      );
    }

    ctx.log('structured pruning (50% of hidden units) + fine-tuning vs fp32: digits');
    const digits = digitsArtifact(ctx);
    const { trainSet, classes } = digits;
    const width = trainSet.columns.length;
    const lines = [[...trainSet.columns, trainSet.target].join(',')];
    for (let r = 0; r < trainSet.rows; r++)
      lines.push(
        [...trainSet.features.subarray(r * width, (r + 1) * width), classes[trainSet.labels[r] ?? 0]].join(
          ',',
        ),
      );
    const finetune = { text: `${lines.join('\n')}\n`, source: 'the training split', target: trainSet.target };
    const pruned = await make(digits.model.path, 'digits.pruned.onnx', {
      method: 'prune',
      structured: true,
      sparsity: 0.5,
    });
    const tuned = await make(digits.model.path, 'digits.pruned-finetuned.onnx', {
      method: 'prune',
      structured: true,
      sparsity: 0.5,
      finetune,
    });
    const { features, labels, rows: testRows } = digits.testSet;
    const scored = async (path: string) => {
      const m = await load(runtime, path, 'digits');
      try {
        return await accuracy(m, features, labels, testRows);
      } finally {
        await m.unload();
      }
    };
    const digitsBatches = [1, 8, 64, 256];
    rows.push(
      row(
        {
          model: 'digits',
          method: 'prune-structured-finetuned',
          accuracy: {
            parent: await scored(digits.model.path),
            candidate: await scored(tuned.path),
            beforeFinetune: await scored(pruned.path),
            rows: testRows,
          },
          quantizedKernels: {},
          rounds,
          batches: digitsBatches,
        },
        digits.model.path,
        tuned.path,
        await measure(
          runtime,
          digits.model.path,
          tuned.path,
          (b) => digits.model.makeInputs(b),
          [digits.model.makeInputs(64)],
          digitsBatches,
          rounds,
          300,
        ),
      ),
    );
  } finally {
    await runtime.close();
    rmSync(work, { recursive: true, force: true });
  }
  return rows;
}
