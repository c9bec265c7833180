/**
 * Global importance of a version's features (`GET /v2/models/{m}/importance`): permutation importance
 * over logged rows that have feedback labels (the prediction log joined with ground truth), or the
 * mean |SHAP| over a sample of logged rows. Spans the monitoring room (the log) and the jobs room
 * (the explainer and its batches on the version's workers).
 */
import { errors } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import {
  SeededRandom,
  accuracyScore,
  negativeMseScore,
  permutationImportance,
  type Score,
} from '../../explain/index.js';
import type { ExplainJob } from '../jobs/explain-job.js';
import type { MonitoringApp } from '../monitoring/monitoring-app.js';
import { planOf } from '../monitoring/output-plans.js';
import type { ModelTable } from '../serving/model-table.js';
import type { ServedVersion } from '../serving/served-version.js';

export const IMPORTANCE_METHODS = ['permutation', 'mean_abs_shap'] as const;
/** Labelled rows permutation importance needs at least. */
export const MIN_LABELLED_ROWS = 10;
const DEFAULT_LAST = 1000;
const DEFAULT_SHAP_ROWS = 20;

/** The query string of the importance route, as strings. */
export type ImportanceQuery = Partial<
  Record<'version' | 'method' | 'last' | 'repeats' | 'seed' | 'rows' | 'nsamples', string>
>;

export interface ImportanceResponse {
  model_name: string;
  model_version: string;
  method: string;
  /** Logged rows the importance was computed on. */
  rows: number;
  seconds: number;
  feature_names: string[];
  /** Permutation: the score and its value on the rows as logged. */
  metric?: 'accuracy' | 'neg_mean_squared_error';
  baseline_score?: number;
  /** Permutation: mean drop of the score per feature, and its standard deviation over the repeats. */
  importance?: number[];
  std?: number[];
  /** Mean |SHAP|: per output, per class and feature, and each explained row's attributions. */
  outputs?: { name: string; classes: string[]; importance: number[][]; explained: ExplainedRow[] }[];
}

/** One logged prediction explained for mean |SHAP|: its top class (largest base + Σφ) and that class's φ. */
export interface ExplainedRow {
  request_id: string;
  row: number;
  class: string;
  attributions: number[];
}

export interface ImportanceRooms {
  table: ModelTable;
  monitoring: MonitoringApp | undefined;
  explainer: ExplainJob;
}

function intParam(
  query: ImportanceQuery,
  key: keyof ImportanceQuery,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = query[key];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw errors.invalidArgument(`${key} must be an integer from ${min} to ${max}, got '${raw}'`);
  return n;
}

