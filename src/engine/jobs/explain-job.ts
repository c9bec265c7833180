/**
 * Explanations of a served version's predictions (`POST /v2/models/{m}/explain`, `tend explain`):
 * KernelSHAP or LIME from src/explain, fed by the version's own workers. The perturbed rows go to the
 * workers in batches of EXPLAIN_BATCH_ROWS, several in flight, beside the batcher (ServedVersion.runDirect):
 * an explanation of one digit is ~100 000 model evaluations, which one-request-per-row would never carry.
 * The background is the version's monitoring reference summarised by k-means (cached per reference),
 * or rows the request gives.
 */
import { errors } from '../../core/errors.js';
import type { DataType, Tensor } from '../../core/tensor.js';
import {
  DEFAULT_LIME_SAMPLES,
  SeededRandom,
  expectedValue,
  featureStats,
  kernelShap,
  kmeansBackground,
  lime,
  uniformBackground,
  type Background,
  type BatchModel,
  type EvaluationCounter,
  type FeatureStats,
} from '../../explain/index.js';
import type { Registry } from '../../registry/index.js';
import { ReferenceStore, type ReferenceData } from '../serving/reference-data.js';
import type { ServedVersion } from '../serving/served-version.js';
import { validateInputs } from '../serving/validate.js';
import { parseExplainParameters, type ExplainParameters } from './explain-parameters.js';
import { tabularInputOf, type TabularInput } from './explain-tabular.js';

export {
  EXPLAIN_METHODS,
  parseExplainParameters,
  type ExplainMethod,
  type ExplainParameters,
} from './explain-parameters.js';

/** Rows per batch sent to a worker (fewer when the model's config sets a smaller max_batch_size). */
export const EXPLAIN_BATCH_ROWS = 4096;
/** Background rows KernelSHAP uses when summarising the reference (as `shap.kmeans(data, 50)`). */
export const DEFAULT_BACKGROUND_ROWS = 50;
/** The seed of the k-means summary: fixed, so that one reference always gives one background. */
const BACKGROUND_SEED = 0;

/** One explained output: per class base values, per row, class and feature attributions. */
export interface ExplainedOutput {
  name: string;
  classes: string[];
  base_value: number[];
  attributions: number[][][];
  feature_names: string[];
  /** LIME: the local model's weighted R², per row and class. */
  local_r2?: number[][];
  /** LIME: the top-k feature indices by |coefficient|, per row and class. */
  top_features?: number[][][];
  /** LIME: the local model's prediction at the explained row, per row and class. */
  local_prediction?: number[][];
}

export interface ExplainResponse {
  model_name: string;
  model_version: string;
  method: string;
  nsamples: number;
  seconds: number;
  outputs: ExplainedOutput[];
}

interface BackgroundSummary {
  background: Background;
  stats: FeatureStats;
  featureNames: string[];
}

interface ExplainedColumns {
  name: string;
  offset: number;
  width: number;
}

const FLOAT_OUTPUTS: ReadonlySet<DataType> = new Set(['FP32', 'FP64']);

export class ExplainJob {
  private readonly references: ReferenceStore;
  private readonly summaries = new WeakMap<ReferenceData, BackgroundSummary>();

  constructor(
    registry: Registry,
    private readonly maxNsamples: () => number,
  ) {
    this.references = new ReferenceStore(registry);
  }

