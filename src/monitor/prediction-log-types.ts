/** The records of the prediction log: what the engine logs, what feedback attaches, what readers get back. */

/** How a prediction was routed to its version. */
export type PredictionRoute = 'direct' | 'champion' | 'canary' | 'experiment' | (string & {});

/** Statistics of an input too large (or not tabular) to log value by value. */
export interface FeatureSummary {
  mean: number;
  std: number;
  min: number;
  max: number;
  count: number;
}

/** One logged prediction: one row of one request. */
export interface PredictionRow {
  requestId: string;
  /** The row of a multi-row (batched by the client) request; 0 for single-row requests. */
  row: number;
  model: string;
  version: number;
  route: PredictionRoute;
  /** When the request arrived, ms since the epoch. */
  timeMs: number;
  latencyMs: number;
  /**
   * One row of a tabular [batch, F] input (F ≤ 1024), else null. The log keeps a reference until the
   * next flush: pass an array that is not transferred or reused afterwards.
   */
  features: Float32Array | null;
  /** For large or non-tabular inputs. */
  featureSummary: FeatureSummary | null;
  /** Classifier: the label output or the argmax of the scores. */
  predictedClass: number | null;
  /** Classifier scores of this row (≤ 1024 values). */
  probabilities: Float32Array | null;
  /** Regression output. */
  value: number | null;
}

/** Ground truth for one logged row: a class index (classifiers) or a value (regression), not both. */
export interface FeedbackItem {
  id: string;
  /** Row of the request; 0 when omitted. */
  row?: number;
  label?: number;
  value?: number;
}

/** The answer to a feedback request (leaves the process: snake_case). */
export interface FeedbackResult {
  accepted: number;
  /** Request ids (distinct) with at least one (id, row) that matched no logged prediction. */
  unknown_ids: string[];
  rejected: { id: string | null; error: string }[];
}

/** Class indices absent (no predicted class, no label) read as this. */
export const NO_CLASS = -1;

/**
 * Logged rows, oldest first, as columns. Missing numbers: NO_CLASS in the class columns, NaN in the
 * value columns, null in the array columns.
 */
export interface WindowRows {
  count: number;
  requestIds: string[];
  rows: Int32Array;
  versions: Int32Array;
  routes: string[];
  timeMs: Float64Array;
  latencyMs: Float64Array;
  features: (Float32Array | null)[];
  featureSummaries: (FeatureSummary | null)[];
  predictedClass: Int32Array;
  probabilities: (Float32Array | null)[];
  value: Float64Array;
  /** Ground-truth class index, or NO_CLASS when no label arrived. */
  label: Int32Array;
  /** Ground-truth value, or NaN. */
  labelValue: Float64Array;
  /** When the feedback arrived (ms since the epoch), or NaN. */
  feedbackTimeMs: Float64Array;
}

/** Which logged rows a reader wants. */
export interface LogQuery {
  model: string;
  version?: number;
  /** Rows with timeMs ≥ sinceMs. */
  sinceMs?: number;
}

export interface WindowQuery extends LogQuery {
  /** Only the newest `last` rows. */
  last?: number;
}
