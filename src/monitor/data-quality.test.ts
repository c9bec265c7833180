import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UNSEEN_LISTED_MAX, dataQuality } from './data-quality.js';
import type { Columns } from './drift-columns.js';
import { hasCode } from '../core/test-support.test-helper.js';

const reference: Columns = {
  age: [20, 25, 30, 35, 40, 45, 50, null],
  city: ['oslo', 'rome', 'oslo', 'lima', 'rome', 'oslo', 'lima', 'oslo'],
  flag: [0, 1, 0, 1, 1, 0, 0, 1],
  code: [1, 2, 3, 1, 2, 3, 1, 2],
};

test('counts missing values, type errors, out-of-range numbers and unseen categories per feature', () => {
  const current: Columns = {
    age: [18, 30, Number.NaN, 'old', 51, null, 50, Infinity, 20, 44],
    city: ['oslo', 'paris', 'rome', null, 7, 'paris', 'tokyo', 'oslo', 'lima', 'rome'],
    flag: [0, 1, 2, 1, 0, 1, 1, 0, 0, 1],
    code: [1, 2, 3, 4, 2, 1, 3, 2, 1, 1.5],
  };
  const report = dataQuality(reference, current);
  assert.equal(report.rows, 10);
  assert.equal(report.reference_rows, 8);
  const byName = new Map(report.features.map((f) => [f.name, f]));

  const age = byName.get('age');
  assert.equal(age?.column_type, 'numeric');
  assert.equal(age?.value_type, 'number');
  assert.equal(age?.missing, 3); // NaN, null, Infinity
  assert.equal(age?.missing_share, 0.3);
  assert.equal(age?.type_errors, 1); // 'old'
  assert.equal(age?.out_of_range, 2); // 18, 51
  assert.equal(age?.reference_min, 20);
  assert.equal(age?.reference_max, 50);
  assert.equal(age?.unseen, 0);

  const city = byName.get('city');
  assert.equal(city?.column_type, 'categorical');
  assert.equal(city?.missing, 1);
  assert.equal(city?.type_errors, 1); // 7 in a string column
  assert.equal(city?.unseen, 3); // paris twice, tokyo
  assert.deepEqual(city?.unseen_categories, ['paris', 'tokyo']);
  assert.equal(city?.out_of_range, 0);
  assert.equal(city?.reference_min, null);

  const flag = byName.get('flag');
  assert.equal(flag?.column_type, 'binary');
  assert.equal(flag?.unseen, 1);
  assert.equal(flag?.out_of_range, 1);

  const code = byName.get('code');
  assert.equal(code?.column_type, 'categorical');
  assert.deepEqual(code?.unseen_categories, [4, 1.5]);
  assert.equal(code?.out_of_range, 1);
  assert.doesNotMatch(JSON.stringify(report), /NaN|Infinity|null,"missing_share"/);
});

test('a missing column is reported with every row missing; extra columns are listed', () => {
  const report = dataQuality(reference, {
    age: [30, 31],
    city: ['oslo', 'rome'],
    flag: [0, 1],
    extra: [1, 2],
  });
  assert.deepEqual(report.missing_columns, ['code']);
  assert.deepEqual(report.extra_columns, ['extra']);
  const code = report.features.find((f) => f.name === 'code');
  assert.equal(code?.column_missing, true);
  assert.equal(code?.missing, 2);
  assert.equal(code?.missing_share, 1);
});

test('an empty window gives zero counts and zero shares, never NaN', () => {
  const report = dataQuality(reference, {});
  assert.equal(report.rows, 0);
  for (const f of report.features) {
    assert.equal(f.missing_share, 0);
    assert.equal(f.type_error_share, 0);
    assert.equal(f.out_of_range_share, 0);
  }
  assert.deepEqual(report.missing_columns, ['age', 'city', 'flag', 'code']);
});

test('an all-missing reference column has no type, range or categories to check against', () => {
  const report = dataQuality({ x: [null, Number.NaN], y: [1, 2] }, { x: [1, 'a'], y: [3, 4] });
  const x = report.features[0];
  assert.equal(x?.value_type, null);
  assert.equal(x?.type_errors, 0);
  assert.equal(x?.out_of_range, 0);
  assert.equal(x?.unseen, 0);
  assert.equal(x?.reference_min, null);
});

test('values that are neither numbers nor strings are type errors', () => {
  const current = { age: [true, { a: 1 }, 30] } as unknown as Columns;
  const report = dataQuality({ age: reference.age ?? [] }, current);
  assert.equal(report.features[0]?.type_errors, 2);
});

test('unseen categories are all counted but only the first few listed', () => {
  const many = Array.from({ length: 50 }, (_, i) => `c${i}`);
  const report = dataQuality({ c: ['a', 'b', 'c'] }, { c: many });
  assert.equal(report.features[0]?.unseen, 50);
  assert.equal(report.features[0]?.unseen_categories.length, UNSEEN_LISTED_MAX);
});

test('bad tables throw clear errors', () => {
  assert.throws(() => dataQuality({}, { a: [1] }), hasCode('TEND_INVALID_ARGUMENT'));
  assert.throws(() => dataQuality({ a: [] }, { a: [1] }), hasCode('TEND_INVALID_ARGUMENT'));
  assert.throws(() => dataQuality(reference, { age: [1, 2], city: ['a'] }), hasCode('TEND_INVALID_INPUT'));
  assert.throws(() => dataQuality(reference, [] as unknown as Columns), hasCode('TEND_INVALID_INPUT'));
});
