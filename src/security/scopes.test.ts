import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TendError } from '../core/errors.js';
import { SCOPES, grants, modelGlobMatches, parseModelGlobs, parseScopes, type Scope } from './scopes.js';

function rejectsWith(fn: () => unknown, code: string, pattern?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof TendError, `expected a TendError, got ${String(err)}`);
    assert.equal(err.code, code);
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}

test('parseScopes reads comma lists in any case and order, without duplicates', () => {
  assert.deepEqual(parseScopes('read'), ['read']);
  assert.deepEqual(parseScopes('infer, READ ,infer'), ['read', 'infer']);
  assert.deepEqual(parseScopes('admin,deploy,feedback,infer,read'), [...SCOPES]);
});

test('parseScopes names an unknown scope and lists the valid ones', () => {
  rejectsWith(
    () => parseScopes('read,wirte'),
    'TEND_INVALID_ARGUMENT',
    /unknown scope 'wirte'; valid scopes: read, infer, feedback, deploy, admin/,
  );
  rejectsWith(() => parseScopes(''), 'TEND_INVALID_ARGUMENT', /no scopes given/);
  rejectsWith(() => parseScopes(' , '), 'TEND_INVALID_ARGUMENT', /no scopes given/);
  rejectsWith(() => parseScopes('read,,infer'), 'TEND_INVALID_ARGUMENT', /empty scope/);
  rejectsWith(() => parseScopes('read infer'), 'TEND_INVALID_ARGUMENT', /unknown scope/);
});

test('parseScopes does not echo a value that could be a secret', () => {
  const secret = 'tend_' + 'a'.repeat(43);
  rejectsWith(() => parseScopes(secret), 'TEND_INVALID_ARGUMENT', /\(value not shown\)/);
  assert.throws(
    () => parseScopes(`read,${'x'.repeat(40)}`),
    (err: Error) => !err.message.includes('x'.repeat(25)),
  );
});

test('grants: each scope grants itself, admin everything, deploy also read, nothing else implied', () => {
  const table: Array<[Scope, Scope[]]> = [
    ['read', ['read']],
    ['infer', ['infer']],
    ['feedback', ['feedback']],
    ['deploy', ['deploy', 'read']],
    ['admin', [...SCOPES]],
  ];
  for (const [held, allowed] of table) {
    for (const needed of SCOPES) {
      assert.equal(grants([held], needed), allowed.includes(needed), `${held} → ${needed}`);
    }
  }
  assert.equal(grants([], 'read'), false);
  assert.equal(grants(['infer', 'feedback'], 'feedback'), true);
  assert.equal(grants(['infer', 'feedback'], 'read'), false);
});

test('modelGlobMatches: null or empty globs allow every model, even odd names', () => {
  assert.equal(modelGlobMatches(null, 'anything'), true);
  assert.equal(modelGlobMatches([], 'x'), true);
  assert.equal(modelGlobMatches(null, '../etc'), true);
});

test('modelGlobMatches: * and ? anchored at both ends', () => {
  const cases: Array<[string, string, boolean]> = [
    ['fraud-*', 'fraud-v2', true],
    ['fraud-*', 'fraud-', true],
    ['fraud-*', 'fraud', false],
    ['fraud-*', 'xfraud-v2', false],
    ['*-prod', 'churn-prod', true],
    ['*-prod', 'churn-prod-2', false],
    ['model-?', 'model-1', true],
    ['model-?', 'model-12', false],
    ['model-?', 'model-', false],
    ['*', 'x', true],
    ['a*b*c', 'aXXbYYc', true],
    ['a*b*c', 'abcbc', true],
    ['a*b*c', 'acb', false],
    ['**', 'z', true],
    ['exact', 'exact', true],
    ['exact', 'Exact', false],
    ['exact', 'exactly', false],
    ['v1.0', 'v1.0', true],
    ['v1.0', 'v1x0', false], // '.' is literal, not "any character"
    ['a.*', 'a.b.c', true],
    ['*.onnx', 'model.onnx', true],
    ['?*', 'a', true],
    ['?*', '', false],
  ];
  for (const [glob, name, expected] of cases) {
    assert.equal(modelGlobMatches([glob], name), expected, `${glob} ~ ${name}`);
  }
  assert.equal(modelGlobMatches(['x-*', 'y'], 'y'), true);
  assert.equal(modelGlobMatches(['x-*', 'y'], 'z'), false);
});

test('modelGlobMatches: regex metacharacters in names or globs are plain characters', () => {
  assert.equal(modelGlobMatches(['a+'], 'aa'), false);
  assert.equal(modelGlobMatches(['(a|b)'], 'a'), false);
  assert.equal(modelGlobMatches(['[ab]'], 'a'), false);
});

test('modelGlobMatches: a restricted token never matches names the registry refuses', () => {
  for (const name of [
    '../secret',
    'fraud-../x',
    'fraud-..',
    'fraud-a/b',
    '',
    '.hidden',
    'fraud-\n',
    'x'.repeat(129),
  ]) {
    assert.equal(modelGlobMatches(['*'], name), false, JSON.stringify(name));
    assert.equal(modelGlobMatches(['fraud-*'], name), false, JSON.stringify(name));
  }
});

test('modelGlobMatches stays quick on adversarial patterns', () => {
  const glob = '*a*a*a*a*a*a*a*a*b';
  assert.equal(modelGlobMatches([glob], 'a'.repeat(128)), false);
});

test('parseModelGlobs validates and deduplicates; empty means every model', () => {
  assert.deepEqual(parseModelGlobs('fraud-*, churn ,fraud-*'), ['fraud-*', 'churn']);
  assert.equal(parseModelGlobs(''), null);
  assert.equal(parseModelGlobs(' , '), null);
  rejectsWith(() => parseModelGlobs('a/b'), 'TEND_INVALID_ARGUMENT', /invalid model glob 'a\/b'/);
  rejectsWith(() => parseModelGlobs('fraud-[0-9]'), 'TEND_INVALID_ARGUMENT', /invalid model glob/);
  rejectsWith(() => parseModelGlobs('x'.repeat(129)), 'TEND_INVALID_ARGUMENT', /value not shown/);
});

test('parseModelGlobs takes at most 64 globs', () => {
  assert.equal(parseModelGlobs(Array.from({ length: 64 }, (_, i) => `m${i}`).join(','))?.length, 64);
  rejectsWith(
    () => parseModelGlobs(Array.from({ length: 65 }, (_, i) => `m${i}`).join(',')),
    'TEND_INVALID_ARGUMENT',
    /^65 model globs; the limit is 64$/,
  );
});
