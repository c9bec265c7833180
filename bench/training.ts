/**
 * Section 10: training speed. The digits MLP (64 → [64] ReLU → 10, Adam) trained on all 1797 rows by
 * tend's accelerated path (what `tend train` runs: each epoch one onnxruntime session.run), by the
 * TypeScript trainer, and by scikit-learn's MLPClassifier in a /usr/bin/python3 child on the same
 * standardized data; the three alternate within each run. Then online learning: OnlineLearner.learn,
 * one sample at a time, on the same data.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { trainWithRuntime } from '../src/engine/jobs/accelerated-training.js';
import {
  digitsCsvPath,
  OnlineLearner,
  Random,
  readTrainingCsv,
  trainModel,
  type TrainingTable,
  type TrainOptions,
} from '../src/train/index.js';
import { median } from './statistics.js';

export const TRAINING_BATCH_SIZES = [200, 32] as const;
export const TRAINING_HIDDEN = [64];
export const SKLEARN_PYTHON = '/usr/bin/python3';

export interface TrainingPlan {
  runs: number;
  /** Epochs per timed fit (tend and scikit-learn). */
  epochs: number;
  /** Epochs per timed fit of the slower TypeScript trainer. */
  typescriptEpochs: number;
  /** Passes over the rows for the online-learning figure. */
  onlinePasses: number;
  log: (line: string) => void;
}

export interface TrainingSpeed {
  batchSize: number;
  /** Medians over the runs, epochs per second (null: not measured). */
  tend: number;
  typescript: number;
  sklearn: number | null;
  tendRuns: number[];
  sklearnRuns: number[];
}

export interface OnlineFigure {
  samplesPerSecond: number;
  /** Samples learned per run. */
  samples: number;
  /** Progressive-validation accuracy of the last run (each sample predicted before it was learned). */
  progressiveAccuracy: number;
}

export interface TrainingResult {
  rows: number;
  features: number;
  classes: number;
  epochs: number;
  typescriptEpochs: number;
  runs: number;
  /** scikit-learn's version, or why it did not run. */
  sklearn: { version: string } | { missing: string };
  speed: TrainingSpeed[];
  online: OnlineFigure;
}

// Fits MLPClassifier exactly `epochs` times over the data (tol=0 and n_iter_no_change=epochs never stop
// it early) and prints epochs per second of the fit alone; standardizing happens before the timer.
const SKLEARN_SCRIPT = `
import json, sys, time, warnings
import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
warnings.filterwarnings('ignore', category=ConvergenceWarning)
path, batch, epochs, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
data = np.loadtxt(path, delimiter=',', skiprows=1)
x = StandardScaler().fit_transform(data[:, :-1])
y = data[:, -1].astype(int)
model = MLPClassifier(hidden_layer_sizes=(64,), activation='relu', solver='adam', batch_size=batch, max_iter=epochs,
                      tol=0, n_iter_no_change=epochs, early_stopping=False, shuffle=True, random_state=seed)
start = time.perf_counter()
model.fit(x, y)
seconds = time.perf_counter() - start
print(json.dumps({'version': sklearn.__version__, 'epochs': model.n_iter_, 'epochs_per_second': model.n_iter_ / seconds}))
`;

