/**
 * `tend tune`: a study over a search space, its trials stored in the registry database as they run,
 * its best model registered as a version whose tags and run name the study and the trial. The space,
 * the metric and the objective are all checked before the first trial; a trial that fails is recorded
 * with its reason and the study goes on. A study whose process died resumes with `resume: true`:
 * trials it left running run again under their numbers (see tune/study-runner.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { errors } from '../../core/errors.js';
import { TEND_VERSION } from '../../core/version.js';
import type { Registry, StudyRecord, StudyTrialRecord } from '../../registry/index.js';
import { readTrainingCsv, type ModelKind } from '../../train/index.js';
import {
  makePruner,
  makeSampler,
  parseSpaceText,
  runStudy,
  spaceToJson,
  type Direction,
  type Objective,
  type SearchSpace,
  type StudyOutcome,
  type StudyStorage,
  type TrialEnd,
  type TrialView,
} from '../../tune/index.js';
import { commandObjective } from './tune-command-objective.js';
import { threadedTrainerObjective, type ClosableObjective } from './tune-trial-threads.js';
import {
  checkTrainerMetric,
  checkTrainerSpace,
  trainerObjective,
  trainFinalModel,
  type TrainerObjectiveOptions,
} from './tune-trainer-objective.js';
import { MODEL_KINDS, pushTrained, sha256Hex, taskOf } from './training-job.js';

/** Metrics where higher is better; every other metric is minimized unless told otherwise. */
const MAXIMIZED = new Set(['accuracy', 'f1_macro', 'r2', 'auc', 'precision', 'recall', 'f1', 'score']);

export interface TuneJobOptions {
  /** The search space file (YAML or JSON). */
  space: string;
  trials: number;
  sampler?: string;
  pruner?: string;
  metric?: string;
  direction?: Direction;
  cv?: number;
  validation?: number;
  jobs?: number;
  seed?: number;
  study?: string;
  resume?: boolean;
  /** Register the best trial's model under this name. */
  name?: string;
  data?: string;
  target?: string;
  model?: string;
  command?: string;
  actor?: string;
  onTrialEnd?: (trial: TrialView, end: TrialEnd) => void;
}

export interface TuneJobResult {
  study: string;
  best: { trial: number; value: number; params: Record<string, unknown> } | null;
  trials: number;
  pruned: number;
  failed: number;
  version: number | null;
}

/** The trials of a stored study as the tune layer sees them. */
export function trialViews(trials: readonly StudyTrialRecord[]): TrialView[] {
  return trials.map((t) => ({
    number: t.number,
    state: t.state,
    params: t.params as TrialView['params'],
    value: t.value,
    intermediate: new Map(t.intermediate),
  }));
}

/** A StudyStorage over the registry's study store. */
function registryStorage(registry: Registry, study: string): StudyStorage {
  return {
    loadTrials: async () => trialViews(await registry.studies.listTrials(study)),
    startTrial: (number, params) => registry.studies.startTrial(study, number, params),
    reportStep: (number, step, value) => registry.studies.reportStep(study, number, step, value),
    finishTrial: (number, end) => registry.studies.finishTrial(study, number, end),
  };
}

