import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseReferenceCsv } from './reference-table.js';

test('numbers, strings, quoted commas and missing cells', () => {
  const t = parseReferenceCsv('a,b,"c, d"\n1,x,"2,5"\n,NaN,"NA"\n-3e2,"say ""hi""",4\n\n', 'ref.csv');
  assert.deepEqual(t.columns, ['a', 'b', 'c, d']);
  assert.equal(t.rows, 3);
  assert.deepEqual(t.values['a'], [1, null, -300]);
  assert.deepEqual(t.values['b'], ['x', null, 'say "hi"']);
  assert.deepEqual(t.values['c, d'], ['2,5', 'NA', 4], 'a quoted NA is a string');
});

test('bad CSV is refused with the line and the problem', () => {
  const cases: [string, RegExp][] = [
    ['', /empty/],
    ['a,b\n', /no data rows/],
    ['a,a\n1,2', /appears twice/],
    ['a,\n1,2', /empty column name/],
    ['a,b\n1,2,3', /line 2: expected 2 cells/],
    ['a,b\n1,2\n\n3,4', /line 3: blank line/],
    ['a,b\n"1,2', /line 2: a quote is not closed/],
    ['a,b\n1,2\n"3\n4,5\n6,7', /line 3: a quote is not closed/],
  ];
  for (const [text, message] of cases)
    assert.throws(() => parseReferenceCsv(text, 'r.csv'), { code: 'TEND_INVALID_ARGUMENT', message });
});

test('a quoted line break stays in its cell; lines count from where each row starts', () => {
  const t = parseReferenceCsv('id,note\r\n1,"two\r\nlines"\r\n2,"a, b"\r\n3,NULL\r\n', 'ref.csv');
  assert.deepEqual(t.values['note'], ['two\r\nlines', 'a, b', null]);
  assert.deepEqual(t.lines, [2, 4, 5]);
});