  /**
   * Explain the rows of `inputs` (a V2 request's tensors) on `requested` with the request's `parameters`.
   * @throws TendError TEND_INVALID_ARGUMENT / TEND_INVALID_INPUT for what cannot be explained, 503 when not ready
   */
  async explain(
    requested: ServedVersion,
    inputs: Tensor[],
    rawParameters: unknown,
    counter: EvaluationCounter = { rows: 0, calls: 0 },
  ): Promise<ExplainResponse> {
    const started = process.hrtime.bigint();
    let sv = requested;
    while (!sv.isReady && sv.replacedBy) sv = sv.replacedBy;
    sv.requireBatcher();
    const tabular = tabularInputOf(sv);
    const params = parseExplainParameters(rawParameters, this.maxNsamples());
    const [tensor] = validateInputs(sv.model, sv.signature, sv.maxBatchSize, inputs, sv.tensorLimits);
    const m = tabular.features;
    const count = tensor?.shape[0] ?? 0;
    if (tensor === undefined || count === 0) throw errors.invalidInput('the request has no rows to explain');
    const rows = Float32Array.from(tensor.data as ArrayLike<number>);
    const columns = this.explainedColumns(sv, params.output);
    const summary = await this.summary(sv, tabular, params);
    // f(x) of the explained rows also tells each output's width (symbolic class dimensions).
    const probe = await sv.runDirect([this.tensorOf(tabular, rows.slice(), count)]);
    for (const c of columns) {
      const out = probe.find((t) => t.name === c.name);
      c.width = out ? out.data.length / count : 0;
    }
    let offset = 0;
    for (const c of columns) {
      c.offset = offset;
      offset += c.width;
    }
    const model = this.batchModel(sv, tabular, columns, offset);
    const fx = gather(probe, columns, count, offset);
    counter.rows += count;
    counter.calls += 1;
    const random = new SeededRandom(params.seed);
    const base = await expectedValue(model, summary.background, counter);
    const perRow: {
      attributions: Float64Array;
      r2?: Float64Array;
      local?: Float64Array;
      top?: number[][];
    }[] = [];
    let nsamples = 0;
    for (let r = 0; r < count; r++) {
      const x = rows.subarray(r * m, (r + 1) * m);
      if (params.method === 'lime') {
        const result = await lime(model, x, summary.stats, {
          nsamples: params.nsamples ?? DEFAULT_LIME_SAMPLES,
          ...(params.topK !== undefined ? { topK: params.topK } : {}),
          random,
          counter,
        });
        nsamples = result.samples;
        perRow.push({
          attributions: result.coefficients,
          r2: result.r2,
          local: result.localPrediction,
          top: result.topFeatures,
        });
      } else {
        const result = await kernelShap(
          model,
          x,
          fx.subarray(r * offset, (r + 1) * offset),
          base,
          summary.background,
          {
            ...(params.nsamples !== undefined ? { nsamples: params.nsamples } : {}),
            random,
            counter,
          },
        );
        nsamples = Math.max(nsamples, result.coalitions);
        perRow.push({ attributions: result.attributions });
      }
    }
    const labels = sv.config.labels ?? sv.classes;
    const outputs = columns.map((c): ExplainedOutput => {
      const classIndices = Array.from({ length: c.width }, (_, k) => c.offset + k);
      const out: ExplainedOutput = {
        name: c.name,
        classes:
          c.width === 1
            ? [c.name]
            : labels && labels.length === c.width
              ? [...labels]
              : classIndices.map((_, k) => String(k)),
        base_value: classIndices.map((k) => base[k] as number),
        attributions: perRow.map((p) =>
          classIndices.map((k) => Array.from(p.attributions.subarray(k * m, (k + 1) * m))),
        ),
        feature_names: summary.featureNames,
      };
      if (params.method === 'lime') {
        out.local_r2 = perRow.map((p) => classIndices.map((k) => p.r2?.[k] as number));
        out.top_features = perRow.map((p) => classIndices.map((k) => p.top?.[k] ?? []));
        out.local_prediction = perRow.map((p) => classIndices.map((k) => p.local?.[k] as number));
      }
      return out;
    });
    return {
      model_name: sv.model,
      model_version: String(sv.version),
      method: params.method,
      nsamples,
      seconds: Number(process.hrtime.bigint() - started) / 1e9,
      outputs,
    };
  }

  /**
   * One output of the version as a BatchModel (for global importance): `width` columns per row.
   * @throws TendError 400 when the version has no tabular input
   */
  outputModel(
    sv: ServedVersion,
    output: string,
    width: number,
  ): { model: BatchModel; tabular: TabularInput } {
    const tabular = tabularInputOf(sv);
    return { model: this.batchModel(sv, tabular, [{ name: output, offset: 0, width }], width), tabular };
  }

  /** Feature names from the version's reference (when it has one), else `input[j]`. */
  async featureNames(sv: ServedVersion): Promise<string[]> {
    const tabular = tabularInputOf(sv);
    try {
      const reference = await this.referenceOf(sv, tabular.features);
      if (reference) return reference.featureNames;
    } catch {
      // an unusable reference only costs the names
    }
    return Array.from({ length: tabular.features }, (_, j) => `${tabular.name}[${j}]`);
  }

  private referenceOf(
    sv: ServedVersion,
    features: number,
  ): Promise<ReferenceData | null> | ReferenceData | null {
    return sv.source === 'registry'
      ? this.references.forRegistryVersion(sv.model, sv.version, features)
      : this.references.forRepositoryVersion(sv.path, sv.version, features);
  }

  /** The version's model as the explainers see it: rows of its tabular input to the explained columns. */
  private batchModel(
    sv: ServedVersion,
    tabular: TabularInput,
    columns: readonly ExplainedColumns[],
    width: number,
  ): BatchModel {
    const configured = sv.config.max_batch_size;
    return {
      features: tabular.features,
      outputs: width,
      batchRows:
        configured !== undefined && configured > 0
          ? Math.min(configured, EXPLAIN_BATCH_ROWS)
          : EXPLAIN_BATCH_ROWS,
      // Two batches per instance: the next one waits in the worker while the current one runs.
      concurrency: 2 * Math.max(1, sv.instanceCount),
      run: async (rows, count) => {
        const outputs = await sv.runDirect([this.tensorOf(tabular, rows, count)]);
        // One explained output, all of it: its own array serves (no copy).
        const only = columns.length === 1 ? outputs.find((t) => t.name === columns[0]?.name) : undefined;
        if (
          only &&
          only.data.length === count * width &&
          (only.datatype === 'FP32' || only.datatype === 'FP64')
        )
          return only.data as Float32Array | Float64Array;
        return gather(outputs, columns, count, width);
      },
    };
  }

