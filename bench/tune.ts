/**
 * The tune section of `npm run bench -- --only tune`: tend's samplers against Optuna's on Branin and
 * Hartmann-6 (minimized), the same seeds × trials on both sides. For each sampler: the mean best value
 * over the seeds ± its standard error, and the sampler's own time per trial (a study's time less the
 * objective's, median over the seeds). tend runs in this process on an in-memory study storage; Optuna
 * runs in a /usr/bin/python3 child (bench/tune_optuna.py) on its in-memory storage. The functions
 * alternate: tend's samplers, then Optuna's, function by function.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { BENCHMARK_FUNCTIONS } from '../src/tune/benchmark-functions.js';
import {
  makePruner,
  makeSampler,
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

export interface TuneBenchResult {
  seeds: number;
  trials: number;
  optunaVersion: string | null;
  functions: TuneFunctionResult[];
}

export interface TuneBenchOptions {
  seeds: number;
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
  return { seeds: options.seeds, trials: options.trials, optunaVersion: version, functions };
}
