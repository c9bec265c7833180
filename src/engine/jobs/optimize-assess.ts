/**
 * One candidate of `tend optimize`, assessed against its parent: make it, check its structure and
 * signature, list the kernels onnxruntime runs, compare outputs on the evaluation data and time both
 * in the same run. The decision (quality gate and speed gate) is in the report; registering is a
 * separate step (registerCandidate), so that one method (optimize-job.ts) and `auto`
 * (optimize-auto.ts), which assesses several candidates and registers at most one, share it.
 */
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_SESSION_PARAMETERS } from '../../core/config.js';
import { errors } from '../../core/errors.js';
import type { ModelSignature } from '../../core/signature.js';
import type { Tensor } from '../../core/tensor.js';
import { checkModel, extractSignature, readModelFile, writeModel } from '../../onnx/index.js';
import { fusedKernels } from '../../optimize/index.js';
import type { Registry, VersionRecord as ModelVersion } from '../../registry/index.js';
import type { LoadedModel, Runtime } from '../../runtime/index.js';
import { outputPlan } from '../serving/prediction-capture.js';
import { inferMaxBatchSize } from '../serving/served-version.js';
import { warmupInputs } from '../serving/warmup.js';
import { OutputComparison } from './optimize-compare.js';
import { makeCandidate, offlineOptimize, type CandidateOptions } from './optimize-candidate.js';
import {
  checkEvaluation,
  rowsOf,
  syntheticEvaluation,
  tileRows,
  type EvaluationData,
} from './optimize-data.js';
import { DEFAULT_MAX_SLOWDOWN, speedVerdict } from './optimize-gate.js';
import { optimizeReportHtml } from './optimize-html.js';
import { measurePair } from './optimize-measure.js';
import type { ModelSpeed } from './optimize-measure.js';
import type { OptimizeReport, SideReport } from './optimize-report.js';

export const OPTIMIZE_REPORT_KIND = 'optimize-report';
export const DEFAULT_BATCHES = [1, 2, 4, 8, 16, 32];
/** Kernels that compute on quantized values. */
const QUANTIZED_KERNEL =
  /(^|\.)(QLinear\w+|QGemm|QAttention|DynamicQuantize\w+|MatMulInteger\w*|ConvInteger)$/;

/** The gate and timing options shared by one method and `auto`. */
export interface GateOptions {
  /** Labelled data: the most accuracy the candidate may lose, in points (default 1). */
  maxAccuracyDrop?: number;
  /** Unlabelled data: the least mean cosine similarity of outputs (default 0.999). */
  minCosine?: number;
  /** The most a candidate may be slower than its parent (median items/s) at its best batch size (default 0.05). */
  maxSlowdown?: number;
  /** Timing: rounds per batch size (default 5) and ms per model and round (default 300). */
  rounds?: number;
  msPerRun?: number;
  /** Batch sizes timed (default 1, 2, 4, 8, 16, 32; batch 1 only for unbatched models). */
  batches?: number[];
  /** Timing of the pair (tests inject timings here); default measurePair. */
  measure?: typeof measurePair;
  /** One line per step while the candidate is made and timed (the CLI prints them on stderr). */
  onProgress?: (line: string) => void;
}

export interface GateLimits {
  maxDrop: number;
  minCosine: number;
  maxSlowdown: number;
}

/** The gate's limits with their defaults, checked. */
export function gateLimits(options: GateOptions): GateLimits {
  const maxDrop = options.maxAccuracyDrop ?? 1;
  const minCosine = options.minCosine ?? 0.999;
  if (!(maxDrop >= 0 && maxDrop <= 100))
    throw errors.invalidArgument(`--max-accuracy-drop ${maxDrop} must be between 0 and 100 points`);
  if (!(minCosine >= -1 && minCosine <= 1))
    throw errors.invalidArgument(`--min-cosine ${minCosine} must be between -1 and 1`);
  const maxSlowdown = options.maxSlowdown ?? DEFAULT_MAX_SLOWDOWN;
  if (!(maxSlowdown >= 0 && maxSlowdown <= 1))
    throw errors.invalidArgument(`--max-slowdown ${maxSlowdown} must be between 0 and 1`);
  return { maxDrop, minCosine, maxSlowdown };
}

