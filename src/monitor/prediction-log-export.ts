/**
 * `tend log export`: logged rows as CSV (one column per feature and per class score, for spreadsheets
 * and pandas), JSON lines (one object per row, arrays kept whole), or NDJSON for Elasticsearch (the
 * JSON lines with an `@timestamp`, optionally each behind a `_bulk` action line). Times are ISO 8601
 * (UTC).
 */
import { csvField } from '../core/csv.js';
import { COL, summaryOf, type LoggedRow } from './prediction-log-columns.js';

export type ExportFormat = 'csv' | 'jsonl' | 'ndjson';

export const EXPORT_FORMATS: readonly ExportFormat[] = ['csv', 'jsonl', 'ndjson'];

export interface ExportNames {
  /** Column names of the features (default feature_0, feature_1, ...). */
  featureNames?: readonly string[];
  /** Class names: scores become p_<name> and classes are written by name (default p_0, ... and indices). */
  classNames?: readonly string[];
  /** ndjson: put each document behind `{"index":{"_index":NAME}}`, a body for Elasticsearch's `_bulk`. */
  bulkIndex?: string;
}

export interface ExportShape {
  /** The widest features row, in values. */
  features: number;
  /** The widest probabilities row, in values. */
  probabilities: number;
  /** Whether any row has a feature summary. */
  summaries: boolean;
}

/** The shortest decimal that reads back as the same float32 (0.1f prints as 0.1, not 0.10000000149011612). */
export function formatFloat32(value: number): string {
  // Integers below 1e21 print exactly (and without an exponent) as they are.
  if (!Number.isFinite(value) || (Number.isInteger(value) && Math.abs(value) < 1e21)) return String(value);
  // Decimal-looking inputs (5.1, 0.25) round-trip at 6 digits; other float32 values need 7 to 9
  // digits, found in at most two more tries.
  const six = readsBack(value, 6);
  if (six !== null) return six;
  const eight = readsBack(value, 8);
  if (eight === null) return trimZeros(value.toPrecision(9));
  return readsBack(value, 7) ?? eight;
}

function readsBack(value: number, digits: number): string | null {
  const text = value.toPrecision(digits);
  return Math.fround(Number(text)) === value ? trimZeros(text) : null;
}

/** "5.10000" → "5.1", "1.50000e-7" → "1.5e-7" (toPrecision pads; String(Number) would not). */
function trimZeros(text: string): string {
  const e = text.indexOf('e');
  const mantissa = e < 0 ? text : text.slice(0, e);
  if (!mantissa.includes('.')) return text;
  let end = mantissa.length;
  while (mantissa.charCodeAt(end - 1) === 48) end--;
  if (mantissa.charCodeAt(end - 1) === 46) end--;
  return mantissa.slice(0, end) + (e < 0 ? '' : text.slice(e));
}

