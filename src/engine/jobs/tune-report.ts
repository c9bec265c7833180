/** `tend tune list` and `tend tune show`: stored studies, their trials, best trial and parameter importances. */
import type { Registry, StudyRecord, StudySummary, StudyTrialRecord } from '../../registry/index.js';
import { bestTrial, IMPORTANCE_METHOD, parameterImportances, parseSpace } from '../../tune/index.js';
import { trialViews } from './tune-job.js';

export interface StudyReport {
  study: StudyRecord;
  best: StudyTrialRecord | null;
  trials: StudyTrialRecord[];
  importances: { method: string; values: { name: string; importance: number }[] };
}

export function listStudies(registry: Registry): Promise<StudySummary[]> {
  return registry.studies.listStudies();
}

/** One study in full. @throws TendError TEND_NOT_FOUND */
export async function studyReport(registry: Registry, name: string): Promise<StudyReport> {
  const trials = await registry.studies.listTrials(name);
  const study = (await registry.studies.findStudy(name)) as StudyRecord;
  const views = trialViews(trials);
  const best = bestTrial(views, study.direction);
  return {
    study,
    best: best === null ? null : (trials.find((t) => t.number === best.number) ?? null),
    trials,
    importances: { method: IMPORTANCE_METHOD, values: parameterImportances(parseSpace(study.space), views) },
  };
}