function sameSignature(a: ModelSignature, b: ModelSignature): string | null {
  const describe = (s: ModelSignature) =>
    JSON.stringify({
      i: s.inputs.map((x) => [x.name, x.datatype, x.shape]),
      o: s.outputs.map((x) => [x.name, x.datatype, x.shape]),
    });
  return describe(a) === describe(b)
    ? null
    : `the candidate's signature differs from the parent's (${describe(b)} vs ${describe(a)})`;
}

function side(
  version: number | null,
  size: number,
  loadMs: number,
  speed: ModelSpeed,
  accuracy: number | null,
): SideReport {
  const round = (x: number) => Math.round(x * 1e4) / 1e4;
  const fig = (f: { p50_ms: number; p99_ms: number; items_per_s: number }) => ({
    p50_ms: round(f.p50_ms),
    p99_ms: round(f.p99_ms),
    items_per_s: Math.round(f.items_per_s * 10) / 10,
  });
  return {
    version,
    size_bytes: size,
    load_ms: Math.round(loadMs * 10) / 10,
    batch1: speed.batch1 ? fig(speed.batch1) : null,
    best_batch: speed.best ? { size: speed.best.size, ...fig(speed.best) } : null,
    accuracy,
  };
}

async function load(
  runtime: Runtime,
  path: string,
  label: string,
  signature: ModelSignature,
): Promise<{ model: LoadedModel; ms: number }> {
  const started = performance.now();
  const model = await runtime.load({
    modelPath: path,
    label,
    instances: 1,
    session: { graphOptimizationLevel: DEFAULT_SESSION_PARAMETERS.graph_optimization_level },
    warmup: warmupInputs(signature),
    warmupRequired: false,
  });
  return { model, ms: performance.now() - started };
}

/** The parent of a job, its file, and the evaluation data checked against its signature. */
export interface ParentContext {
  parent: ModelVersion;
  parentPath: string;
  evaluation: EvaluationData;
  maxBatchSize: number;
}

/** What an assessment needs: the parent, a runtime and a private directory for candidate files. */
export interface AssessContext extends ParentContext {
  runtime: Runtime;
  work: string;
}

/**
 * Resolve `name@versionRef` (default latest) and check the evaluation and calibration data against it.
 * @throws TendError TEND_INVALID_ARGUMENT for an encrypted version or data that does not fit the model.
 */
export async function resolveParent(
  registry: Registry,
  name: string,
  versionRef: string | undefined,
  data: { evaluation?: EvaluationData; calibration?: EvaluationData },
): Promise<ParentContext> {
  const parent = await registry.models.resolveVersion(name, versionRef ?? 'latest');
  // onnxruntime's offline optimization reads and writes model files: a plaintext copy would defeat encryption at rest.
  if (await registry.files.isSealed(parent))
    throw errors.invalidArgument(
      `${parent.name}:${parent.version} is encrypted at rest, and tend optimize does not support an encrypted registry yet`,
    );
  const parentPath = registry.files.path(parent);
  const maxBatchSize = inferMaxBatchSize(parent.signature, {});
  const evaluation = data.evaluation ?? syntheticEvaluation(parent.signature, maxBatchSize);
  checkEvaluation(evaluation, parent.name, parent.signature, maxBatchSize);
  if (data.calibration !== undefined)
    checkEvaluation(data.calibration, parent.name, parent.signature, maxBatchSize);
  return { parent, parentPath, evaluation, maxBatchSize };
}

export interface AssessedCandidate {
  report: OptimizeReport;
  /** The candidate's file (in the context's work directory). */
  path: string;
  /** Why the gate refuses it (empty when it passes both halves). */
  refusals: string[];
}

