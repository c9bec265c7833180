/** `tend train`, `tend update` and `tend runs`: trainers, warm-started updates, and their recorded runs. */
import { errors } from '../../core/errors.js';
import {
  MODEL_KINDS,
  trainAndRegister,
  trainCommandAndRegister,
  UPDATE_MODES,
  updateVersion,
  compareRuns,
  type TrainModelKind,
  type UpdateMode,
} from '../../engine/index.js';
import { isInteractive, printJson, printTable } from '../output.js';
import { actor, parseRef, withRegistry, withRegistryCreatingHome } from './registry.js';

interface CommonOptions {
  home?: string;
  json?: boolean;
}

export interface TrainCommandOptions extends CommonOptions {
  data?: string;
  target?: string;
  model?: string;
  command?: string;
  params?: string;
  name: string;
  task?: string;
  hidden?: string;
  activation?: string;
  optimizer?: string;
  epochs?: string;
  lr?: string;
  batchSize?: string;
  l2?: string;
  seed?: string;
  validation?: string;
  categorical?: string;
  alias?: string;
}

function numberFlag(
  flag: string,
  raw: string | undefined,
  check: (n: number) => boolean,
  rule: string,
): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || !check(n))
    throw errors.invalidArgument(`${flag} '${raw}' must be ${rule}`);
  return n;
}

const positiveInt = (n: number) => Number.isInteger(n) && n >= 1;

function oneOf<T extends string>(
  flag: string,
  raw: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (raw === undefined) return undefined;
  if (!allowed.includes(raw as T))
    throw errors.invalidArgument(`${flag} '${raw}' must be one of ${allowed.join(', ')}`);
  return raw as T;
}

function list(raw: string | undefined): string[] | undefined {
  return raw === undefined
    ? undefined
    : raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
}

function fixed(x: unknown): string {
  return typeof x === 'number'
    ? Number.isInteger(x)
      ? String(x)
      : x.toFixed(4)
    : x === null || x === undefined
      ? ''
      : typeof x === 'object'
        ? JSON.stringify(x)
        : String(x as string | boolean);
}

/** `tend train --command`: an external training command, its model registered. */
async function trainExternal(opts: TrainCommandOptions & { command: string }): Promise<void> {
  if (opts.model !== undefined) throw errors.invalidArgument('give --command or --model, not both');
  let params: Record<string, unknown> = {};
  if (opts.params !== undefined) {
    try {
      params = JSON.parse(opts.params) as Record<string, unknown>;
    } catch (err) {
      throw errors.invalidArgument(`--params is not JSON: ${(err as Error).message}`);
    }
    if (typeof params !== 'object' || params === null || Array.isArray(params))
      throw errors.invalidArgument('--params must be a JSON object');
  }
  const result = await withRegistry(opts.home, (registry) =>
    trainCommandAndRegister(registry, {
      command: opts.command,
      name: opts.name,
      params,
      ...(opts.data !== undefined ? { data: opts.data } : {}),
      ...(opts.target !== undefined ? { target: opts.target } : {}),
      ...(opts.alias !== undefined ? { alias: opts.alias } : {}),
      actor: actor(),
    }),
  );
  if (opts.json) return printJson(result);
  process.stdout.write(`${result.name} version ${result.version} registered (run ${result.run})\n`);
  printTable(
    ['metric', 'value'],
    Object.entries(result.metrics).map(([k, v]) => [k, fixed(v)]),
  );
}