function isoTime(ms: unknown): string | null {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return null;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

function className(index: unknown, classNames: readonly string[] | undefined): string | number | null {
  if (typeof index !== 'number') return null;
  return classNames?.[index] ?? index;
}

function columnNames(count: number, given: readonly string[] | undefined, prefix: string): string[] {
  return Array.from({ length: count }, (_, i) => given?.[i] ?? `${prefix}${i}`);
}

function csvHeader(shape: ExportShape, names: ExportNames): string {
  return [
    'request_id',
    'row',
    'model',
    'version',
    'route',
    'time',
    'latency_ms',
    ...columnNames(shape.features, names.featureNames, 'feature_'),
    ...(shape.summaries
      ? ['feature_mean', 'feature_std', 'feature_min', 'feature_max', 'feature_count']
      : []),
    'predicted_class',
    ...columnNames(shape.probabilities, names.classNames, '').map((name) => `p_${name}`),
    'value',
    'label',
    'label_value',
    'feedback_time',
  ]
    .map(csvField)
    .join(',');
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? csvField(value) : String(value);
}

function floatCells(values: Float32Array | null, width: number): string[] {
  const cells = new Array<string>(width).fill('');
  if (values !== null)
    for (let i = 0; i < Math.min(width, values.length); i++) cells[i] = formatFloat32(values[i] as number);
  return cells;
}

function csvLine(
  { raw, features, probabilities }: LoggedRow,
  shape: ExportShape,
  names: ExportNames,
): string {
  const summary = shape.summaries ? summaryOf(raw) : null;
  return [
    cell(raw[COL.requestId]),
    cell(raw[COL.row]),
    cell(raw[COL.model]),
    cell(raw[COL.version]),
    cell(raw[COL.route]),
    cell(isoTime(raw[COL.timeMs])),
    cell(raw[COL.latencyMs]),
    ...floatCells(features, shape.features),
    ...(shape.summaries
      ? summary === null
        ? ['', '', '', '', '']
        : [summary.mean, summary.std, summary.min, summary.max, summary.count].map(String)
      : []),
    cell(className(raw[COL.predictedClass], names.classNames)),
    ...floatCells(probabilities, shape.probabilities),
    cell(raw[COL.value]),
    cell(className(raw[COL.label], names.classNames)),
    cell(raw[COL.labelValue]),
    cell(isoTime(raw[COL.feedbackMs])),
  ].join(',');
}

/** float32 values as JSON numbers with their shortest text (JSON.stringify would print the float64 expansion). */
function jsonFloats(values: Float32Array): string {
  let text = '[';
  for (let i = 0; i < values.length; i++) text += (i > 0 ? ',' : '') + jsonNumber(values[i] as number);
  return `${text}]`;
}

function jsonNumber(value: number): string {
  return Number.isFinite(value) ? formatFloat32(value) : 'null';
}

function jsonFeatures(values: Float32Array, featureNames: readonly string[] | undefined): string {
  if (featureNames === undefined) return jsonFloats(values);
  const fields: string[] = [];
  values.forEach((v, i) =>
    fields.push(`${JSON.stringify(featureNames[i] ?? `feature_${i}`)}:${jsonNumber(v)}`),
  );
  return `{${fields.join(',')}}`;
}

function jsonLine({ raw, features, probabilities }: LoggedRow, names: ExportNames, ecsTime = false): string {
  const plain = (key: string, value: unknown): string =>
    `${JSON.stringify(key)}:${JSON.stringify(value ?? null)}`;
  return `{${[
    ...(ecsTime ? [plain('@timestamp', isoTime(raw[COL.timeMs]))] : []),
    plain('request_id', raw[COL.requestId]),
    plain('row', raw[COL.row]),
    plain('model', raw[COL.model]),
    plain('version', raw[COL.version]),
    plain('route', raw[COL.route]),
    plain('time', isoTime(raw[COL.timeMs])),
    plain('latency_ms', raw[COL.latencyMs]),
    `"features":${features === null ? 'null' : jsonFeatures(features, names.featureNames)}`,
    plain('feature_summary', summaryOf(raw)),
    plain('predicted_class', className(raw[COL.predictedClass], names.classNames)),
    `"probabilities":${probabilities === null ? 'null' : jsonFloats(probabilities)}`,
    plain('value', raw[COL.value]),
    plain('label', className(raw[COL.label], names.classNames)),
    plain('label_value', raw[COL.labelValue]),
    plain('feedback_time', isoTime(raw[COL.feedbackMs])),
  ].join(',')}}`;
}

/** The text of an export, one chunk per page of rows (the CSV header leads the first chunk). */
export function* exportChunks(
  format: ExportFormat,
  names: ExportNames,
  shape: () => ExportShape,
  pages: () => Iterable<LoggedRow[]>,
): Generator<{ text: string; rows: number }> {
  if (format === 'csv') {
    const columns = shape();
    let header = `${csvHeader(columns, names)}\n`;
    for (const page of pages()) {
      yield {
        text: header + page.map((row) => `${csvLine(row, columns, names)}\n`).join(''),
        rows: page.length,
      };
      header = '';
    }
    if (header !== '') yield { text: header, rows: 0 };
    return;
  }
  const ndjson = format === 'ndjson';
  const action =
    ndjson && names.bulkIndex !== undefined
      ? `${JSON.stringify({ index: { _index: names.bulkIndex } })}\n`
      : '';
  for (const page of pages())
    yield {
      text: page.map((row) => `${action}${jsonLine(row, names, ndjson)}\n`).join(''),
      rows: page.length,
    };
}
