/**
 * The tune section of `npm run bench -- --only tune`: tend's samplers against Optuna's on Branin and
 * Hartmann-6 (minimized), the same seeds × trials on both sides. For each sampler: the mean best value
 * over the seeds ± its standard error, and the sampler's own time per trial (a study's time less the
 * objective's, median over the seeds). tend runs in this process on an in-memory study storage; Optuna
 * runs in a /usr/bin/python3 child (bench/tune_optuna.py) on its in-memory storage. The functions
 * alternate: tend's samplers, then Optuna's, function by function. Then the pruning figure: a
 * digits-MLP study (tend's trainer, TPE) with the median pruner against the same study without pruning,
 * epochs trained and best accuracy.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainerObjective } from '../src/engine/jobs/tune-trainer-objective.js';
import { readTrainingCsv } from '../src/train/index.js';
import { BENCHMARK_FUNCTIONS } from '../src/tune/benchmark-functions.js';
import {
  makePruner,
  makeSampler,
  parseSpace,
  runStudy,
  type Params,
  type StudyStorage,
  type TrialView,
} from '../src/tune/index.js';
import { REPO_ROOT } from './servers.js';
import { median } from './statistics.js';

export const OPTUNA_PYTHON = '/usr/bin/python3';

export interface SamplerFigure {
  sampler: string;
  mean: number;
  se: number;
  /** Median over the seeds of the sampler's milliseconds per trial. */
  overheadMs: number;
}

export interface TuneFunctionResult {
  name: string;
  optimum: number;
  tend: SamplerFigure[];
  optuna: SamplerFigure[] | { missing: string };
}

/** A digits-MLP study with the median pruner against the same study without pruning. */
export interface PruningFigure {
  seeds: number;
  trials: number;
  /** Epochs trained over all trials and seeds. */
  epochsPruned: number;
  epochsUnpruned: number;
  /** Mean best validation accuracy over the seeds. */
  bestPruned: number;
  bestUnpruned: number;
  prunedTrials: number;
}

export interface TuneBenchResult {
  seeds: number;
  trials: number;
  optunaVersion: string | null;
  functions: TuneFunctionResult[];
  pruning?: PruningFigure;
}

export interface TuneBenchOptions {
  seeds: number;
  /** Seeds of the pruning figure (digits MLP studies, slower than the test functions). */
  pruningSeeds: number;
  trials: number;
  log: (line: string) => void;
}

/** tend's samplers and Optuna's counterparts, in table order. */
export const TEND_SAMPLERS = ['tpe', 'tpe-univariate', 'random'] as const;
export const OPTUNA_SAMPLERS = ['tpe-multivariate', 'tpe', 'random'] as const;

function stats(values: number[]): { mean: number; se: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance =
    values.length > 1 ? values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1) : 0;
  return { mean, se: Math.sqrt(variance / values.length) };
}

/** A study storage in memory (Optuna's default storage is in memory too). */
function memoryStorage(): StudyStorage {
  const trials = new Map<number, TrialView & { intermediate: Map<number, number> }>();
  return {
    loadTrials: () => Promise.resolve([...trials.values()]),
    startTrial: (number: number, params: Params) => {
      trials.set(number, { number, state: 'running', params, value: null, intermediate: new Map() });
      return Promise.resolve();
    },
    reportStep: (number: number, step: number, value: number) => {
      trials.get(number)?.intermediate.set(step, value);
      return Promise.resolve();
    },
    finishTrial: (number, end) => {
      const t = trials.get(number);
      if (t) trials.set(number, { ...t, state: end.state, value: end.value });
      return Promise.resolve();
    },
  };
}

async function tendFigure(name: string, sampler: string, options: TuneBenchOptions): Promise<SamplerFigure> {
  const fn = BENCHMARK_FUNCTIONS[name] as (typeof BENCHMARK_FUNCTIONS)[string];
  const best: number[] = [];
  const overhead: number[] = [];
  for (let seed = 0; seed < options.seeds; seed++) {
    let objectiveMs = 0;
    const started = performance.now();
    const outcome = await runStudy({
      space: fn.space,
      sampler: makeSampler(sampler, seed),
      pruner: makePruner('none'),
      direction: 'minimize',
      trials: options.trials,
      storage: memoryStorage(),
      objective: (trial) => {
        const t0 = performance.now();
        const value = fn.f(trial.params);
        objectiveMs += performance.now() - t0;
        return Promise.resolve(value);
      },
    });
    overhead.push((performance.now() - started - objectiveMs) / options.trials);
    best.push(outcome.best?.value ?? Number.NaN);
  }
  return { sampler, ...stats(best), overheadMs: median(overhead) };
}

