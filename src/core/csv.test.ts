import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  csvField,
  decimalNumber,
  isMissing,
  MISSING_WORDS,
  numberCell,
  readCsv,
  valueCell,
  type CsvTable,
} from './csv.js';
import { hasCode } from './test-support.test-helper.js';

const read = (text: string): CsvTable => readCsv(text, 'data.csv');

test('a quoted line break stays in its cell, and later rows report the line they start on', () => {
  const t = read('a,b\n1,"two\nlines"\n3,4\n"5\n\n5",6\n');
  assert.deepEqual(t.columns, ['a', 'b']);
  assert.deepEqual(
    t.rows.map((r) => r.cells),
    [
      ['1', 'two\nlines'],
      ['3', '4'],
      ['5\n\n5', '6'],
    ],
  );
  assert.deepEqual(
    t.rows.map((r) => r.line),
    [2, 4, 5],
  );
  assert.throws(
    () => read('a,b\n1,"two\nlines"\n3\n'),
    hasCode('TEND_INVALID_ARGUMENT', /^data\.csv: line 4: expected 2 cells like the header, found 1$/),
  );
});

test('a quoted comma and a doubled quote are one cell; quoted cells are flagged', () => {
  const t = read('name,"x, y"\n"Paris, France","say ""hi"""\nplain, spaced \n');
  assert.deepEqual(t.columns, ['name', 'x, y']);
  assert.deepEqual(t.rows[0]?.cells, ['Paris, France', 'say "hi"']);
  assert.deepEqual(t.rows[0]?.quoted, [true, true]);
  assert.deepEqual(t.rows[1]?.cells, ['plain', 'spaced'], 'unquoted cells are trimmed');
  assert.deepEqual(t.rows[1]?.quoted, [false, false]);
});

test('a byte-order mark is dropped, also in front of a quoted name', () => {
  assert.deepEqual(read('\uFEFFa,b\n1,2\n').columns, ['a', 'b']);
  assert.deepEqual(read('\uFEFF"a",b\n1,2\n').columns, ['a', 'b']);
});

test('CRLF and LF line ends, mixed, with trailing blank lines', () => {
  const t = read('a,b\r\n1,2\n3,"x\r\ny"\r\n5,6\r\n\r\n  \n');
  assert.deepEqual(
    t.rows.map((r) => r.cells),
    [
      ['1', '2'],
      ['3', 'x\r\ny'],
      ['5', '6'],
    ],
  );
  assert.deepEqual(
    t.rows.map((r) => r.line),
    [2, 3, 5],
  );
});

test('ragged rows, blank lines, bad headers and broken quotes are refused naming the line', () => {
  const cases: [string, RegExp][] = [
    ['', /^data\.csv: the CSV file is empty/],
    [' \n\n', /the CSV file is empty/],
    ['a,b\n1,2,3\n', /^data\.csv: line 2: expected 2 cells like the header, found 3$/],
    ['a,b\n1,2\n3\n', /^data\.csv: line 3: expected 2 cells like the header, found 1$/],
    ['a,b\n1,2\n\n3,4\n', /^data\.csv: line 3: blank line inside the data/],
    ['a,,c\n1,2,3\n', /line 1, column 2: the header has an empty column name/],
    ['a,b,a\n1,2,3\n', /line 1, column 3: column name 'a' appears twice/],
    ['a,b\n1,2\n"3,4\n5,6\n', /^data\.csv: line 3: a quote is not closed$/],
    ['a,b\n"1"x,2\n', /^data\.csv: line 2: text follows a closing quote/],
  ];
  for (const [text, message] of cases)
    assert.throws(() => read(text), hasCode('TEND_INVALID_ARGUMENT', message), JSON.stringify(text));
  assert.deepEqual(
    read('a,b\n').rows,
    [],
    'a header alone is a table without rows; each reader decides whether that is enough',
  );
  assert.deepEqual(
    read('a,b\nx"y,2\n').rows[0]?.cells,
    ['x"y', '2'],
    'a quote inside an unquoted cell is a character',
  );
});

test('numbers are strict: no hex, no Infinity, no empty string as 0', () => {
  for (const [text, value] of [
    ['1', 1],
    ['-4.5', -4.5],
    ['+3', 3],
    ['1e3', 1000],
    ['.25', 0.25],
    ['5.', 5],
    ['1E-2', 0.01],
  ] as const) {
    assert.equal(decimalNumber(text), value, text);
  }
  for (const text of [
    '',
    ' ',
    'NaN',
    'Infinity',
    '-Infinity',
    '0x10',
    '0b1',
    '1,5',
    '1e',
    '--1',
    '1_000',
    '١',
  ])
    assert.equal(decimalNumber(text), null, text);
});

test('a bad number names its line and column', () => {
  const t = read('a,b\n1,2\n3,x\n"4\nx",\n 5 ,NaN\n6,?\n7," 8 "\n');
  assert.equal(numberCell(t, 0, 1), 2);
  assert.equal(numberCell(t, 5, 1), 8, 'white space inside quotes around a number is allowed');
  const bad = (row: number, column: number, message: RegExp, missing?: readonly string[]) =>
    assert.throws(
      () => numberCell(t, row, column, missing ? { missing } : {}),
      hasCode('TEND_INVALID_ARGUMENT', message),
    );
  bad(1, 1, /^data\.csv: line 3, column 2 \('b'\): the cell 'x' is not a number$/);
  bad(2, 0, /^data\.csv: line 4, column 1 \('a'\): the cell '4\nx' is not a number$/);
  bad(2, 1, /^data\.csv: line 4, column 2 \('b'\): the cell is empty/);
  bad(3, 1, /^data\.csv: line 6, column 2 \('b'\): the cell is 'NaN', a missing value/);
  bad(4, 1, /line 7, column 2 \('b'\): the cell '\?' is not a number/);
  bad(4, 1, /line 7, column 2 \('b'\): the cell is '\?', a missing value/, [...MISSING_WORDS, '?']);
});

test('missing values: empty and the marker words in any case; quoted cells are text by default', () => {
  const t = read('k,v\n1,""\n2,\n3,NA\n4,nan\n5,NULL\n6,None\n7,n/a\n8,"NA"\n9,"7"\n10,7\n11,x\n12,?\n');
  const values = t.rows.map((_, r) => valueCell(t, r, 1));
  assert.deepEqual(values, ['', null, null, null, null, null, null, 'NA', '7', 7, 'x', '?']);
  const loose = t.rows.map((_, r) =>
    valueCell(t, r, 1, { quotedIsText: false, missing: [...MISSING_WORDS, '?'] }),
  );
  assert.deepEqual(loose, [null, null, null, null, null, null, null, null, 7, 7, 'x', null]);
  assert.equal(isMissing(''), true);
  assert.equal(isMissing('NaN'), true);
  assert.equal(isMissing('0'), false);
  assert.throws(
    () => read('v\n1\n\n2\n'),
    hasCode('TEND_INVALID_ARGUMENT', /line 3: blank line/),
    'in one column, a blank line is not an empty cell',
  );
});

test('csvField quotes what readCsv would otherwise change, and reads back the same', () => {
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('two\nlines'), '"two\nlines"');
  assert.equal(csvField(' padded'), '" padded"');
  const cells = ['plain', 'a,b', 'say "hi"', 'two\r\nlines', ' padded ', ''];
  const t = read(`${cells.map((_, i) => `c${i}`).join(',')}\n${cells.map(csvField).join(',')}\n`);
  assert.deepEqual(t.rows[0]?.cells, cells);
});
