/**
 * What the prediction log keeps of one inference, taken on the request path and so kept cheap:
 * which input holds the features and which output holds the prediction are decided once per
 * version (an OutputPlan); per request, a sampled row costs a slice of its features and a few
 * numbers of its outputs. The features are copied before the request runs, because the batcher
 * may hand the request's buffers to a worker.
 */
import type { ModelSignature, TensorSpec } from '../../core/signature.js';
import type { DataType, NumericArray, Tensor } from '../../core/tensor.js';

/** The most features a tabular row may have to be logged value by value (beyond: a summary). */
export const MAX_LOGGED_FEATURES = 1024;
/** The most classes whose scores are logged. */
export const MAX_LOGGED_CLASSES = 1024;

const FLOAT_TYPES: ReadonlySet<DataType> = new Set(['FP32', 'FP64']);
const INTEGER_TYPES: ReadonlySet<DataType> = new Set([
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
]);
const SCORE_NAMES = ['probabilities', 'probability', 'probs', 'output_probability', 'scores', 'logits'];
const LABEL_NAMES = ['label', 'labels', 'output_label', 'class', 'predicted_class'];

export type PredictionTask = 'classification' | 'regression' | 'unknown';

/** How a version's outputs become a logged prediction. */
export interface OutputPlan {
  task: PredictionTask;
  /** Integer [batch] or [batch, 1] output holding the class index. */
  labelOutput?: string;
  /** Float [batch, K] output of class scores (probabilities or logits). */
  scoresOutput?: string;
  /** Float [batch] or [batch, 1] output of a regression. */
  valueOutput?: string;
  /** K when known from the signature or the class names. */
  numClasses?: number;
  /** The input whose rows are the logged features: a 2-D numeric [batch, F] when it is the only input. */
  tabularInput?: string;
}

/** Features and outputs of one logged row. */
export interface CapturedRow {
  features: Float32Array | null;
  featureSummary: { mean: number; std: number; min: number; max: number; count: number } | null;
  predictedClass: number | null;
  probabilities: Float32Array | null;
  value: number | null;
}

function rowDims(spec: TensorSpec, batched: boolean): (number | string)[] | null {
  if (spec.shape === null) return null;
  return batched ? spec.shape.slice(1) : spec.shape;
}

function isColumn(dims: (number | string)[] | null): boolean {
  return dims !== null && (dims.length === 0 || (dims.length === 1 && dims[0] === 1));
}

/** Decide once per version which output is the prediction and which input the features. */
export function outputPlan(
  signature: ModelSignature,
  maxBatchSize: number,
  classes?: readonly string[],
): OutputPlan {
  const batched = maxBatchSize > 0;
  const plan: OutputPlan = { task: 'unknown' };
  const outputs = signature.outputs;
  const byName = (names: string[], ok: (s: TensorSpec) => boolean): TensorSpec | undefined => {
    for (const n of names) {
      const found = outputs.find((o) => o.name.toLowerCase() === n && ok(o));
      if (found) return found;
    }
    return outputs.find(ok);
  };
  const label = byName(
    LABEL_NAMES,
    (s) =>
      s.datatype !== null &&
      INTEGER_TYPES.has(s.datatype) &&
      isColumn(rowDims(s, batched)) &&
      LABEL_NAMES.includes(s.name.toLowerCase()),
  );
  const scores = byName(SCORE_NAMES, (s) => {
    const dims = rowDims(s, batched);
    return (
      s.datatype !== null &&
      FLOAT_TYPES.has(s.datatype) &&
      dims !== null &&
      dims.length === 1 &&
      (typeof dims[0] !== 'number' || (dims[0] >= 2 && dims[0] <= MAX_LOGGED_CLASSES))
    );
  });
  if (label || scores) {
    plan.task = 'classification';
    if (label) plan.labelOutput = label.name;
    if (scores) {
      plan.scoresOutput = scores.name;
      const k = rowDims(scores, batched)?.[0];
      if (typeof k === 'number') plan.numClasses = k;
    }
    if (plan.numClasses === undefined && classes && classes.length >= 2) plan.numClasses = classes.length;
  } else {
    const value = outputs.find(
      (s) => s.datatype !== null && FLOAT_TYPES.has(s.datatype) && isColumn(rowDims(s, batched)),
    );
    if (value) {
      plan.task = 'regression';
      plan.valueOutput = value.name;
    }
  }
  const only = signature.inputs.length === 1 ? signature.inputs[0] : undefined;
  if (only && only.datatype !== null && only.datatype !== 'BYTES' && only.datatype !== 'BOOL') {
    const dims = rowDims(only, batched);
    if (dims !== null && dims.length === 1 && (typeof dims[0] !== 'number' || dims[0] <= MAX_LOGGED_FEATURES))
      plan.tabularInput = only.name;
  }
  return plan;
}

