import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isValidAliasName, isValidModelName, parseVersionRef } from './names.js';

test('parseVersionRef: numbers, latest, aliases, and nothing else', () => {
  assert.deepEqual(parseVersionRef('3'), { kind: 'number', version: 3 });
  assert.deepEqual(parseVersionRef('012'), { kind: 'number', version: 12 });
  assert.deepEqual(parseVersionRef('latest'), { kind: 'latest' });
  assert.deepEqual(parseVersionRef('LATEST'), { kind: 'latest' });
  assert.deepEqual(parseVersionRef('champion'), { kind: 'alias', alias: 'champion' });
  for (const bad of ['', '1.5', '-1', 'a b', '_x', 'x/y']) {
    assert.throws(() => parseVersionRef(bad), { code: 'TEND_INVALID_ARGUMENT' }, bad);
  }
});

test('name rules', () => {
  assert.ok(isValidModelName('resnet-50.v2_int8'));
  assert.ok(!isValidModelName('a..b'));
  assert.ok(!isValidModelName('.a'));
  assert.ok(isValidAliasName('champion'));
  assert.ok(!isValidAliasName('latest'));
  assert.ok(!isValidAliasName('12'));
  assert.ok(!isValidAliasName('infinity'));
});