export async function trainCommand(opts: TrainCommandOptions): Promise<void> {
  if (opts.command !== undefined) return trainExternal({ ...opts, command: opts.command });
  const model = oneOf('--model', opts.model, MODEL_KINDS);
  if (model === undefined) throw errors.invalidArgument('--model is required (or --command)');
  if (opts.data === undefined || opts.target === undefined)
    throw errors.invalidArgument('--data and --target are required with --model');
  const data = opts.data;
  const target = opts.target;
  const hidden = list(opts.hidden)?.map(
    (h) =>
      numberFlag(
        '--hidden',
        h,
        positiveInt,
        'a comma-separated list of positive whole numbers, e.g. 64,32',
      ) as number,
  );
  if (hidden !== undefined && model !== 'mlp')
    throw errors.invalidArgument('--hidden applies to --model mlp');
  const epochs = numberFlag('--epochs', opts.epochs, positiveInt, 'a positive whole number');
  const learningRate = numberFlag('--lr', opts.lr, (n) => n > 0, 'greater than 0');
  const batchSize = numberFlag('--batch-size', opts.batchSize, positiveInt, 'a positive whole number');
  const l2 = numberFlag('--l2', opts.l2, (n) => n >= 0, '0 or more');
  const seed = numberFlag('--seed', opts.seed, (n) => Number.isInteger(n) && n >= 0, 'a whole number ≥ 0');
  const validation = numberFlag(
    '--validation',
    opts.validation,
    (n) => n >= 0 && n < 1,
    'a fraction from 0 up to (not including) 1',
  );
  const task = oneOf('--task', opts.task, ['classification', 'regression'] as const);
  const activation = oneOf('--activation', opts.activation, ['relu', 'tanh'] as const);
  const optimizer = oneOf('--optimizer', opts.optimizer, ['adam', 'sgd'] as const);
  const categorical = list(opts.categorical);
  const progress = !opts.json && isInteractive();
  const started = Date.now();
  const result = await withRegistryCreatingHome(opts.home, (registry) =>
    trainAndRegister(registry, {
      data,
      target,
      model: model as TrainModelKind,
      name: opts.name,
      ...(opts.alias !== undefined ? { alias: opts.alias } : {}),
      ...(task !== undefined ? { task } : {}),
      ...(hidden !== undefined ? { hidden } : {}),
      ...(activation !== undefined ? { activation } : {}),
      ...(optimizer !== undefined ? { optimizer } : {}),
      ...(epochs !== undefined ? { epochs } : {}),
      ...(learningRate !== undefined ? { learningRate } : {}),
      ...(batchSize !== undefined ? { batchSize } : {}),
      ...(l2 !== undefined ? { l2 } : {}),
      ...(seed !== undefined ? { seed } : {}),
      ...(validation !== undefined ? { validation } : {}),
      ...(categorical !== undefined ? { categorical } : {}),
      actor: actor(),
      ...(progress
        ? {
            // The total when it is known (--epochs); solvers that stop on convergence show the elapsed time.
            onEpoch: (e) =>
              process.stderr.write(
                `\repoch ${e.epoch}${epochs !== undefined ? `/${epochs}` : ''}  loss ${e.train_loss.toFixed(4)}${e.validation_loss !== undefined ? `  validation ${e.validation_loss.toFixed(4)}` : ''}  ${((Date.now() - started) / 1000).toFixed(1)} s   `,
              ),
          }
        : {}),
    }),
  );
  if (progress) process.stderr.write('\n');
  if (opts.json)
    return printJson({
      name: result.name,
      version: result.version,
      run: result.run,
      metrics: cliMetrics(result.metrics),
      classes: result.classes,
    });
  process.stdout.write(`${result.name} version ${result.version} registered (run ${result.run})\n`);
  printTable(
    ['metric', 'value'],
    Object.entries(result.metrics).map(([k, v]) => [k, fixed(v)]),
  );
  if (result.classes.length > 0) process.stdout.write(`classes: ${result.classes.join(', ')}\n`);
  process.stdout.write(`serve it: tend serve   then: curl -s localhost:8000/v2/models/${result.name}\n`);
}

export interface UpdateCommandOptions extends CommonOptions {
  data: string;
  mode: string;
  epochs?: string;
  lr?: string;
  batchSize?: string;
  replay?: string;
  seed?: string;
  alias?: string;
  canary?: string;
}

export async function updateCommand(ref: string, opts: UpdateCommandOptions): Promise<void> {
  const mode = oneOf('--mode', opts.mode, UPDATE_MODES) as UpdateMode;
  const epochs = numberFlag('--epochs', opts.epochs, positiveInt, 'a positive whole number');
  const learningRate = numberFlag('--lr', opts.lr, (n) => n > 0, 'greater than 0');
  const batchSize = numberFlag('--batch-size', opts.batchSize, positiveInt, 'a positive whole number');
  const replay = numberFlag('--replay', opts.replay, positiveInt, 'a positive whole number of rows');
  const seed = numberFlag('--seed', opts.seed, (n) => Number.isInteger(n) && n >= 0, 'a whole number ≥ 0');
  const canaryPercent = numberFlag(
    '--canary',
    opts.canary,
    (n) => n > 0 && n < 100,
    'a percentage above 0 and below 100',
  );
  const { name, version } = parseRef(ref);
  const result = await withRegistry(opts.home, (registry) =>
    updateVersion(registry, name, version, {
      data: opts.data,
      mode,
      ...(epochs !== undefined ? { epochs } : {}),
      ...(learningRate !== undefined ? { learningRate } : {}),
      ...(batchSize !== undefined ? { batchSize } : {}),
      ...(replay !== undefined ? { replay } : {}),
      ...(seed !== undefined ? { seed } : {}),
      ...(opts.alias !== undefined ? { alias: opts.alias } : {}),
      ...(canaryPercent !== undefined ? { canaryPercent } : {}),
      actor: actor(),
    }),
  );
  if (opts.json) return printJson(result);
  process.stdout.write(
    `${result.name} version ${result.version} registered: ${result.mode} update of version ${result.parent_version} on ${result.rows} rows (run ${result.run})\n`,
  );
  const keys = [...new Set([...Object.keys(result.before), ...Object.keys(result.metrics)])];
  printTable(
    ['metric on the new data', `v${result.parent_version}`, `v${result.version}`],
    keys.map((k) => [k, fixed(result.before[k]), fixed(result.metrics[k])]),
  );
}