function toNumber(data: NumericArray, i: number): number {
  return Number(data[i] ?? Number.NaN);
}

/** The features of every row of a request (copied: the request's buffers may move to a worker). */
export function captureFeatures(
  plan: OutputPlan,
  inputs: readonly Tensor[],
  batched: boolean,
): { rows: number; features: (Float32Array | null)[]; summaries: CapturedRow['featureSummary'][] } {
  const first = inputs.find((t) => t.datatype !== 'BYTES');
  const rows = batched && inputs[0] ? (inputs[0].shape[0] ?? 1) : 1;
  const features: (Float32Array | null)[] = [];
  const summaries: CapturedRow['featureSummary'][] = [];
  const tabular =
    plan.tabularInput === undefined ? undefined : inputs.find((t) => t.name === plan.tabularInput);
  for (let r = 0; r < rows; r++) {
    if (tabular && tabular.datatype !== 'BYTES') {
      const data = tabular.data as NumericArray;
      const width = data.length / rows;
      if (data instanceof Float32Array) features.push(data.slice(r * width, (r + 1) * width));
      else {
        const row = new Float32Array(width);
        for (let i = 0; i < width; i++) row[i] = toNumber(data, r * width + i);
        features.push(row);
      }
      summaries.push(null);
      continue;
    }
    features.push(null);
    if (!first || first.datatype === 'BYTES') {
      summaries.push(null);
      continue;
    }
    const data = first.data as NumericArray;
    const width = data.length / rows;
    let sum = 0;
    let sumSq = 0;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (let i = r * width; i < (r + 1) * width; i++) {
      const v = toNumber(data, i);
      sum += v;
      sumSq += v * v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const mean = width > 0 ? sum / width : 0;
    summaries.push({
      mean,
      std: width > 0 ? Math.sqrt(Math.max(0, sumSq / width - mean * mean)) : 0,
      min,
      max,
      count: width,
    });
  }
  return { rows, features, summaries };
}

/** Scores as probabilities: kept when they already are (in [0, 1], summing to 1), else a softmax. */
export function asProbabilities(scores: Float32Array): Float32Array {
  let sum = 0;
  let inRange = true;
  for (const v of scores) {
    sum += v;
    if (!(v >= 0 && v <= 1)) inRange = false;
  }
  if (inRange && Math.abs(sum - 1) <= 1e-3) return scores;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of scores) if (v > max) max = v;
  const out = new Float32Array(scores.length);
  let total = 0;
  for (let i = 0; i < scores.length; i++) {
    const e = Math.exp((scores[i] as number) - max);
    out[i] = e;
    total += e;
  }
  for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) / total;
  return out;
}

/** The prediction of row `r` from the response's outputs. */
export function captureOutputs(
  plan: OutputPlan,
  outputs: readonly Tensor[],
  r: number,
  rows: number,
): Pick<CapturedRow, 'predictedClass' | 'probabilities' | 'value'> {
  const find = (name: string | undefined): Tensor | undefined =>
    name === undefined ? undefined : outputs.find((o) => o.name === name);
  let predictedClass: number | null = null;
  let probabilities: Float32Array | null = null;
  let value: number | null = null;
  const scores = find(plan.scoresOutput);
  if (scores && scores.datatype !== 'BYTES') {
    const data = scores.data as NumericArray;
    const width = data.length / rows;
    // A copy: the response's buffers go back to the client.
    const row =
      data instanceof Float32Array
        ? data.slice(r * width, (r + 1) * width)
        : Float32Array.from({ length: width }, (_, i) => toNumber(data, r * width + i));
    probabilities = asProbabilities(row);
    let best = 0;
    for (let i = 1; i < probabilities.length; i++)
      if ((probabilities[i] as number) > (probabilities[best] as number)) best = i;
    predictedClass = best;
  }
  const label = find(plan.labelOutput);
  if (label && label.datatype !== 'BYTES') predictedClass = toNumber(label.data as NumericArray, r);
  const v = find(plan.valueOutput);
  if (v && v.datatype !== 'BYTES') value = toNumber(v.data as NumericArray, r);
  return { predictedClass, probabilities, value };
}