  private tensorOf(tabular: TabularInput, rows: Float32Array, count: number): Tensor {
    return {
      name: tabular.name,
      datatype: tabular.datatype,
      shape: [count, tabular.features],
      data: tabular.datatype === 'FP64' ? Float64Array.from(rows) : rows,
    };
  }

  /** The float outputs to explain (one when `parameters.output` names it), widths filled in later. */
  private explainedColumns(sv: ServedVersion, only: string | undefined): ExplainedColumns[] {
    const floats = sv.signature.outputs.filter((o) => o.datatype !== null && FLOAT_OUTPUTS.has(o.datatype));
    if (only !== undefined) {
      const named = sv.signature.outputs.find((o) => o.name === only);
      if (named === undefined)
        throw errors.invalidArgument(
          `parameters.output '${only}' is not an output of model '${sv.model}'; its outputs: ${sv.signature.outputs.map((o) => o.name).join(', ')}`,
        );
      if (!floats.includes(named))
        throw errors.invalidArgument(
          `parameters.output '${only}' is ${named.datatype ?? named.onnx_type}: explanations attribute FP32 or FP64 scores; pick one of ${floats.map((o) => o.name).join(', ') || '(none)'}`,
        );
      return [{ name: only, offset: 0, width: 0 }];
    }
    if (floats.length === 0)
      throw errors.invalidArgument(
        `model '${sv.model}' has no FP32 or FP64 output to explain (outputs: ${sv.signature.outputs.map((o) => `${o.name} ${o.datatype ?? o.onnx_type}`).join(', ')})`,
      );
    return floats.map((o) => ({ name: o.name, offset: 0, width: 0 }));
  }

  /** The background rows and feature statistics: the request's rows, else the version's reference. */
  private async summary(
    sv: ServedVersion,
    tabular: TabularInput,
    params: ExplainParameters,
  ): Promise<BackgroundSummary> {
    const m = tabular.features;
    const names = Array.from({ length: m }, (_, j) => `${tabular.name}[${j}]`);
    if (params.background !== undefined) {
      const rows = params.background;
      const data = new Float32Array(rows.length * m);
      rows.forEach((row, i) => {
        if (row.length !== m)
          throw errors.invalidArgument(
            `parameters.background[${i}] has ${row.length} values but input '${tabular.name}' takes ${m} features per row`,
          );
        data.set(row, i * m);
      });
      return {
        background: uniformBackground(data, rows.length, m),
        stats: featureStats(data, rows.length, m),
        featureNames: names,
      };
    }
    const reference = await this.referenceOf(sv, m);
    if (reference === null)
      throw errors.invalidArgument(
        `model '${sv.model}' version ${sv.version} has no reference data and the request gives no background: ` +
          `attach a reference data set (tend monitor reference set ${sv.model}@${sv.version} FILE.csv, or reference.csv beside a repository model), ` +
          `or send background rows in parameters.background`,
      );
    const cached = this.summaries.get(reference);
    if (cached) return cached;
    const data = new Float32Array(reference.rows * m);
    let kept = 0;
    for (let r = 0; r < reference.rows; r++) {
      let ok = true;
      for (let j = 0; j < m && ok; j++) {
        const cell = reference.features[reference.featureNames[j] as string]?.[r];
        if (typeof cell === 'number' && Number.isFinite(cell)) data[kept * m + j] = cell;
        else ok = false;
      }
      if (ok) kept++;
    }
    if (kept === 0)
      throw errors.invalidArgument(
        `the reference of model '${sv.model}' (${reference.source}) has no row of ${m} finite numbers to use as background; ` +
          `attach a numeric reference, or send background rows in parameters.background`,
      );
    const rows = data.subarray(0, kept * m);
    const summary: BackgroundSummary = {
      background: kmeansBackground(rows, kept, m, DEFAULT_BACKGROUND_ROWS, new SeededRandom(BACKGROUND_SEED)),
      stats: featureStats(rows, kept, m),
      featureNames: reference.featureNames,
    };
    this.summaries.set(reference, summary);
    return summary;
  }
}

/** The explained columns of a run's outputs, side by side: `count × width`. */
function gather(
  outputs: readonly Tensor[],
  columns: readonly ExplainedColumns[],
  count: number,
  width: number,
): Float64Array {
  const out = new Float64Array(count * width);
  for (const c of columns) {
    const t = outputs.find((o) => o.name === c.name);
    if (t === undefined) throw errors.internal(`the model did not return output '${c.name}'`);
    const data = t.data as ArrayLike<number>;
    for (let i = 0; i < count; i++)
      for (let k = 0; k < c.width; k++) out[i * width + c.offset + k] = data[i * c.width + k] as number;
  }
  return out;
}