/** Metrics whose values are yes/no, stored as 1/0 with the numbers: printed as booleans. */
const BOOLEAN_METRICS = new Set(['converged']);

/** Metrics as the CLI prints them: yes/no metrics as booleans. */
export function cliMetrics(metrics: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(metrics).map(([k, v]) => [
      k,
      BOOLEAN_METRICS.has(k) && typeof v === 'number' ? v !== 0 : v,
    ]),
  );
}

/**
 * A run as the CLI prints it with --json: the key names of `push` and `train --json` (`run`, `name`,
 * `version` for the version it produced); the HTTP API keeps the stored names.
 */
export function runJson(record: {
  run_id: string;
  model_name: string;
  produced_version: number | null;
  metrics: Record<string, unknown>;
}): Record<string, unknown> {
  const { run_id, model_name, produced_version, metrics, ...rest } = record;
  return {
    run: run_id,
    name: model_name,
    version: produced_version,
    ...rest,
    metrics: cliMetrics(metrics),
  };
}

export async function runsListCommand(
  opts: CommonOptions & { model?: string; limit?: string },
): Promise<void> {
  const limit = numberFlag('--limit', opts.limit, positiveInt, 'a positive whole number');
  const runs = await withRegistry(opts.home, (registry) =>
    registry.runs.list({
      ...(opts.model !== undefined ? { model: opts.model } : {}),
      ...(limit !== undefined ? { limit } : {}),
    }),
  );
  if (opts.json) return printJson({ runs: runs.map(runJson) });
  if (runs.length === 0) {
    process.stdout.write(
      'no runs yet: `tend train --data FILE.csv --target COLUMN --model KIND --name NAME`\n',
    );
    return;
  }
  printTable(
    ['run', 'model', 'kind', 'status', 'version', 'rows', 'duration', 'started'],
    runs.map((r) => [
      r.run_id,
      r.model_name,
      r.kind,
      r.status,
      r.produced_version ?? '',
      r.dataset_rows ?? '',
      r.duration_ms === null ? '' : `${(r.duration_ms / 1000).toFixed(1)} s`,
      r.started_at,
    ]),
  );
}

export async function runsShowCommand(runId: string, opts: CommonOptions): Promise<void> {
  const run = await withRegistry(opts.home, (registry) => registry.runs.get(runId));
  if (opts.json) return printJson(runJson(run));
  printTable(
    ['field', 'value'],
    [
      ['run', run.run_id],
      ['model', run.model_name],
      ['kind', run.kind],
      ['status', run.status],
      ['parent version', run.parent_version ?? ''],
      ['produced version', run.produced_version ?? ''],
      [
        'data',
        `${run.dataset_source} (${run.dataset_rows ?? '?'} rows, sha256 ${run.dataset_sha256?.slice(0, 16) ?? '?'}…)`,
      ],
      ['code', run.code_version],
      ['started', run.started_at],
      ['duration', run.duration_ms === null ? '' : `${run.duration_ms} ms`],
      ['by', run.created_by],
      ...(run.error !== null ? [['error', run.error]] : []),
    ],
  );
  process.stdout.write('\nparameters\n');
  printTable(
    ['name', 'value'],
    Object.entries(run.parameters).map(([k, v]) => [k, fixed(v)]),
  );
  process.stdout.write('\nmetrics\n');
  printTable(
    ['name', 'value'],
    Object.entries(run.metrics).map(([k, v]) => [k, fixed(v)]),
  );
  if (run.epochs.length > 0) {
    const keys = [...new Set(run.epochs.flatMap((e) => Object.keys(e)))];
    process.stdout.write(`\n${run.epochs.length} epochs\n`);
    printTable(
      keys,
      run.epochs.map((e) => keys.map((k) => fixed(e[k]))),
    );
  }
}

export async function runsCompareCommand(runIds: string[], opts: CommonOptions): Promise<void> {
  if (runIds.length < 2) throw errors.invalidArgument('give two or more run ids to compare');
  const comparison = await withRegistry(opts.home, (registry) => compareRuns(registry, runIds));
  if (opts.json) return printJson(comparison);
  const header = ['', ...comparison.run_ids];
  const rows = (table: typeof comparison.metrics) =>
    table.map((row) => [`${row.differs ? '* ' : '  '}${row.key}`, ...row.values.map(fixed)]);
  printTable(header, rows(comparison.runs));
  process.stdout.write('\nparameters (* differ)\n');
  printTable(header, rows(comparison.parameters));
  process.stdout.write('\nmetrics\n');
  printTable(header, rows(comparison.metrics));
}
