/**
 * The errors catalogue checked against the code and the README: every code has one HTTP status,
 * one gRPC status, a hint and a factory; every code is raised somewhere in src/; every code is in
 * the README's error table with its status; and errors are made by the factories only, so that a
 * code, its status and its wording stay in this one place.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_CATALOGUE, ERROR_CODES, TendError, errors, hintFor, type ErrorCode } from './errors.js';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..');
const README = join(SRC, '..', 'README.md');
const CODES = Object.keys(ERROR_CATALOGUE) as ErrorCode[];

/** The canonical gRPC error status names (grpc.status keys but OK). */
const GRPC_STATUS_NAMES = new Set<string>([
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
]);

/** True for test code, which may build errors any way it likes. */
function isTestFile(path: string): boolean {
  return /\.test\.ts$|\.test-helper\.ts$|\.case\.ts$/.test(path);
}

/** The source files of src/ (tests and the catalogue itself left out), by path relative to src/. */
function sourceFiles(): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts') && !isTestFile(name))
        files.set(relative(SRC, path).split(sep).join('/'), readFileSync(path, 'utf8'));
    }
  };
  walk(SRC);
  files.delete('core/errors.ts');
  return files;
}

/** The factories of each code, found by calling each factory (withCode takes any code and is left out). */
function factoriesByCode(): Map<ErrorCode, string[]> {
  const byCode = new Map<ErrorCode, string[]>();
  for (const [name, factory] of Object.entries(errors)) {
    if (name === 'withCode') continue;
    const made = (factory as (...args: unknown[]) => unknown)('x', 1);
    assert.ok(made instanceof TendError, `errors.${name} makes a TendError`);
    byCode.set(made.code, [...(byCode.get(made.code) ?? []), name]);
  }
  return byCode;
}

/** The README's error table: code → the HTTP status of its row. */
function readmeTable(): Map<string, number> {
  const text = readFileSync(README, 'utf8');
  const start = text.indexOf('| status | code | when |');
  assert.ok(start >= 0, 'README.md has the table "| status | code | when |"');
  const rows = text.slice(start).split('\n\n')[0]?.split('\n').slice(2) ?? [];
  const table = new Map<string, number>();
  for (const row of rows) {
    const [status, codes] = row.split('|').slice(1, 3);
    for (const code of codes?.match(/TEND_[A-Z_]+/g) ?? []) {
      assert.ok(!table.has(code), `${code} has one row in the README's error table`);
      table.set(code, Number(status?.trim()));
    }
  }
  return table;
}

test('every code maps to exactly one HTTP status and one gRPC status', () => {
  for (const code of CODES) {
    const entry = ERROR_CATALOGUE[code];
    assert.deepEqual(Object.keys(entry).sort(), ['grpc', 'hint', 'http'], code);
    assert.ok(
      Number.isInteger(entry.http) && entry.http >= 400 && entry.http < 600,
      `${code}: HTTP ${entry.http} is an error status`,
    );
    assert.ok(GRPC_STATUS_NAMES.has(entry.grpc), `${code}: ${entry.grpc} is a gRPC error status`);
    assert.equal(ERROR_CODES[code], entry.http, code);
    assert.equal(errors.withCode(code, 'm').status, entry.http, code);
  }
});

test('every code has a hint that says how to fix it; an error’s own hint wins', () => {
  for (const code of CODES) {
    const { hint } = ERROR_CATALOGUE[code];
    assert.ok(hint.length > 10, `${code} has a hint`);
    assert.doesNotMatch(hint, / — |\.$/, `${code}: the hint is the part after ' — ' of one CLI line`);
    assert.equal(hintFor(errors.withCode(code, 'm')), hint, code);
  }
  const userFacing = CODES.filter((code) => errors.withCode(code, 'm').isUserError);
  assert.ok(userFacing.includes('TEND_QUEUE_FULL') && userFacing.includes('TEND_INVALID_INPUT'));
  assert.equal(hintFor(errors.invalidArchive('bad', { hint: 'export it again' })), 'export it again');
});

test('every code has a factory, and the factories keep their fixed wording', () => {
  const byCode = factoriesByCode();
  for (const code of CODES) assert.ok(byCode.has(code), `${code} has a factory in errors`);
  assert.equal(errors.modelNotFound('iris').message, "model 'iris' not found");
  assert.equal(errors.versionNotFound('iris', 3).message, "model 'iris' has no version '3'");
  assert.equal(errors.aliasNotFound('iris', 'prod').message, "model 'iris' has no alias 'prod'");
  assert.equal(
    errors.aliasNotFound('iris', 'prod', 'routes[0]').message,
    "routes[0]: model 'iris' has no alias 'prod'",
  );
  assert.equal(errors.deploymentNotFound('iris').message, "'iris' has no deployment");
  assert.equal(
    errors.inferenceFailed('iris', 'bad shape').message,
    "inference on model 'iris' failed: bad shape",
  );
  const full = errors.queueFull('iris', 8);
  assert.equal(full.code, 'TEND_QUEUE_FULL');
  assert.equal(full.retryAfterSeconds, 1);
  assert.equal(
    errors.queueTimeout('iris', 2500).message,
    "request to model 'iris' timed out after 2.5 ms in the queue",
  );
  assert.equal(errors.unavailable('shutting down', 1).retryAfterSeconds, 1);
  assert.equal(errors.unavailable('closed').retryAfterSeconds, undefined);
  assert.equal(errors.rateLimited('slow down', 3).retryAfterSeconds, 3);
  const cause = new Error('inner');
  assert.equal(errors.invalidModel('not ONNX', cause).cause, cause);
  assert.equal(errors.internal('broken', { cause }).cause, cause);
});

test('every code is raised somewhere in src/', () => {
  const byCode = factoriesByCode();
  const text = [...sourceFiles().values()].join('\n');
  for (const code of CODES) {
    const names = byCode.get(code) ?? [];
    const used = text.includes(`'${code}'`) || names.some((name) => text.includes(`errors.${name}(`));
    assert.ok(used, `${code} is raised in src/ (as '${code}' or by errors.${names.join('/errors.')})`);
  }
});

test("every code is in the README's error table with its HTTP status", () => {
  const table = readmeTable();
  for (const code of CODES) {
    assert.ok(table.has(code), `${code} has a row in the README's error table`);
    assert.equal(table.get(code), ERROR_CATALOGUE[code].http, `${code}: the README gives its HTTP status`);
  }
  for (const code of table.keys())
    assert.ok(code in ERROR_CATALOGUE, `the README's ${code} is in the catalogue`);
});

test('no new TendError( outside core/errors.ts and tests: errors come from the factories', () => {
  const inline = [...sourceFiles()]
    .filter(([, text]) => text.includes('new TendError('))
    .map(([path]) => path);
  assert.deepEqual(inline, [], `use a factory of errors (core/errors.ts) in ${inline.join(', ')}`);
});
