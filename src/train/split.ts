/**
 * Deterministic train/test splits. Stratifying keeps every class in the same proportion on both
 * sides, so a small test set still measures every class.
 */
import { errors } from '../core/errors.js';
import { Random } from './random.js';

/** Row indices of each side, ascending. */
export interface DataSplit {
  train: Int32Array;
  test: Int32Array;
}

export interface SplitOptions {
  /** Share of the rows that go to the test side, in (0, 1). */
  testFraction: number;
  seed: number;
}

function checkFraction(testFraction: number): void {
  if (!(testFraction > 0 && testFraction < 1)) {
    throw errors.invalidArgument(`testFraction must be in (0, 1), got ${testFraction}`);
  }
}

function ascending(indices: number[]): Int32Array {
  return Int32Array.from(indices).sort();
}

/**
 * Split rows so that each distinct label keeps its share on both sides: per class,
 * round(count × testFraction) rows (at least one, and never all of a class with two or more rows)
 * go to the test side, chosen by a shuffle seeded with `seed`.
 */
export function stratifiedSplit(labels: ArrayLike<number>, options: SplitOptions): DataSplit {
  checkFraction(options.testFraction);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i] as number;
    const rows = byClass.get(label);
    if (rows === undefined) byClass.set(label, [i]);
    else rows.push(i);
  }
  const random = new Random(options.seed);
  const train: number[] = [];
  const test: number[] = [];
  // Classes in numeric order, so the result depends on the labels' values, not on which came first.
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    const rows = random.shuffle(byClass.get(label) as number[]);
    let testCount = Math.round(rows.length * options.testFraction);
    if (rows.length >= 2) testCount = Math.min(Math.max(testCount, 1), rows.length - 1);
    test.push(...rows.slice(0, testCount));
    train.push(...rows.slice(testCount));
  }
  if (train.length === 0 || test.length === 0) {
    throw errors.invalidArgument(
      `cannot split ${labels.length} rows into non-empty train and test sets with testFraction ${options.testFraction}`,
    );
  }
  return { train: ascending(train), test: ascending(test) };
}

/** Split `rows` rows at random, ignoring labels (for regression targets). */
export function shuffledSplit(rows: number, options: SplitOptions): DataSplit {
  checkFraction(options.testFraction);
  const testCount = Math.round(rows * options.testFraction);
  if (testCount < 1 || testCount > rows - 1) {
    throw errors.invalidArgument(
      `cannot split ${rows} rows into non-empty train and test sets with testFraction ${options.testFraction}`,
    );
  }
  const order = new Random(options.seed).permutation(rows);
  return { train: order.slice(testCount).sort(), test: order.slice(0, testCount).sort() };
}