/** scikit-learn's version, or why it cannot run here. */
export function probeSklearn(python = SKLEARN_PYTHON): { version: string } | { missing: string } {
  const probe = spawnSync(python, ['-c', 'import sklearn, numpy; print(sklearn.__version__)'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (probe.error !== undefined) {
    const code = (probe.error as NodeJS.ErrnoException).code;
    return {
      missing:
        code === 'ENOENT'
          ? `${python} not found (apt-get install python3 python3-sklearn)`
          : `${python} failed: ${probe.error.message}`,
    };
  }
  if (probe.status !== 0) {
    const reason = /No module named '?(\w+)/.exec(probe.stderr)?.[1];
    return {
      missing:
        reason !== undefined
          ? `${python} has no ${reason} (apt-get install python3-sklearn)`
          : `${python} exited ${probe.status}: ${probe.stderr.trim().split('\n').pop() ?? ''}`,
    };
  }
  return { version: probe.stdout.trim() };
}

/** Epochs per second of one scikit-learn fit. */
function sklearnEpochsPerSecond(csvPath: string, batchSize: number, epochs: number, seed: number): number {
  const run = spawnSync(
    SKLEARN_PYTHON,
    ['-c', SKLEARN_SCRIPT, csvPath, String(batchSize), String(epochs), String(seed)],
    { encoding: 'utf8', timeout: 600_000 },
  );
  if (run.error !== undefined || run.status !== 0)
    throw new Error(
      `scikit-learn fit failed: ${run.error?.message ?? run.stderr.trim().split('\n').pop() ?? ''}`,
    );
  const out = JSON.parse(run.stdout) as { epochs: number; epochs_per_second: number };
  if (out.epochs !== epochs) throw new Error(`scikit-learn ran ${out.epochs} epochs instead of ${epochs}`);
  return out.epochs_per_second;
}

function mlpOptions(batchSize: number, epochs: number, seed: number): TrainOptions {
  // All rows, no validation split: scikit-learn's early_stopping=False trains on the same rows.
  return {
    model: 'mlp',
    hidden: TRAINING_HIDDEN,
    activation: 'relu',
    optimizer: 'adam',
    batchSize,
    epochs,
    seed,
    validationFraction: 0,
  };
}

/** Epochs per second of a whole training call (preprocessing, graph and session included for tend). */
async function timedEpochs(epochs: number, train: () => unknown): Promise<number> {
  const started = performance.now();
  await train();
  return epochs / ((performance.now() - started) / 1000);
}

/** Samples per second of OnlineLearner.learn over `passes` seeded shuffles of the table. */
function measureOnline(table: TrainingTable, passes: number, seed: number): OnlineFigure {
  const start = trainModel(table, { ...mlpOptions(32, 3, seed) }).model;
  const learner = new OnlineLearner(start);
  const width = table.featureColumns.length;
  const labels = table.labels as Int32Array;
  const random = new Random(seed);
  const orders = Array.from({ length: passes }, () => random.permutation(table.rows));
  const started = performance.now();
  for (const order of orders) {
    for (const r of order)
      learner.learn(table.features.subarray(r * width, (r + 1) * width), labels[r] as number);
  }
  const seconds = (performance.now() - started) / 1000;
  const samples = passes * table.rows;
  return {
    samplesPerSecond: samples / seconds,
    samples,
    progressiveAccuracy: learner.progressive().accuracy ?? Number.NaN,
  };
}

/** The training figures: tend, TypeScript and scikit-learn epochs/s per batch size, then online samples/s. */
export async function runTraining(plan: TrainingPlan): Promise<TrainingResult> {
  const csvPath = digitsCsvPath();
  const table = readTrainingCsv(readFileSync(csvPath, 'utf8'), csvPath, 'digit', 'classification');
  const sklearn = probeSklearn();
  plan.log(
    'missing' in sklearn
      ? `scikit-learn: NOT RUN — ${sklearn.missing}`
      : `scikit-learn ${sklearn.version} (${SKLEARN_PYTHON})`,
  );
  // Untimed short fits load onnxruntime and warm the JIT before the first figure.
  await trainWithRuntime(table, mlpOptions(200, 2, 0));
  trainModel(table, mlpOptions(200, 2, 0));
  const speed: TrainingSpeed[] = [];
  for (const batchSize of TRAINING_BATCH_SIZES) {
    const tendRuns: number[] = [];
    const sklearnRuns: number[] = [];
    const typescriptRuns: number[] = [];
    for (let run = 0; run < plan.runs; run++) {
      tendRuns.push(
        await timedEpochs(plan.epochs, () =>
          trainWithRuntime(table, mlpOptions(batchSize, plan.epochs, run)),
        ),
      );
      if ('version' in sklearn)
        sklearnRuns.push(sklearnEpochsPerSecond(csvPath, batchSize, plan.epochs, run));
      typescriptRuns.push(
        await timedEpochs(plan.typescriptEpochs, () =>
          trainModel(table, mlpOptions(batchSize, plan.typescriptEpochs, run)),
        ),
      );
      plan.log(
        `batch ${batchSize}, run ${run + 1}: tend ${tendRuns[run]?.toFixed(0)} epochs/s, ` +
          `scikit-learn ${sklearnRuns[run]?.toFixed(0) ?? '—'}, TypeScript ${typescriptRuns[run]?.toFixed(0)}`,
      );
    }
    speed.push({
      batchSize,
      tend: median(tendRuns),
      typescript: median(typescriptRuns),
      sklearn: sklearnRuns.length > 0 ? median(sklearnRuns) : null,
      tendRuns,
      sklearnRuns,
    });
  }
  const online: OnlineFigure[] = [];
  for (let run = 0; run < plan.runs; run++) online.push(measureOnline(table, plan.onlinePasses, run));
  const samplesPerSecond = median(online.map((o) => o.samplesPerSecond));
  plan.log(`online learning: ${samplesPerSecond.toFixed(0)} samples/s`);
  return {
    rows: table.rows,
    features: table.featureColumns.length,
    classes: table.classes?.length ?? 0,
    epochs: plan.epochs,
    typescriptEpochs: plan.typescriptEpochs,
    runs: plan.runs,
    sklearn,
    speed,
    online: { ...(online[online.length - 1] as OnlineFigure), samplesPerSecond },
  };
}
