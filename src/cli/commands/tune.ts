/** `tend tune`, `tend tune list`, `tend tune show STUDY`: hyperparameter studies. */
import { errors } from '../../core/errors.js';
import { listStudies, PRUNERS, SAMPLERS, studyReport, tuneAndRegister } from '../../engine/index.js';
import { isInteractive, printJson, printTable } from '../output.js';
import { actor, withRegistry, withRegistryCreatingHome } from './registry.js';

export interface TuneCommandOptions {
  home?: string;
  json?: boolean;
  data?: string;
  target?: string;
  model?: string;
  command?: string;
  space?: string;
  trials?: string;
  sampler?: string;
  pruner?: string;
  metric?: string;
  direction?: string;
  cv?: string;
  validation?: string;
  jobs?: string;
  seed?: string;
  study?: string;
  resume?: boolean;
  name?: string;
}

function wholeNumber(flag: string, raw: string | undefined, min: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isSafeInteger(n) || n < min)
    throw errors.invalidArgument(`${flag} '${raw}' must be a whole number ≥ ${min}`);
  return n;
}

function short(value: unknown): string {
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toPrecision(4);
  return value === null || value === undefined ? '' : String(value as string);
}

function paramsText(params: Record<string, unknown>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${short(v)}`)
    .join(' ');
}

export async function tuneCommand(opts: TuneCommandOptions): Promise<void> {
  if (opts.space === undefined)
    throw errors.invalidArgument('--space is required: the search space file (YAML or JSON)');
  if (opts.trials === undefined)
    throw errors.invalidArgument('--trials is required: how many trials the study runs');
  const space = opts.space;
  if (opts.command === undefined && opts.name === undefined)
    throw errors.invalidArgument('--name is required with --model: the registry model the best trial joins');
  const trials = wholeNumber('--trials', opts.trials, 1) as number;
  if (opts.sampler !== undefined && !(SAMPLERS as readonly string[]).includes(opts.sampler))
    throw errors.invalidArgument(`--sampler '${opts.sampler}' must be one of ${SAMPLERS.join(', ')}`);
  if (opts.pruner !== undefined && !(PRUNERS as readonly string[]).includes(opts.pruner))
    throw errors.invalidArgument(`--pruner '${opts.pruner}' must be one of ${PRUNERS.join(', ')}`);
  if (opts.direction !== undefined && opts.direction !== 'minimize' && opts.direction !== 'maximize')
    throw errors.invalidArgument(`--direction '${opts.direction}' must be minimize or maximize`);
  if (opts.cv !== undefined && opts.validation !== undefined)
    throw errors.invalidArgument('give --cv or --validation, not both');
  let validation: number | undefined;
  if (opts.validation !== undefined) {
    validation = Number(opts.validation);
    if (!(validation > 0 && validation < 1))
      throw errors.invalidArgument(`--validation '${opts.validation}' must be between 0 and 1`);
  }
  const cv = wholeNumber('--cv', opts.cv, 2);
  const jobs = wholeNumber('--jobs', opts.jobs, 1);
  const seed = wholeNumber('--seed', opts.seed, 0);
  const progress = !opts.json && isInteractive();
  // A study registers its best model: like train, it may start a registry.
  const result = await withRegistryCreatingHome(opts.home, (registry) =>
    tuneAndRegister(registry, {
      space,
      trials,
      ...(opts.sampler !== undefined ? { sampler: opts.sampler } : {}),
      ...(opts.pruner !== undefined ? { pruner: opts.pruner } : {}),
      ...(opts.metric !== undefined ? { metric: opts.metric } : {}),
      ...(opts.direction !== undefined ? { direction: opts.direction as 'minimize' | 'maximize' } : {}),
      ...(cv !== undefined ? { cv } : {}),
      ...(validation !== undefined ? { validation } : {}),
      ...(jobs !== undefined ? { jobs } : {}),
      ...(seed !== undefined ? { seed } : {}),
      ...(opts.study !== undefined ? { study: opts.study } : {}),
      ...(opts.resume ? { resume: true } : {}),
      ...(opts.name !== undefined ? { name: opts.name } : {}),
      ...(opts.data !== undefined ? { data: opts.data } : {}),
      ...(opts.target !== undefined ? { target: opts.target } : {}),
      ...(opts.model !== undefined ? { model: opts.model } : {}),
      ...(opts.command !== undefined ? { command: opts.command } : {}),
      actor: actor(),
      ...(progress
        ? {
            onTrialEnd: (t, end) =>
              process.stderr.write(
                `trial ${t.number}  ${end.state}${end.value !== null ? `  ${short(end.value)}` : ''}${end.error ? `  (${end.error})` : ''}  ${paramsText(t.params)}\n`,
              ),
          }
        : {}),
    }),
  );
  if (opts.json)
    return printJson({
      study: result.study,
      best: result.best,
      trials: result.trials,
      pruned: result.pruned,
      version: result.version,
    });
  process.stdout.write(
    `study ${result.study}: ${result.trials} trials (${result.pruned} pruned, ${result.failed} failed)\n`,
  );
  if (result.best)
    process.stdout.write(
      `best: trial ${result.best.trial}, value ${short(result.best.value)}, ${paramsText(result.best.params)}\n`,
    );
  else process.stdout.write('no trial completed\n');
  if (result.version !== null) process.stdout.write(`registered ${opts.name}@${result.version}\n`);
  process.stdout.write(`next: tend tune show ${result.study}\n`);
}

export async function tuneListCommand(opts: { home?: string; json?: boolean }): Promise<void> {
  const studies = await withRegistry(opts.home, (registry) => listStudies(registry));
  if (opts.json) return printJson(studies);
  printTable(
    [
      'STUDY',
      'STATUS',
      'METRIC',
      'DIRECTION',
      'SAMPLER',
      'TRIALS',
      'COMPLETE',
      'PRUNED',
      'FAILED',
      'BEST',
      'VERSION',
      'CREATED',
    ],
    studies.map((s) => [
      s.name,
      s.status,
      s.metric,
      s.direction,
      s.sampler,
      `${s.counts.complete + s.counts.pruned + s.counts.failed + s.counts.running}/${s.target_trials}`,
      s.counts.complete,
      s.counts.pruned,
      s.counts.failed,
      short(s.best_value),
      s.produced_version === null ? '' : `${s.model_name}@${s.produced_version}`,
      s.created_at,
    ]),
  );
}

export async function tuneShowCommand(study: string, opts: { home?: string; json?: boolean }): Promise<void> {
  const report = await withRegistry(opts.home, (registry) => studyReport(registry, study));
  if (opts.json) return printJson(report);
  const s = report.study;
  process.stdout.write(
    `study ${s.name} (${s.status}): ${s.direction} ${s.metric}, sampler ${s.sampler}, pruner ${s.pruner}, seed ${s.seed}\n`,
  );
  if (report.best)
    process.stdout.write(
      `best: trial ${report.best.number}, ${s.metric} ${short(report.best.value)}, ${paramsText(report.best.params)}\n`,
    );
  if (s.produced_version !== null)
    process.stdout.write(`registered: ${s.model_name}@${s.produced_version}\n`);
  process.stdout.write('\n');
  const names = Object.keys(s.space);
  printTable(
    ['TRIAL', 'STATE', 'VALUE', 'STEPS', 'MS', ...names.map((n) => n.toUpperCase()), 'ERROR'],
    report.trials.map((t) => [
      t.number,
      t.state,
      short(t.value),
      t.intermediate.length,
      t.duration_ms,
      ...names.map((n) => short(t.params[n])),
      t.error ?? '',
    ]),
  );
  if (report.importances.values.length > 0) {
    process.stdout.write(`\nparameter importances (${report.importances.method}):\n`);
    printTable(
      ['PARAMETER', 'IMPORTANCE'],
      report.importances.values.map((v) => [v.name, v.importance.toFixed(3)]),
    );
  }
}
