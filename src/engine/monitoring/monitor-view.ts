/**
 * The monitor's answer for one model version and window, computed from the logged rows: quality
 * over the rows that have ground truth, drift and data quality of the logged features against the
 * version's reference data set. Pure: the caller reads the rows and the reference.
 */
import { TendError } from '../../core/errors.js';
import type { ActiveAlert } from '../../monitor/alerts.js';
import { dataQuality, type DataQualityReport } from '../../monitor/data-quality.js';
import type { CellValue } from '../../monitor/drift-columns.js';
import { detectDrift, type DriftReport } from '../../monitor/drift.js';
import { NO_CLASS, type WindowRows } from '../../monitor/prediction-log.js';
import {
  classificationMetrics,
  regressionMetrics,
  type ClassificationMetrics,
  type ClassificationRow,
  type RegressionMetrics,
} from '../../monitor/quality.js';
import type { PredictionTask } from '../serving/prediction-capture.js';
import { featureHistograms, type FeatureHistogram } from './feature-histograms.js';
import type { ReferenceData } from '../serving/reference-data.js';

/** The name the prediction takes in drift reports. */
export const PREDICTION_COLUMN = 'prediction';

export interface MonitorView {
  model: string;
  version: string;
  window: string;
  predictions: number;
  labelled: number;
  task: PredictionTask;
  quality: ClassificationMetrics | RegressionMetrics | null;
  drift: DriftReport | null;
  data_quality: DataQualityReport | null;
  /** Why drift or data quality are null (no reference, features not logged), else null. */
  drift_note: string | null;
  reference: { version: number; rows: number; source: string } | null;
  /** Reference-vs-current shares per feature, for charts (null without drift). */
  histograms: Record<string, FeatureHistogram> | null;
  alerts: ActiveAlert[];
}

export interface MonitorViewInput {
  model: string;
  version: number;
  window: string;
  rows: WindowRows;
  task: PredictionTask;
  numClasses: number | undefined;
  reference: ReferenceData | null;
  alerts: ActiveAlert[];
}

/** Quality over the labelled rows, or null when none has ground truth (or the task is unknown). */
export function qualityOf(
  rows: WindowRows,
  task: PredictionTask,
  numClasses: number | undefined,
): { labelled: number; quality: ClassificationMetrics | RegressionMetrics | null } {
  if (task === 'classification') {
    const labelled: ClassificationRow[] = [];
    let withScores = 0;
    let k = numClasses ?? 0;
    for (let i = 0; i < rows.count; i++) {
      const label = rows.label[i] as number;
      const predicted = rows.predictedClass[i] as number;
      if (label === NO_CLASS || predicted === NO_CLASS) continue;
      const probabilities = rows.probabilities[i] ?? undefined;
      if (probabilities) withScores++;
      if (numClasses === undefined) k = Math.max(k, label + 1, predicted + 1, probabilities?.length ?? 0);
      labelled.push({ label, predicted, probabilities });
    }
    if (labelled.length === 0) return { labelled: 0, quality: null };
    // Scores only when every row has them: a metric over part of the window would mislead.
    const usable =
      withScores === labelled.length
        ? labelled
        : labelled.map(({ label, predicted }) => ({ label, predicted }));
    const inRange = usable.filter((r) => r.label < k && r.predicted < k);
    if (inRange.length === 0) return { labelled: 0, quality: null };
    return {
      labelled: inRange.length,
      quality: classificationMetrics(inRange, { numClasses: Math.max(k, 2) }),
    };
  }
  if (task === 'regression') {
    const labelled: { label: number; predicted: number }[] = [];
    for (let i = 0; i < rows.count; i++) {
      const label = rows.labelValue[i] as number;
      const predicted = rows.value[i] as number;
      if (Number.isFinite(label) && Number.isFinite(predicted)) labelled.push({ label, predicted });
    }
    return labelled.length === 0
      ? { labelled: 0, quality: null }
      : { labelled: labelled.length, quality: regressionMetrics(labelled) };
  }
  return { labelled: 0, quality: null };
}

/** The logged features as named columns (null when the rows carry no features of the reference's width). */
export function currentColumns(
  rows: WindowRows,
  featureNames: readonly string[],
): Record<string, CellValue[]> | null {
  const columns: CellValue[][] = featureNames.map(() => []);
  let any = false;
  for (let i = 0; i < rows.count; i++) {
    const f = rows.features[i];
    if (!f || f.length !== featureNames.length) continue;
    any = true;
    for (let c = 0; c < f.length; c++) {
      const v = f[c] as number;
      columns[c]?.push(Number.isFinite(v) ? v : null);
    }
  }
  return any ? Object.fromEntries(featureNames.map((n, c) => [n, columns[c] ?? []])) : null;
}

function predictionValues(rows: WindowRows, task: PredictionTask, featureCount: number): CellValue[] {
  const out: CellValue[] = [];
  for (let i = 0; i < rows.count; i++) {
    const f = rows.features[i];
    if (!f || f.length !== featureCount) continue;
    if (task === 'classification')
      out.push(rows.predictedClass[i] === NO_CLASS ? null : (rows.predictedClass[i] as number));
    else {
      const v = rows.value[i] as number;
      out.push(Number.isFinite(v) ? v : null);
    }
  }
  return out;
}

/** The whole monitor answer for one version and window. */
export function buildMonitorView(input: MonitorViewInput): MonitorView {
  const { rows, reference } = input;
  const { labelled, quality } = qualityOf(rows, input.task, input.numClasses);
  let drift: DriftReport | null = null;
  let quality2: DataQualityReport | null = null;
  let note: string | null = null;
  let histograms: Record<string, FeatureHistogram> | null = null;
  if (reference === null) {
    note =
      'no reference data set: attach one with `tend monitor reference set` (trainers attach their training data)';
  } else if (rows.count === 0) {
    note = 'no predictions in the window';
  } else {
    const current = currentColumns(rows, reference.featureNames);
    if (current === null) {
      note = `the logged predictions carry no features of the reference's ${reference.featureNames.length} columns`;
    } else {
      try {
        const withPrediction = reference.target !== null && input.task !== 'unknown';
        const ref: Record<string, readonly CellValue[]> = { ...reference.features };
        const cur: Record<string, CellValue[]> = { ...current };
        if (withPrediction && reference.target) {
          ref[PREDICTION_COLUMN] = reference.target.values;
          cur[PREDICTION_COLUMN] = predictionValues(rows, input.task, reference.featureNames.length);
        }
        drift = detectDrift(ref, cur, withPrediction ? { predictionColumn: PREDICTION_COLUMN } : {});
        quality2 = dataQuality(reference.features, current);
        histograms = featureHistograms(reference.features, current);
      } catch (err) {
        if (!(err instanceof TendError)) throw err;
        note = `drift not computed: ${err.message}`;
      }
    }
  }
  return {
    model: input.model,
    version: String(input.version),
    window: input.window,
    predictions: rows.count,
    labelled,
    task: input.task,
    quality,
    drift,
    data_quality: quality2,
    drift_note: note,
    reference:
      reference === null
        ? null
        : { version: reference.version, rows: reference.rows, source: reference.source },
    histograms,
    alerts: input.alerts,
  };
}
