import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DURATION_GRAMMAR, parseDuration } from './duration.js';
import { hasCode } from './test-support.test-helper.js';

test('one part: a number and a unit, decimals allowed', () => {
  const cases: [string, number][] = [
    ['0s', 0],
    ['500ms', 500],
    ['30s', 30_000],
    ['1.5s', 1500],
    ['1.1s', 1100],
    ['.5s', 500],
    ['2m', 120_000],
    ['2h', 7_200_000],
    ['1.5h', 5_400_000],
    ['2d', 172_800_000],
    ['1w', 604_800_000],
    [' 10s ', 10_000],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
});

test('compound forms, largest unit first', () => {
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('2d12h'), 216_000_000);
  assert.equal(parseDuration('1s500ms'), 1500);
  assert.equal(parseDuration('1w1d1h1m1s1ms'), 694_861_001);
  assert.equal(parseDuration('1m0.5s'), 60_500);
});

test('anything else is refused showing the grammar', () => {
  const bad = [
    '',
    ' ',
    '5',
    's',
    'ms',
    '-1s',
    '+1s',
    '1 h',
    '1hour',
    '10x',
    'h1',
    '1e3s',
    '1.s',
    '1..5s',
    '30s1m',
    '1m1m',
    '1s 500ms',
    '1h30',
    '0x10s',
    'Infinitys',
  ];
  for (const text of bad) {
    assert.throws(
      () => parseDuration(text),
      hasCode('TEND_INVALID_ARGUMENT', `'${text}' is not a duration: ${DURATION_GRAMMAR}`),
      JSON.stringify(text),
    );
  }
  assert.throws(
    () => parseDuration('1h x', { what: 'window' }),
    hasCode('TEND_INVALID_ARGUMENT', /^window '1h x' is not a duration: write a number and a unit/),
  );
  assert.throws(
    () => parseDuration('0.5ms'),
    hasCode('TEND_INVALID_ARGUMENT', "'0.5ms' is not a whole number of milliseconds"),
  );
  assert.throws(
    () => parseDuration('99999999999w'),
    hasCode('TEND_INVALID_ARGUMENT', "'99999999999w' is too long"),
  );
});

test('a plain number is seconds only where asked (command-line flags)', () => {
  assert.equal(parseDuration('10', { plainSeconds: true }), 10_000);
  assert.equal(parseDuration('0.25', { plainSeconds: true }), 250);
  assert.equal(parseDuration('1m', { plainSeconds: true }), 60_000);
  assert.throws(
    () => parseDuration('10', { what: '--duration' }),
    hasCode('TEND_INVALID_ARGUMENT', /^--duration '10' is not a duration/),
  );
  assert.throws(
    () => parseDuration('ten', { what: '--duration', plainSeconds: true }),
    hasCode('TEND_INVALID_ARGUMENT', /; a plain number is seconds$/),
  );
});

test('a minimum: zero refused where a duration must be positive, or a floor in ms', () => {
  assert.equal(parseDuration('0s'), 0);
  assert.throws(
    () => parseDuration('0s', { what: '--duration', minMs: 1 }),
    hasCode('TEND_INVALID_ARGUMENT', "--duration '0s' must be longer than zero"),
  );
  assert.throws(
    () => parseDuration('0', { minMs: 1, plainSeconds: true }),
    hasCode('TEND_INVALID_ARGUMENT', "'0' must be longer than zero"),
  );
  assert.throws(
    () => parseDuration('10ms', { minMs: 100 }),
    hasCode('TEND_INVALID_ARGUMENT', "'10ms' is too short: at least 100 ms"),
  );
  assert.equal(parseDuration('100ms', { minMs: 100 }), 100);
});
