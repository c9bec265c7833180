import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseNumericCsv, readNumericCsv } from './csv.js';
import { hasCode } from '../core/test-support.test-helper.js';
import { tempDir } from '../core/test-support.test-helper.js';

function rejects(text: string, pattern: RegExp): void {
  assert.throws(() => parseNumericCsv(text, 'data.csv'), hasCode('TEND_INVALID_ARGUMENT', pattern));
}

test('parses a header and numeric rows, row-major', () => {
  const table = parseNumericCsv('a,b,c\n1,2,3\n-4.5,1e3,.25\n', 'data.csv');
  assert.deepEqual(table.columns, ['a', 'b', 'c']);
  assert.equal(table.rows, 2);
  assert.deepEqual([...table.values], [1, 2, 3, -4.5, 1000, 0.25]);
});

test('accepts CRLF, a byte-order mark, quoted names and cells, spaces and trailing blank lines', () => {
  const table = parseNumericCsv('\uFEFF"x", "y"\r\n 1 ,"2"\r\n+3,4\r\n\r\n', 'data.csv');
  assert.deepEqual(table.columns, ['x', 'y']);
  assert.deepEqual([...table.values], [1, 2, 3, 4]);
});

test('rejects an empty file and a header without rows', () => {
  rejects('', /data\.csv: the CSV file is empty/);
  rejects('\n  \n', /empty/);
  rejects('a,b\n', /no data rows/);
});

test('rejects ragged rows naming the line', () => {
  rejects('a,b\n1,2\n3\n', /line 3: expected 2 cells like the header, found 1/);
  rejects('a,b\n1,2,3\n', /line 2: expected 2 cells/);
});

test('rejects non-numeric and empty cells naming line and column', () => {
  rejects('a,b\n1,2\n3,x\n', /line 3, column 2 \('b'\): the cell 'x' is not a number/);
  rejects('a,b\n1,\n', /line 2, column 2 \('b'\): the cell is empty/);
  rejects('a,b\n1,2\n\n3,4\n', /line 3: blank line inside the data/);
  for (const cell of ['NaN', 'Infinity', '0x10', '1,5', '1e', '--1'])
    rejects(`a\n${cell}\n`, /line 2|expected 1 cells/);
});

test('rejects empty and duplicate column names', () => {
  rejects('a,,c\n1,2,3\n', /line 1, column 2: the header has an empty column name/);
  rejects('a,b,a\n1,2,3\n', /line 1, column 3: column name 'a' appears twice/);
});

test('readNumericCsv reads a file and reports a missing one as TEND_NOT_FOUND', () => {
  const dir = tempDir('csv');
  try {
    const path = join(dir, 't.csv');
    writeFileSync(path, 'a\n7\n');
    assert.deepEqual([...readNumericCsv(path).values], [7]);
    assert.throws(() => readNumericCsv(join(dir, 'missing.csv')), hasCode('TEND_NOT_FOUND'));
    assert.throws(() => readNumericCsv(dir), hasCode('TEND_INVALID_ARGUMENT'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
