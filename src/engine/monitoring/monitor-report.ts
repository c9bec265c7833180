/**
 * The monitor's answer for two files instead of a logged window: the rows of a current CSV run
 * through a model version in process, then drift, data quality and quality computed by the code
 * the monitor API runs (buildMonitorView) on the rows the prediction log would have kept (features
 * as float32, the prediction as the output plan reads it). A report and the API therefore give the
 * same verdicts for the same data.
 */
import { errors } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import type { CellValue } from '../../monitor/drift-columns.js';
import { NO_CLASS, type WindowRows } from '../../monitor/prediction-log.js';
import { parseReferenceCsv } from '../../monitor/reference-table.js';
import { buildMonitorView, type MonitorView } from './monitor-view.js';
import { featureCountOf, planOf } from './output-plans.js';
import { captureOutputs, type OutputPlan, type PredictionTask } from '../serving/prediction-capture.js';
import { referenceFromCsv, type ReferenceData } from '../serving/reference-data.js';
import type { InferRequest, InferResponse } from '../serving/run-request.js';
import type { ServedVersion } from '../serving/served-version.js';

/** The rows of the current CSV, matched to the reference's feature columns. */
export interface CurrentData {
  source: string;
  rows: number;
  /** Feature columns in the reference's (the model's input) order. */
  features: Record<string, CellValue[]>;
  /** The ground-truth column, when the file has one. */
  target: { name: string; values: CellValue[] } | null;
  /** Per row, the line of the file it starts on (default: one line per row after the header). */
  lines?: number[];
}

/** What the model answered for each current row, shaped as the prediction log keeps it. */
export interface RowPredictions {
  /** The features as the model saw them and the log stores them (float32). */
  features: Float32Array[];
  predictedClass: Int32Array;
  probabilities: (Float32Array | null)[];
  value: Float64Array;
}

/**
 * A drift, data quality and quality report of a current file against a reference file (snake_case: it leaves
 * the process).
 */
export interface MonitorReport {
  model: string;
  version: string;
  generated_at: string;
  task: PredictionTask;
  /** Class names of a classifier (index → name), when the model has them. */
  classes: string[] | null;
  reference: { source: string; rows: number; target: string | null };
  current: { source: string; rows: number; target: string | null };
  /** Rows whose ground truth was used (0 without labels). */
  labelled: number;
  quality: MonitorView['quality'];
  /** Why quality is null, else null. */
  quality_note: string | null;
  drift: MonitorView['drift'];
  data_quality: MonitorView['data_quality'];
  drift_note: string | null;
  histograms: MonitorView['histograms'];
}

/** What the report needs of the engine: resolve a model reference and run a request. */
export interface ReportEngine {
  resolve(modelRef: string, versionRef?: string): Promise<ServedVersion>;
  infer(version: ServedVersion, request: InferRequest): Promise<InferResponse>;
}

export interface MonitorReportOptions {
  model: string;
  version?: string | undefined;
  reference: { text: string; source: string };
  current: { text: string; source: string };
  /** Use the current file's target column as ground truth. */
  labels: boolean;
  now?: Date;
}

const quoted = (names: readonly string[]): string => names.map((n) => `'${n}'`).join(', ');

/**
 * Match a current CSV to the reference: every feature column by name (in any order), optionally
 * one target column (named like the reference's target, else the last column). Any other
 * difference is an error, before anything runs.
 * @throws TendError TEND_INVALID_ARGUMENT naming the missing and the extra columns
 */