function optunaVersion(): string | null {
  const r = spawnSync(OPTUNA_PYTHON, ['-c', 'import optuna; print(optuna.__version__)'], {
    encoding: 'utf8',
  });
  return r.status === 0 ? r.stdout.trim() : null;
}

function optunaFigure(name: string, sampler: string, options: TuneBenchOptions): SamplerFigure {
  const script = join(REPO_ROOT, 'bench', 'tune_optuna.py');
  const r = spawnSync(OPTUNA_PYTHON, [script, name, sampler, String(options.seeds), String(options.trials)], {
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  if (r.status !== 0)
    throw new Error(`${script} ${name} ${sampler} failed: ${r.stderr.trim().split('\n').pop() ?? ''}`);
  const data = JSON.parse(r.stdout) as { best: number[]; sampler_ms: number[] };
  return { sampler, ...stats(data.best), overheadMs: median(data.sampler_ms) };
}

export async function runTuneBench(options: TuneBenchOptions): Promise<TuneBenchResult> {
  const version = optunaVersion();
  const functions: TuneFunctionResult[] = [];
  for (const [name, fn] of Object.entries(BENCHMARK_FUNCTIONS)) {
    const tend: SamplerFigure[] = [];
    for (const sampler of TEND_SAMPLERS) {
      options.log(`${name}: tend ${sampler}, ${options.seeds} seeds × ${options.trials} trials`);
      tend.push(await tendFigure(name, sampler, options));
    }
    let optuna: SamplerFigure[] | { missing: string };
    if (version === null)
      optuna = { missing: `optuna is not importable by ${OPTUNA_PYTHON} (apt-get install python3-optuna)` };
    else {
      optuna = [];
      for (const sampler of OPTUNA_SAMPLERS) {
        options.log(`${name}: Optuna ${sampler}, ${options.seeds} seeds × ${options.trials} trials`);
        optuna.push(optunaFigure(name, sampler, options));
      }
    }
    functions.push({ name, optimum: fn.optimum, tend, optuna });
  }
  options.log(`digits MLP: median pruning vs none, ${options.pruningSeeds} seeds × ${PRUNING_TRIALS} trials`);
  const pruning = await pruningFigure(options.pruningSeeds);
  return { seeds: options.seeds, trials: options.trials, optunaVersion: version, functions, pruning };
}

const PRUNING_TRIALS = 30;
/** The digits study of the pruning figure: the MLP's step size, width and epochs. */
const PRUNING_SPACE = parseSpace({
  lr: { type: 'float', low: 1e-4, high: 0.1, log: true },
  hidden: { type: 'categorical', choices: [16, 32, 64] },
  epochs: { type: 'int', low: 10, high: 40, step: 10 },
});

async function pruningFigure(seeds: number): Promise<PruningFigure> {
  const text = readFileSync(join(REPO_ROOT, 'assets', 'datasets', 'digits.csv'), 'utf8');
  const table = readTrainingCsv(text, 'digits.csv', 'digit', 'classification');
  const scratch = mkdtempSync(join(tmpdir(), 'tend-bench-tune-'));
  const figure: PruningFigure = {
    seeds,
    trials: PRUNING_TRIALS,
    epochsPruned: 0,
    epochsUnpruned: 0,
    bestPruned: 0,
    bestUnpruned: 0,
    prunedTrials: 0,
  };
  try {
    for (let seed = 0; seed < seeds; seed++) {
      for (const pruner of ['median', 'none'] as const) {
        const outcome = await runStudy({
          space: PRUNING_SPACE,
          sampler: makeSampler('tpe', seed),
          pruner: makePruner(pruner),
          direction: 'maximize',
          trials: PRUNING_TRIALS,
          storage: memoryStorage(),
          objective: trainerObjective({
            table,
            model: 'mlp',
            metric: 'accuracy',
            seed,
            validation: 0.2,
            trialDir: (n) => join(scratch, `${pruner}-${seed}-${n}`),
          }),
        });
        const epochs = outcome.trials.reduce((sum, t) => sum + t.intermediate.size, 0);
        const best = (outcome.best?.value ?? Number.NaN) / seeds;
        if (pruner === 'median') {
          figure.epochsPruned += epochs;
          figure.bestPruned += best;
          figure.prunedTrials += outcome.trials.filter((t) => t.state === 'pruned').length;
        } else {
          figure.epochsUnpruned += epochs;
          figure.bestUnpruned += best;
        }
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return figure;
}