/** Make the candidate of `options.method` as `file` in the work directory and measure it against its parent. */
export async function assessCandidate(
  ctx: AssessContext,
  options: CandidateOptions & GateOptions,
  file: string,
): Promise<AssessedCandidate> {
  const { runtime, work, parent, parentPath, evaluation, maxBatchSize } = ctx;
  const limits = gateLimits(options);
  const candidatePath = join(work, `${file}.onnx`);
  const progress = options.onProgress ?? (() => undefined);
  progress(`${options.method}: making the candidate`);
  const made = await makeCandidate(runtime, parentPath, candidatePath, options);
  const candidateModel = readModelFile(candidatePath);
  const problems = checkModel(candidateModel).filter((p) => p.severity === 'error');
  if (problems.length > 0)
    throw errors.internal(
      `the ${options.method} candidate fails structural checks: ${problems.map((p) => p.message).join('; ')}`,
    );
  const mismatch = sameSignature(
    parent.signature,
    extractSignature(candidateModel.graph as NonNullable<typeof candidateModel.graph>),
  );
  if (mismatch !== null) throw errors.internal(mismatch);

  // The kernels onnxruntime runs: the candidate as its session optimizes it, against the parent.
  const optimizedPath = join(work, `${file}.optimized.onnx`);
  if (options.method === 'graph') writeFileSync(optimizedPath, writeModel(candidateModel));
  else await offlineOptimize(runtime, candidatePath, optimizedPath, 'all');
  const kernels = fusedKernels(readModelFile(parentPath), readModelFile(optimizedPath));

  const p = await load(runtime, parentPath, `${parent.name}:${parent.version}`, parent.signature);
  const c = await load(runtime, candidatePath, `${parent.name}:candidate`, parent.signature);
  let quality: ReturnType<OutputComparison['summary']>;
  let speed: Awaited<ReturnType<typeof measurePair>>;
  try {
    const comparison = new OutputComparison(outputPlan(parent.signature, maxBatchSize));
    const n = evaluation.requests.length;
    progress(`${options.method}: comparing outputs on ${n} evaluation request${n === 1 ? '' : 's'}`);
    for (const [i, inputs] of evaluation.requests.entries()) {
      const rows = rowsOf(inputs, maxBatchSize);
      const [a, b] = await Promise.all([
        p.model.run(tileRows(inputs, rows)),
        c.model.run(tileRows(inputs, rows)),
      ]);
      comparison.add(a.outputs, b.outputs, rows, evaluation.labels?.[i] ?? null);
    }
    quality = comparison.summary();
    const first = evaluation.requests[0] as Tensor[];
    const batches =
      maxBatchSize > 0 ? (options.batches ?? DEFAULT_BATCHES).filter((b) => b <= maxBatchSize) : [1];
    speed = await (options.measure ?? measurePair)(
      p.model,
      c.model,
      (batch) => (maxBatchSize > 0 ? tileRows(first, batch) : first),
      {
        batches,
        rounds: options.rounds ?? 5,
        msPerRun: options.msPerRun ?? 300,
        onBatch: (batch, index, count) =>
          progress(
            `${options.method}: timing parent and candidate at batch ${batch} (${index + 1}/${count})`,
          ),
      },
    );
  } finally {
    await Promise.all([p.model.unload(), c.model.unload()]);
  }

  const parentSize = statSync(parentPath).size;
  const candidateSize = statSync(candidatePath).size;
  let passes: boolean;
  let gate: string;
  if (quality.parent_accuracy !== null && quality.candidate_accuracy !== null) {
    const drop = (quality.parent_accuracy - quality.candidate_accuracy) * 100;
    passes = drop <= limits.maxDrop;
    gate = `accuracy drop ${drop.toFixed(2)} pts ${passes ? '≤' : '>'} ${limits.maxDrop} pts (${quality.labelled} labelled rows)`;
  } else {
    const cosine = quality.mean_cosine ?? (quality.agreement !== null ? quality.agreement : null);
    passes = cosine !== null && cosine >= limits.minCosine;
    gate =
      cosine === null
        ? 'no float outputs to compare'
        : `mean cosine ${cosine.toFixed(6)} ${passes ? '≥' : '<'} ${limits.minCosine}${evaluation.synthetic ? ' (on generated inputs: agreement only)' : ''}`;
  }
  const speedCheck = speedVerdict(speed.parent, speed.candidate, limits.maxSlowdown);
  const ratio = (a: number | undefined, b: number | undefined) =>
    a !== undefined && b !== undefined && b > 0 ? Math.round((a / b) * 1000) / 1000 : null;
  const report: OptimizeReport = {
    name: parent.name,
    version: null,
    method: options.method,
    parameters: made.parameters,
    parent: side(parent.version, parentSize, p.ms, speed.parent, quality.parent_accuracy),
    candidate: side(null, candidateSize, c.ms, speed.candidate, quality.candidate_accuracy),
    size_ratio: Math.round((candidateSize / parentSize) * 1000) / 1000,
    speedup_batch1: ratio(speed.candidate.batch1?.items_per_s, speed.parent.batch1?.items_per_s),
    speedup_best: ratio(speed.candidate.best?.items_per_s, speed.parent.best?.items_per_s),
    agreement: quality.agreement,
    max_abs_diff: quality.max_abs_diff,
    mean_abs_diff: quality.mean_abs_diff,
    mean_cosine: quality.mean_cosine,
    fused_kernels: Object.keys(kernels.fused_kernels).sort(),
    quantized_kernels: Object.fromEntries(
      Object.entries(kernels.op_counts).filter(([op]) => QUANTIZED_KERNEL.test(op)),
    ),
    quantized_nodes: made.quantized,
    skipped_nodes: made.skipped,
    evaluation: {
      source: evaluation.source,
      synthetic: evaluation.synthetic,
      rows: quality.rows,
      labelled: quality.labelled,
    },
    gate,
    speed_gate: speedCheck.text,
    speed_by_batch: speedCheck.by_batch,
    notes: made.notes,
    registered: false,
    reason: '',
  };
  const refusals = [...(passes ? [] : [gate]), ...(speedCheck.passes ? [] : [speedCheck.text])];
  return { report, path: candidatePath, refusals };
}