export function currentFromCsv(
  text: string,
  source: string,
  reference: ReferenceData,
  wantLabels: boolean,
): CurrentData {
  const table = parseReferenceCsv(text, source);
  const featureSet = new Set(reference.featureNames);
  const missing = reference.featureNames.filter((n) => !table.columns.includes(n));
  const others = table.columns.filter((c) => !featureSet.has(c));
  let targetName: string | null = null;
  if (reference.target && others.includes(reference.target.name)) targetName = reference.target.name;
  else if (
    missing.length === 0 &&
    others.length === 1 &&
    table.columns[table.columns.length - 1] === others[0]
  )
    targetName = others[0] as string;
  const extra = others.filter((c) => c !== targetName);
  if (missing.length > 0 || extra.length > 0) {
    const parts: string[] = [];
    if (missing.length > 0)
      parts.push(
        `lacks feature column(s) ${quoted(missing.slice(0, 10))}${missing.length > 10 ? ` and ${missing.length - 10} more` : ''}`,
      );
    if (extra.length > 0)
      parts.push(
        `has column(s) ${quoted(extra.slice(0, 10))}${extra.length > 10 ? ` and ${extra.length - 10} more` : ''} the reference does not`,
      );
    throw errors.invalidArgument(
      `${source} ${parts.join(' and ')}: the current data needs the reference's ${reference.featureNames.length} feature columns (${reference.source}), optionally followed by the target column`,
    );
  }
  if (wantLabels && targetName === null) {
    const like = reference.target
      ? `a column '${reference.target.name}' (like the reference's target) or `
      : '';
    throw errors.invalidArgument(
      `${source} has no ground truth for --labels: add ${like}one last column after the ${reference.featureNames.length} features`,
    );
  }
  return {
    source,
    rows: table.rows,
    features: Object.fromEntries(reference.featureNames.map((n) => [n, [...(table.values[n] ?? [])]])),
    target: targetName === null ? null : { name: targetName, values: [...(table.values[targetName] ?? [])] },
    lines: table.lines,
  };
}

function tabularSpec(sv: ServedVersion, plan: OutputPlan): { name: string; datatype: 'FP32' | 'FP64' } {
  const spec = sv.signature.inputs.find((s) => s.name === plan.tabularInput);
  if (!spec || (spec.datatype !== 'FP32' && spec.datatype !== 'FP64')) {
    throw errors.invalidArgument(
      `model '${sv.model}' version ${sv.version}: a report feeds CSV rows to one FP32 or FP64 [batch, features] input; this model takes ${sv.signature.inputs.map((s) => `${s.name} ${s.datatype ?? s.onnx_type}`).join(', ')}`,
    );
  }
  return { name: spec.name, datatype: spec.datatype };
}

/** The line of the file a current row starts on. */
const lineOf = (lines: readonly number[] | undefined, row: number): number => lines?.[row] ?? row + 2;

function numericCell(value: CellValue, current: CurrentData, column: string, row: number): number {
  if (value === null) return Number.NaN;
  if (typeof value === 'number') return value;
  throw errors.invalidArgument(
    `${current.source}, line ${lineOf(current.lines, row)}, column '${column}': '${value}' is not a number, and the model takes numbers`,
  );
}

/** Run every current row through the version (in batches of its largest batch) and keep what the log would. */
export async function predictRows(
  engine: Pick<ReportEngine, 'infer'>,
  sv: ServedVersion,
  current: CurrentData,
  featureNames: readonly string[],
): Promise<RowPredictions> {
  const plan = planOf(sv);
  const input = tabularSpec(sv, plan);
  const width = featureNames.length;
  const batched = sv.maxBatchSize > 0;
  const chunk = batched ? sv.maxBatchSize : 1;
  const columns = featureNames.map((n) => current.features[n] ?? []);
  const out: RowPredictions = {
    features: [],
    predictedClass: new Int32Array(current.rows).fill(NO_CLASS),
    probabilities: [],
    value: new Float64Array(current.rows).fill(Number.NaN),
  };
  for (let start = 0; start < current.rows; start += chunk) {
    const n = Math.min(chunk, current.rows - start);
    const data = input.datatype === 'FP64' ? new Float64Array(n * width) : new Float32Array(n * width);
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < width; c++)
        data[r * width + c] = numericCell(
          columns[c]?.[start + r] ?? null,
          current,
          featureNames[c] as string,
          start + r,
        );
      // Copied before the run: the batcher may hand the request's buffer to a worker.
      out.features.push(Float32Array.from(data.subarray(r * width, (r + 1) * width)));
    }
    const tensor: Tensor = {
      name: input.name,
      datatype: input.datatype,
      shape: batched ? [n, width] : [width],
      data,
    };
    const response = await engine.infer(sv, { inputs: [tensor] });
    for (let r = 0; r < n; r++) {
      const captured = captureOutputs(plan, response.outputs, r, n);
      if (captured.predictedClass !== null && Number.isInteger(captured.predictedClass))
        out.predictedClass[start + r] = captured.predictedClass;
      out.probabilities.push(captured.probabilities);
      if (captured.value !== null) out.value[start + r] = captured.value;
    }
  }
  return out;
}

