import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTrainingCsv, readTrainingCsv, readUpdateCsv } from './training-csv.js';
import { concatTables, selectRows } from './training-table.js';
import { hasCode } from '../core/test-support.test-helper.js';

function rejects(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, hasCode('TEND_INVALID_ARGUMENT', pattern));
}

const read = (text: string, target = 'y', task: 'classification' | 'regression' = 'classification') =>
  readTrainingCsv(text, 'data.csv', target, task);

test('string classes are sorted as strings, numeric ones as numbers ("1.0" is class 1)', () => {
  const t = read('a,b,y\n1,2,dog\n3,4,cat\n5,6,dog\n');
  assert.deepEqual(t.featureColumns, ['a', 'b']);
  assert.deepEqual(t.classes, ['cat', 'dog']);
  assert.deepEqual([...(t.labels ?? [])], [1, 0, 1]);
  assert.deepEqual([...t.features], [1, 2, 3, 4, 5, 6]);
  const n = read('y,a\n10,1\n9,2\n1.0,3\n1,4\n');
  assert.deepEqual(n.classes, ['1', '9', '10']);
  assert.deepEqual([...(n.labels ?? [])], [2, 1, 0, 0]);
  assert.deepEqual(n.featureColumns, ['a']);
});

test('regression targets are numbers; quoted cells, CRLF and a BOM are accepted', () => {
  const t = read('\uFEFF"x 1","y"\r\n"1.5",2.5\r\n-3,1e2\r\n\r\n', 'y', 'regression');
  assert.deepEqual(t.featureColumns, ['x 1']);
  assert.deepEqual([...(t.target ?? [])], [2.5, 100]);
  assert.deepEqual([...t.features], [1.5, -3]);
  assert.equal(t.classes, undefined);
  assert.equal(read('a,y\n1,"a, b"\n2,c\n').classes?.[0], 'a, b');
});

test('bad files name the problem, the line and the column', () => {
  rejects(() => read(''), /data\.csv: the CSV file is empty/);
  rejects(() => read('a,b\n1,2\n3,4\n'), /target column 'y' is not in the header \(columns: a, b\)/);
  rejects(() => read('a,y\n1,x\ntwo,x\n3,z\n'), /line 3, column 1 \('a'\): the cell 'two' is not a number/);
  rejects(() => read('a,y\n1,x\nNaN,z\n'), /line 3, column 1 \('a'\): the cell is 'NaN', a missing value/);
  rejects(() => read('a,b,y\n1,,x\n1,2,z\n'), /line 2, column 2 \('b'\): the cell is empty/);
  rejects(() => read('a,b,y\n1,2,x\n1,2\n'), /line 3: expected 3 cells like the header, found 2/);
  rejects(() => read('a,y\n1,x\n2,x\n3,x\n'), /single class \(x\)/);
  rejects(() => read('a,y\n1,x\n'), /at least 2 data rows, found 1/);
  rejects(() => read('a,y\n1,x\n\n2,z\n'), /line 3: blank line inside the data/);
  rejects(
    () => read('a,y\n1,2\n3,high\n', 'y', 'regression'),
    /line 3, column 2 \('y'\): the cell 'high' is not a number/,
  );
  rejects(() => read('a,y\n1,\n3,x\n'), /line 2, column 2 \('y'\): the target cell is empty/);
  rejects(() => read('a,a,y\n1,2,x\n'), /column name 'a' appears twice/);
  rejects(() => read('y\nx\nz\n'), /no feature columns/);
  rejects(() => read('a,y\nInfinity,x\n1,z\n'), /'Infinity' is not a number/);
});

test('update files must have the model columns in order and known classes', () => {
  const expected = {
    featureColumns: ['a', 'b'],
    targetColumn: 'y',
    task: 'classification' as const,
    classes: ['cat', 'dog'],
  };
  const t = readUpdateCsv('a,b,y\n1,2,dog\n', 'new.csv', expected);
  assert.deepEqual([...(t.labels ?? [])], [1]);
  assert.deepEqual(t.classes, ['cat', 'dog']);
  // A single row and a single class are fine for an update.
  assert.equal(t.rows, 1);
  assert.deepEqual([...readUpdateCsv('y,a,b\ncat,1,2\n', 'new.csv', expected).features], [1, 2]);
  rejects(
    () => readUpdateCsv('a,c,y\n1,2,dog\n', 'new.csv', expected),
    /expected a, b, y; got a, c, y \(missing: b; unexpected: c\)/,
  );
  rejects(
    () => readUpdateCsv('b,a,y\n1,2,dog\n', 'new.csv', expected),
    /expected a, b, y; got b, a, y \(same columns, different order\)/,
  );
  rejects(() => readUpdateCsv('a,b\n1,2\n', 'new.csv', expected), /missing: y/);
  rejects(
    () => readUpdateCsv('a,b,y\n1,2,cow\n', 'new.csv', expected),
    /line 2, column 3 \('y'\): class 'cow' is not one of the model's classes \(cat, dog\)/,
  );
  rejects(() => readUpdateCsv('a,b,y\n', 'new.csv', expected), /no data rows/);
  const numeric = readUpdateCsv('a,y\n1,2.0\n', 'n.csv', {
    featureColumns: ['a'],
    targetColumn: 'y',
    task: 'classification',
    classes: ['1', '2'],
  });
  assert.deepEqual([...(numeric.labels ?? [])], [1]);
});

test('formatTrainingCsv writes what the readers read back; rows can be selected and joined', () => {
  const t = read('a,b,y\n0.1,2,"x, 1"\n3,-4e-7,z\n5,6,z\n');
  const again = read(formatTrainingCsv(t));
  assert.deepEqual(again, t);
  const picked = selectRows(t, [2, 0]);
  assert.deepEqual([...picked.features], [5, 6, 0.1, 2]);
  assert.deepEqual([...(picked.labels ?? [])], [1, 0]);
  const joined = concatTables(picked, t);
  assert.equal(joined.rows, 5);
  assert.deepEqual([...(joined.labels ?? [])], [1, 0, 0, 1, 1]);
  rejects(() => concatTables(t, read('a,c,y\n1,2,x\n3,4,z\n')), /different columns/);
  rejects(() => selectRows(t, [3]), /outside 0\.\.2/);
  const r = read('a,y\n1,0.5\n2,-1\n', 'y', 'regression');
  assert.deepEqual(read(formatTrainingCsv(r), 'y', 'regression'), r);
});