/** Push an assessed candidate as a new version of its parent's model, with its lineage, tags and report. */
export async function registerCandidate(
  registry: Registry,
  parent: ModelVersion,
  assessed: AssessedCandidate,
  extra: { actor?: string; source?: string; tags?: Record<string, string> } = {},
): Promise<void> {
  const { report } = assessed;
  const pushed = await registry.models.push(assessed.path, {
    name: parent.name,
    parentVersion: parent.version,
    source: extra.source ?? `optimize:${report.method}:${parent.name}@${parent.version}`,
    tags: {
      'optimize.method': report.method,
      'optimize.parameters': JSON.stringify(report.parameters),
      ...extra.tags,
    },
    metrics: {
      size_ratio: report.size_ratio,
      speedup_batch1: report.speedup_batch1,
      speedup_best: report.speedup_best,
      mean_cosine: report.mean_cosine,
      agreement: report.agreement,
    },
    ...(extra.actor !== undefined ? { createdBy: extra.actor } : {}),
  });
  report.version = pushed.version;
  report.candidate.version = pushed.version;
  report.registered = true;
  const actor = extra.actor !== undefined ? { actor: extra.actor } : {};
  await registry.artifacts.attach(
    parent.name,
    pushed.version,
    OPTIMIZE_REPORT_KIND,
    new TextEncoder().encode(JSON.stringify(report, null, 2)),
    { mediaType: 'application/json', meta: { method: report.method, parent: parent.version }, ...actor },
  );
  await registry.artifacts.attach(
    parent.name,
    pushed.version,
    `${OPTIMIZE_REPORT_KIND}-html`,
    new TextEncoder().encode(optimizeReportHtml(report)),
    { mediaType: 'text/html', ...actor },
  );
}
