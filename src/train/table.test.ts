import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNumericCsv } from './csv.js';
import { fitStandardization, standardizationAsFloat32, standardize } from './standardize.js';
import { encodeClasses, featuresAndTarget, gatherRows } from './table.js';
import { hasCode } from '../core/test-support.test-helper.js';

const isArgError = hasCode('TEND_INVALID_ARGUMENT');

test('featuresAndTarget separates the target column wherever it is', () => {
  const table = parseNumericCsv('a,y,b\n1,5,2\n3,7,4\n', 't.csv');
  const { featureColumns, features, target, rows } = featuresAndTarget(table, 'y');
  assert.deepEqual(featureColumns, ['a', 'b']);
  assert.deepEqual([...features], [1, 2, 3, 4]);
  assert.deepEqual([...target], [5, 7]);
  assert.equal(rows, 2);
  assert.throws(
    () => featuresAndTarget(table, 'z'),
    (err: unknown) => isArgError(err) && /target column 'z'/.test((err as Error).message),
  );
  assert.throws(() => featuresAndTarget(parseNumericCsv('y\n1\n', 't.csv'), 'y'), isArgError);
});

test('encodeClasses orders classes by value and rejects non-integers and a single class', () => {
  const { classes, labels } = encodeClasses(Float64Array.from([7, 3, 7, 10]), 'y');
  assert.deepEqual(classes, ['3', '7', '10']);
  assert.deepEqual([...labels], [1, 0, 1, 2]);
  assert.throws(
    () => encodeClasses(Float64Array.from([1, 1.5]), 'y'),
    (err: unknown) => isArgError(err) && /row 2 has 1\.5/.test((err as Error).message),
  );
  assert.throws(() => encodeClasses(Float64Array.from([2, 2]), 'y'), isArgError);
});

test('gatherRows copies the chosen rows', () => {
  const source = Float64Array.from([0, 1, 10, 11, 20, 21]);
  assert.deepEqual([...gatherRows(source, 2, [2, 0], new Float64Array(4))], [20, 21, 0, 1]);
});

test('standardization uses the population std and maps constant features to 0', () => {
  const values = Float64Array.from([1, 5, 3, 5, 5, 5]); // columns: [1, 3, 5] and [5, 5, 5]
  const stats = fitStandardization(values, 3, 2);
  assert.deepEqual([...stats.mean], [3, 5]);
  assert.ok(Math.abs((stats.std[0] as number) - Math.sqrt(8 / 3)) < 1e-12);
  assert.equal(stats.std[1], 1);
  const z = standardize(values, 3, stats);
  assert.ok(Math.abs((z[0] as number) + Math.sqrt(1.5)) < 1e-12);
  assert.deepEqual([z[1], z[3], z[5]], [0, 0, 0]);
  const rounded = standardizationAsFloat32({
    mean: Float64Array.from([0.1]),
    std: Float64Array.from([1e-60]),
  });
  assert.equal(rounded.mean[0], Math.fround(0.1));
  assert.equal(rounded.std[0], 1);
  assert.throws(() => fitStandardization(values, 4, 2), isArgError);
  assert.throws(() => standardize(values, 2, stats), isArgError);
});