function readSpace(path: string): SearchSpace {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw errors.invalidArgument(
      `cannot read --space ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  return parseSpaceText(text, path);
}

function defaultStudyName(options: TuneJobOptions): string {
  const stamp = new Date().toISOString().slice(0, 19).replace(/[-T:]/g, '');
  return `${options.name ?? 'study'}-${stamp}`;
}

/** Where a study keeps its trials' files (TEND_OUTPUT_DIR, model.onnx). */
export function studyDir(registry: Registry, study: string): string {
  return join(registry.home, 'tune', study);
}

interface PreparedObjective {
  objective: Objective;
  description: Record<string, unknown>;
  metric: string;
  trainer: TrainerObjectiveOptions | null;
  dataSha256: string | null;
  dataRows: number | null;
}

function prepareObjective(
  options: TuneJobOptions,
  jobs: number,
  space: SearchSpace,
  trialDir: (n: number) => string,
  seed: number,
): PreparedObjective {
  if (options.command !== undefined) {
    if (options.model !== undefined) throw errors.invalidArgument('give --command or --model, not both');
    if (options.command.trim() === '') throw errors.invalidArgument('--command must not be empty');
    const metric = options.metric ?? 'value';
    const data = options.data === undefined ? undefined : resolve(options.data);
    return {
      objective: commandObjective({
        command: options.command,
        metric,
        trialDir,
        ...(data !== undefined ? { data } : {}),
        ...(options.target !== undefined ? { target: options.target } : {}),
      }),
      description: {
        kind: 'command',
        command: options.command,
        ...(data ? { data } : {}),
        ...(options.target ? { target: options.target } : {}),
      },
      metric,
      trainer: null,
      dataSha256: null,
      dataRows: null,
    };
  }
  if (options.data === undefined || options.target === undefined || options.model === undefined)
    throw errors.invalidArgument('give --data, --target and --model (one of tend’s trainers), or --command');
  if (!MODEL_KINDS.includes(options.model as ModelKind))
    throw errors.invalidArgument(`--model '${options.model}' must be one of ${MODEL_KINDS.join(', ')}`);
  const model = options.model as ModelKind;
  checkTrainerSpace(model, space);
  const path = resolve(options.data);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw errors.invalidArgument(
      `cannot read --data ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  const text = bytes.toString('utf8');
  const task = taskOf(model, text, options.target, undefined, options.data);
  const table = readTrainingCsv(text, options.data, options.target, task);
  const metric = options.metric ?? (task === 'classification' ? 'accuracy' : 'rmse');
  checkTrainerMetric(task, metric);
  const trainer: TrainerObjectiveOptions = {
    table,
    model,
    metric,
    seed,
    validation: options.validation ?? 0.2,
    ...(options.cv !== undefined ? { cv: options.cv } : {}),
    trialDir,
  };
  // Several trials at once train in worker threads; one at a time trains on this thread (no start-up cost).
  const objective =
    jobs > 1
      ? threadedTrainerObjective({
          table,
          model,
          metric,
          seed,
          validation: trainer.validation,
          ...(options.cv !== undefined ? { cv: options.cv } : {}),
          trialDir,
        })
      : trainerObjective(trainer);
  return {
    objective,
    description: {
      kind: 'trainer',
      model,
      task,
      data: path,
      target: options.target,
      ...(options.cv !== undefined ? { cv: options.cv } : { validation: trainer.validation }),
    },
    metric,
    trainer,
    dataSha256: sha256Hex(bytes),
    dataRows: table.rows,
  };
}

/** Create the study, or open it for --resume (its definition must match). */
async function openStudy(
  registry: Registry,
  name: string,
  options: TuneJobOptions,
  fields: {
    direction: Direction;
    metric: string;
    sampler: string;
    pruner: string;
    seed: number;
    space: SearchSpace;
    objective: Record<string, unknown>;
  },
): Promise<StudyRecord> {
  const existing = await registry.studies.findStudy(name);
  if (existing === null) {
    return registry.studies.createStudy({
      name,
      direction: fields.direction,
      metric: fields.metric,
      sampler: fields.sampler,
      pruner: fields.pruner,
      seed: fields.seed,
      space: spaceToJson(fields.space),
      objective: fields.objective,
      targetTrials: options.trials,
      createdBy: options.actor ?? 'local',
    });
  }
  if (!options.resume)
    throw errors.conflict(`study '${name}' exists`, {
      hint: 'pass --resume to continue it, or choose another --study name',
    });
  const differs: string[] = [];
  if (JSON.stringify(existing.space) !== JSON.stringify(spaceToJson(fields.space)))
    differs.push('the search space');
  for (const key of ['direction', 'metric', 'sampler', 'pruner', 'seed'] as const) {
    if (existing[key] !== fields[key])
      differs.push(`--${key} (${String(existing[key])} there, ${String(fields[key])} here)`);
  }
  if (JSON.stringify(existing.objective) !== JSON.stringify(fields.objective))
    differs.push('the objective (data, model or command)');
  if (differs.length > 0)
    throw errors.invalidArgument(
      `--resume: study '${name}' was started with other settings: ${differs.join('; ')}`,
    );
  return registry.studies.reopenStudy(name, options.trials);
}

/** Run (or resume) a study and register its best model. */
export async function tuneAndRegister(registry: Registry, options: TuneJobOptions): Promise<TuneJobResult> {
  if (!Number.isSafeInteger(options.trials) || options.trials < 1)
    throw errors.invalidArgument('--trials must be a positive whole number');
  const space = readSpace(options.space);
  const seed = options.seed ?? 0;
  const samplerName = options.sampler ?? 'tpe';
  const prunerName = options.pruner ?? 'median';
  const sampler = makeSampler(samplerName, seed);
  const pruner = makePruner(prunerName);
  sampler.capacity(space); // the grid sampler refuses float parameters here, before any trial
  const studyName = options.study ?? defaultStudyName(options);
  const dir = studyDir(registry, studyName);
  const trialDir = (n: number) => join(dir, `trial-${n}`);
  const jobs = options.jobs ?? availableParallelism();
  const prepared = prepareObjective(options, jobs, space, trialDir, seed);
  const direction = options.direction ?? (MAXIMIZED.has(prepared.metric) ? 'maximize' : 'minimize');
  await openStudy(registry, studyName, options, {
    direction,
    metric: prepared.metric,
    sampler: samplerName,
    pruner: prunerName,
    seed,
    space,
    objective: prepared.description,
  });
  const close = (prepared.objective as Partial<ClosableObjective>).close;
  let outcome: StudyOutcome;
  try {
    outcome = await runStudy({
      space,
      sampler,
      pruner,
      direction,
      trials: options.trials,
      jobs,
      storage: registryStorage(registry, studyName),
      objective: prepared.objective,
      ...(options.onTrialEnd ? { onTrialEnd: options.onTrialEnd } : {}),
    });
  } finally {
    await close?.();
  }
  const best = outcome.best;
  let version: number | null = null;
  if (best !== null && options.name !== undefined) {
    let file = join(trialDir(best.number), 'model.onnx');
    if (prepared.trainer?.cv !== undefined) {
      file = join(dir, 'final-model.onnx');
      await trainFinalModel(prepared.trainer, best.params, file);
    }
    if (existsSync(file)) version = await registerBest(registry, options, studyName, best, file, prepared);
  }
  await registry.studies.finishStudy(studyName, {
    bestTrial: best?.number ?? null,
    modelName: version === null ? null : (options.name ?? null),
    producedVersion: version,
  });
  return {
    study: studyName,
    best: best === null ? null : { trial: best.number, value: best.value as number, params: best.params },
    trials: outcome.trials.length,
    pruned: outcome.trials.filter((t) => t.state === 'pruned').length,
    failed: outcome.trials.filter((t) => t.state === 'failed').length,
    version,
  };
}

/** Register the best trial's model with a 'tune' run: lineage to the study and the trial. */
async function registerBest(
  registry: Registry,
  options: TuneJobOptions,
  study: string,
  best: TrialView,
  file: string,
  prepared: PreparedObjective,
): Promise<number> {
  const name = options.name as string;
  const run = await registry.runs.start({
    modelName: name,
    kind: 'tune',
    parameters: { ...best.params, study, trial: best.number },
    datasetSha256: prepared.dataSha256,
    datasetRows: prepared.dataRows,
    datasetSource: String(prepared.description.data ?? prepared.description.command ?? 'tune'),
    codeVersion: `tend ${TEND_VERSION}`,
    createdBy: options.actor ?? 'local',
  });
  const metrics = { [prepared.metric]: best.value as number };
  const version = await pushTrained(registry, readFileSync(file), {
    name,
    runId: run.run_id,
    metrics,
    tags: { 'tune.study': study, 'tune.trial': String(best.number) },
    source: `tend tune: study ${study}, trial ${best.number}`,
    actor: options.actor,
  });
  await registry.runs.finish(run.run_id, { metrics, epochs: [], producedVersion: version, durationMs: 0 });
  return version;
}
