/**
 * Training runs in the registry database (run-schema.ts): one record per training or update, from
 * start to finish or failure. Records use snake_case keys: they leave the process as JSON unchanged.
 */

export type RunStatus = 'running' | 'finished' | 'failed';

/** Metrics of one epoch (or one mini-batch round), e.g. { epoch: 3, loss: 0.21, accuracy: 0.93 }. */
export type EpochMetrics = Record<string, unknown>;

export interface RunRecord {
  /** 'r' + UTC yyyymmddhhmmss + 6 hex digits: sorts by start time. */
  run_id: string;
  model_name: string;
  kind: string;
  status: RunStatus;
  parameters: Record<string, unknown>;
  epochs: EpochMetrics[];
  metrics: Record<string, unknown>;
  dataset_sha256: string | null;
  dataset_rows: number | null;
  dataset_source: string;
  /** The version the run started from (updates, fine-tuning); null for a fresh training. */
  parent_version: number | null;
  /** The version the run pushed; null while running, after a failure, or when nothing was pushed. */
  produced_version: number | null;
  code_version: string;
  error: string | null;
  started_at: string;
  finished_at: string | null;
  duration_ms: number | null;
  created_by: string;
}

/** A run to start; the store assigns its id and start time. */
export interface NewRun {
  modelName: string;
  /** e.g. 'train', 'update:minibatch', 'update:online': lower-case letters, digits, '_', '-', ':'. */
  kind: string;
  parameters: Record<string, unknown>;
  /** Null when only known at the end (a stream): pass it to finishRun then. */
  datasetSha256: string | null;
  datasetRows: number | null;
  /** A path, or 'stream'. */
  datasetSource: string;
  parentVersion?: number | null;
  /** tend's version, plus the git commit when known. */
  codeVersion: string;
  createdBy: string;
}

/** How a run ended well. */
export interface RunFinish {
  metrics: Record<string, unknown>;
  /** One object per epoch (any plain objects: EpochMetrics or a trainer's own record type). */
  epochs: readonly object[];
  /** Replaces the parameters given at the start (e.g. with the defaults the trainer filled in). */
  parameters?: Record<string, unknown>;
  /** The version the run pushed (it must exist; its run_id is set to this run when empty). */
  producedVersion?: number;
  durationMs: number;
  /** For data sets only known at the end (streams). */
  datasetSha256?: string;
  datasetRows?: number;
}

export interface RunListOptions {
  /** Only this model's runs. */
  model?: string;
  status?: RunStatus;
  /** At most this many (default: all). */
  limit?: number;
}

export interface RunStore {
  /** Record a run as 'running'. @throws TendError TEND_INVALID_ARGUMENT */
  startRun(input: NewRun): Promise<RunRecord>;
  /**
   * Mark a running run finished. @throws TendError TEND_NOT_FOUND, TEND_CONFLICT (not running),
   * TEND_VERSION_NOT_FOUND
   */
  finishRun(runId: string, finish: RunFinish): Promise<RunRecord>;
  /**
   * Mark a running run failed with its error (and the epochs it got through, when given); duration
   * is measured from its start. @throws TendError TEND_NOT_FOUND, TEND_CONFLICT (not running)
   */
  failRun(runId: string, error: string, epochs?: readonly object[]): Promise<RunRecord>;
  /** @throws TendError TEND_NOT_FOUND */
  getRun(runId: string): Promise<RunRecord>;
  /** Runs, newest first. */
  listRuns(options?: RunListOptions): Promise<RunRecord[]>;
}