/** Global importance of a model version's features from its prediction log. */
export async function globalImportance(
  rooms: ImportanceRooms,
  modelRef: string,
  query: ImportanceQuery,
): Promise<ImportanceResponse> {
  const started = process.hrtime.bigint();
  const method = query.method ?? 'permutation';
  if (!(IMPORTANCE_METHODS as readonly string[]).includes(method))
    throw errors.invalidArgument(`method must be one of ${IMPORTANCE_METHODS.join(', ')}, got '${method}'`);
  const app = rooms.monitoring;
  if (!app)
    throw errors.forbidden(
      'global importance reads the prediction log, and monitoring is off (monitoring.enabled: false in the server config)',
    );
  const sv = await rooms.table.resolve(modelRef, query.version);
  sv.requireBatcher();
  const names = await rooms.explainer.featureNames(sv);
  const m = names.length;
  const last = intParam(query, 'last', DEFAULT_LAST, 1, 100_000);
  const seed = intParam(query, 'seed', 0, 0, Number.MAX_SAFE_INTEGER);
  const window = await app.rows(sv.model, sv.version, { last, text: `last ${last}` });
  const common = { model_name: sv.model, model_version: String(sv.version), method, feature_names: names };
  const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
  if (method === 'mean_abs_shap') {
    const wanted = intParam(query, 'rows', DEFAULT_SHAP_ROWS, 1, Math.max(1, sv.maxBatchSize));
    const picked: Float32Array[] = [];
    const origin: { request_id: string; row: number }[] = [];
    for (let i = window.count - 1; i >= 0 && picked.length < wanted; i--) {
      const f = window.features[i];
      if (f && f.length === m) {
        picked.push(f);
        origin.push({ request_id: window.requestIds[i] as string, row: window.rows[i] as number });
      }
    }
    if (picked.length === 0)
      throw errors.invalidArgument(
        `model '${sv.model}' version ${sv.version} has no logged rows with features yet; send inference requests (monitoring samples them), then ask again`,
      );
    const nsamples =
      query.nsamples === undefined ? undefined : intParam(query, 'nsamples', 0, 1, Number.MAX_SAFE_INTEGER);
    const explained = await rooms.explainer.explain(sv, [tensorOf(sv, picked, m)], {
      seed,
      ...(nsamples !== undefined ? { nsamples } : {}),
    });
    return {
      ...common,
      rows: picked.length,
      seconds: seconds(),
      outputs: explained.outputs.map((o) => ({
        name: o.name,
        classes: o.classes,
        importance: o.classes.map((_, c) =>
          Array.from({ length: m }, (_, j) => {
            let s = 0;
            for (const row of o.attributions) s += Math.abs(row[c]?.[j] ?? 0);
            return s / o.attributions.length;
          }),
        ),
        explained: o.attributions.map((perClass, r): ExplainedRow => {
          const totals = perClass.map((phi, c) => (o.base_value[c] ?? 0) + phi.reduce((a, b) => a + b, 0));
          const top = totals.indexOf(Math.max(...totals));
          return {
            ...(origin[r] as { request_id: string; row: number }),
            class: o.classes[top] ?? String(top),
            attributions: perClass[top] ?? [],
          };
        }),
      })),
    };
  }
  const plan = planOf(sv);
  const classification = plan.task === 'classification' && plan.scoresOutput !== undefined;
  const output = classification ? plan.scoresOutput : plan.valueOutput;
  if (output === undefined)
    throw errors.invalidArgument(
      `model '${sv.model}' has no class-score or regression output that feedback labels can score; try method=mean_abs_shap`,
    );
  const width = classification ? await outputWidth(sv, output, m) : 1;
  const rows: Float32Array[] = [];
  const labels: number[] = [];
  for (let i = 0; i < window.count; i++) {
    const f = window.features[i];
    if (!f || f.length !== m) continue;
    const label = classification ? (window.label[i] as number) : (window.labelValue[i] as number);
    if (classification ? label < 0 || label >= width : Number.isNaN(label)) continue;
    rows.push(f);
    labels.push(label);
  }
  if (rows.length < MIN_LABELLED_ROWS)
    throw errors.invalidArgument(
      `permutation importance needs at least ${MIN_LABELLED_ROWS} logged rows with feedback labels; model '${sv.model}' version ${sv.version} has ${rows.length} of the last ${window.count} logged: ` +
        `send ground truth (POST /v2/models/${sv.model}/feedback or tend feedback), or use method=mean_abs_shap`,
    );
  const data = new Float32Array(rows.length * m);
  rows.forEach((r, i) => data.set(r, i * m));
  const score: Score = classification
    ? accuracyScore(Int32Array.from(labels), width)
    : negativeMseScore(Float64Array.from(labels));
  const { model } = rooms.explainer.outputModel(sv, output, width);
  const result = await permutationImportance(model, data, rows.length, {
    repeats: intParam(query, 'repeats', 5, 1, 50),
    random: new SeededRandom(seed),
    score,
  });
  return {
    ...common,
    rows: rows.length,
    seconds: seconds(),
    metric: classification ? 'accuracy' : 'neg_mean_squared_error',
    baseline_score: result.baseline,
    importance: Array.from(result.mean),
    std: Array.from(result.std),
  };
}

function tensorOf(sv: ServedVersion, rows: readonly Float32Array[], m: number): Tensor {
  const spec = sv.signature.inputs[0];
  const data = new Float32Array(rows.length * m);
  rows.forEach((r, i) => data.set(r, i * m));
  return {
    name: spec?.name ?? '',
    datatype: spec?.datatype === 'FP64' ? 'FP64' : 'FP32',
    shape: [rows.length, m],
    data: spec?.datatype === 'FP64' ? Float64Array.from(data) : data,
  };
}

/** Columns of one output per row, from one run of a zero row. */
async function outputWidth(sv: ServedVersion, output: string, m: number): Promise<number> {
  const outputs = await sv.runDirect([tensorOf(sv, [new Float32Array(m)], m)]);
  const found = outputs.find((t) => t.name === output);
  if (!found) throw errors.internal(`model '${sv.model}' did not return output '${output}'`);
  return found.data.length;
}
