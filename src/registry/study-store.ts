/**
 * Tuning studies in the registry database (study-schema.ts). The registry stores what the tune layer
 * runs without knowing its types: parameters are a JSON object, states and directions plain strings
 * checked here. Records use snake_case keys: they leave the process as JSON unchanged.
 */

export type StudyTrialState = 'running' | 'complete' | 'pruned' | 'failed';
export type StudyStatus = 'running' | 'finished';

export interface StudyRecord {
  name: string;
  direction: 'minimize' | 'maximize';
  metric: string;
  sampler: string;
  pruner: string;
  seed: number;
  space: Record<string, unknown>;
  objective: Record<string, unknown>;
  target_trials: number;
  status: StudyStatus;
  best_trial: number | null;
  model_name: string | null;
  produced_version: number | null;
  created_at: string;
  updated_at: string;
  created_by: string;
}

/** A study with how many of its trials are in each state. */
export interface StudySummary extends StudyRecord {
  counts: Record<StudyTrialState, number>;
  best_value: number | null;
}

export interface StudyTrialRecord {
  number: number;
  state: StudyTrialState;
  params: Record<string, unknown>;
  value: number | null;
  error: string | null;
  /** [step, value] pairs in step order (NaN where a NaN was reported). */
  intermediate: [number, number][];
  started_at: string;
  finished_at: string | null;
  duration_ms: number | null;
}

export interface NewStudy {
  name: string;
  direction: 'minimize' | 'maximize';
  metric: string;
  sampler: string;
  pruner: string;
  seed: number;
  space: Record<string, unknown>;
  objective: Record<string, unknown>;
  targetTrials: number;
  createdBy: string;
}

export interface TrialFinish {
  state: Exclude<StudyTrialState, 'running'>;
  value: number | null;
  error: string | null;
  durationMs: number;
}

export interface StudyStore {
  /** @throws TendError TEND_INVALID_ARGUMENT, TEND_CONFLICT (the name is taken) */
  createStudy(input: NewStudy): Promise<StudyRecord>;
  /** The study, or null. */
  findStudy(name: string): Promise<StudyRecord | null>;
  /** Studies with their trial counts, newest first. */
  listStudies(): Promise<StudySummary[]>;
  /** Set the number of trials a resumed study aims for, and mark it running again. */
  reopenStudy(name: string, targetTrials: number): Promise<StudyRecord>;
  /** Every trial of the study with its intermediate values, in number order. @throws TEND_NOT_FOUND */
  listTrials(name: string): Promise<StudyTrialRecord[]>;
  /** Record trial `number` as running (a stale running record of that number starts over, its steps cleared). */
  startTrial(name: string, number: number, params: Record<string, unknown>): Promise<void>;
  reportStep(name: string, number: number, step: number, value: number): Promise<void>;
  /** @throws TendError TEND_CONFLICT when the trial is not running */
  finishTrial(name: string, number: number, finish: TrialFinish): Promise<void>;
  /** Mark the study finished with its best trial and the version registered from it. */
  finishStudy(
    name: string,
    result: { bestTrial: number | null; modelName: string | null; producedVersion: number | null },
  ): Promise<StudyRecord>;
}
