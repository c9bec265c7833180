/**
 * Test support (not shipped): the committed data sets, their train/test splits and scikit-learn's
 * scores on them (fixtures/train, made by scripts/fixtures/train_reference.py).
 */
import { readFileSync } from 'node:fs';
import { readTrainingCsv } from './training-csv.js';
import { selectRows, type Task, type TrainingTable } from './training-table.js';

export type DatasetName = 'breast_cancer' | 'wine' | 'iris' | 'digits' | 'diabetes';

interface SplitEntry {
  path: string;
  target: string;
  task: Task;
  train: number[];
  test: number[];
}

const ROOT = new URL('../../', import.meta.url);
const splits = JSON.parse(readFileSync(new URL('fixtures/train/splits.json', ROOT), 'utf8')) as Record<
  DatasetName,
  SplitEntry
>;

/** scikit-learn's scores per data set (see the script for the models). */
export const sklearnReference = JSON.parse(
  readFileSync(new URL('fixtures/train/sklearn_reference.json', ROOT), 'utf8'),
) as {
  sklearn_version: string;
  datasets: Record<
    DatasetName,
    Record<string, { test_accuracy?: number; test_log_loss?: number; test_r2?: number }>
  >;
};

const cache = new Map<DatasetName, { all: TrainingTable; train: TrainingTable; test: TrainingTable }>();

/** The whole data set and its committed train and test sides. */
export function dataset(name: DatasetName): {
  all: TrainingTable;
  train: TrainingTable;
  test: TrainingTable;
} {
  const hit = cache.get(name);
  if (hit !== undefined) return hit;
  const s = splits[name];
  const all = readTrainingCsv(readFileSync(new URL(s.path, ROOT), 'utf8'), s.path, s.target, s.task);
  const entry = { all, train: selectRows(all, s.train), test: selectRows(all, s.test) };
  cache.set(name, entry);
  return entry;
}

/** The text of a committed CSV. */
export function datasetText(name: DatasetName): string {
  return readFileSync(new URL(splits[name].path, ROOT), 'utf8');
}