/** The ground truth of each row as the log keeps it: a class index (class names mapped) or a value. */
export function groundTruth(
  target: CurrentData['target'],
  rows: number,
  task: PredictionTask,
  classes: readonly string[] | undefined,
  source: string,
  lines?: readonly number[],
): { label: Int32Array; labelValue: Float64Array } {
  const label = new Int32Array(rows).fill(NO_CLASS);
  const labelValue = new Float64Array(rows).fill(Number.NaN);
  if (target === null) return { label, labelValue };
  target.values.forEach((v, r) => {
    if (v === null) return;
    const where = `${source}, line ${lineOf(lines, r)}, column '${target.name}'`;
    if (task === 'regression') {
      if (typeof v !== 'number')
        throw errors.invalidArgument(`${where}: '${v}' is not a number (the model is a regression)`);
      labelValue[r] = v;
      return;
    }
    const named = classes ? classes.indexOf(String(v)) : -1;
    if (named >= 0) label[r] = named;
    else if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) label[r] = v;
    else {
      const known = classes
        ? ` (classes: ${classes.slice(0, 20).join(', ')}${classes.length > 20 ? ', …' : ''})`
        : ' (give class indices 0, 1, …)';
      throw errors.invalidArgument(`${where}: '${String(v)}' is not a class of the model${known}`);
    }
  });
  return { label, labelValue };
}

/** The rows as the prediction log's reader returns them, so the monitor's own view can read them. */
export function asWindowRows(
  predictions: RowPredictions,
  truth: { label: Int32Array; labelValue: Float64Array },
  version: number,
): WindowRows {
  const count = predictions.features.length;
  return {
    count,
    requestIds: Array.from({ length: count }, (_, i) => `report-${i}`),
    rows: new Int32Array(count),
    versions: new Int32Array(count).fill(version),
    routes: new Array<string>(count).fill('direct'),
    timeMs: new Float64Array(count),
    latencyMs: new Float64Array(count),
    features: predictions.features,
    featureSummaries: new Array<null>(count).fill(null),
    predictedClass: predictions.predictedClass,
    probabilities: predictions.probabilities,
    value: predictions.value,
    label: truth.label,
    labelValue: truth.labelValue,
    feedbackTimeMs: new Float64Array(count).fill(Number.NaN),
  };
}

/**
 * Resolve the model, read both files, run the current rows through the model and compute the
 * report. Nothing is written: the caller decides where the report goes.
 * @throws TendError for an unknown model, a model without one tabular input, bad CSV or mismatched columns
 */
export async function buildMonitorReport(
  engine: ReportEngine,
  options: MonitorReportOptions,
): Promise<MonitorReport> {
  const sv = await engine.resolve(options.model, options.version);
  const plan = planOf(sv);
  const reference = referenceFromCsv(
    options.reference.text,
    options.reference.source,
    featureCountOf(sv),
    sv.version,
  );
  const current = currentFromCsv(options.current.text, options.current.source, reference, options.labels);
  const classes = sv.config.labels ?? sv.classes;
  const truth = groundTruth(
    options.labels ? current.target : null,
    current.rows,
    plan.task,
    classes,
    current.source,
    current.lines,
  );
  const predictions = await predictRows(engine, sv, current, reference.featureNames);
  const view = buildMonitorView({
    model: sv.model,
    version: sv.version,
    window: current.source,
    rows: asWindowRows(predictions, truth, sv.version),
    task: plan.task,
    numClasses: plan.numClasses,
    reference,
    alerts: [],
  });
  let qualityNote: string | null = null;
  if (view.quality === null) {
    qualityNote = !options.labels
      ? 'no ground truth: run the report with --labels and a target column in the current file'
      : plan.task === 'unknown'
        ? 'the model has no output tend reads as a class or a value'
        : 'no row of the current file has a usable label';
  }
  return {
    model: sv.model,
    version: String(sv.version),
    generated_at: (options.now ?? new Date()).toISOString(),
    task: plan.task,
    classes: classes ? [...classes] : null,
    reference: { source: reference.source, rows: reference.rows, target: reference.target?.name ?? null },
    current: {
      source: current.source,
      rows: current.rows,
      target: options.labels ? (current.target?.name ?? null) : null,
    },
    labelled: view.labelled,
    quality: view.quality,
    quality_note: qualityNote,
    drift: view.drift,
    data_quality: view.data_quality,
    drift_note: view.drift_note,
    histograms: view.histograms,
  };
}

/** The names of the drifted features of a report (the verdicts the monitor API gives). */
export function driftedFeatures(report: Pick<MonitorReport, 'drift'>): string[] {
  return report.drift?.features.filter((f) => f.drifted).map((f) => f.name) ?? [];
}
