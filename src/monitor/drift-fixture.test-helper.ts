/**
 * Reads fixtures/monitor/drift.json (SciPy's values, made by scripts/fixtures/drift_stats.py) and
 * regenerates the samples it describes by spec instead of storing them: a 32-bit xorshift stream
 * whose values are exact binary fractions, so both languages produce the same numbers bit for bit.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import type { CellValue } from './drift-columns.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/monitor/drift.json', import.meta.url));

/** A generated sample: shift + scale * v with v a bell on [0, 1) (or floor(v * levels)). */
export interface SampleSpec {
  seed: number;
  n: number;
  shift?: number;
  scale?: number;
  levels?: number;
  missing_every?: number;
}

export type FixtureColumn = SampleSpec | CellValue[];

/** The values of a spec, as the Python script's `sample` makes them. */
export function sample(spec: SampleSpec): (number | null)[] {
  let x = spec.seed >>> 0;
  const next = (): number => {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    return x;
  };
  const out: (number | null)[] = [];
  for (let i = 0; i < spec.n; i++) {
    let v = ((next() >>> 16) + (next() >>> 16) + (next() >>> 16) + (next() >>> 16)) / 2 ** 18;
    if (spec.levels !== undefined) v = Math.floor(v * spec.levels);
    const value = (spec.shift ?? 0) + (spec.scale ?? 1) * v;
    out.push(spec.missing_every !== undefined && (i + 1) % spec.missing_every === 0 ? null : value);
  }
  return out;
}

/** A fixture column: explicit values or a spec. */
export function column(values: FixtureColumn): CellValue[] {
  return Array.isArray(values) ? values : sample(values);
}

/** A fixture column's present numbers. */
export function numbers(values: FixtureColumn): number[] {
  return column(values).filter((v): v is number => typeof v === 'number');
}

let cached: unknown;

/** The parsed fixture file. */
export function driftFixture<T>(): T {
  cached ??= JSON.parse(readFileSync(FIXTURE, 'utf8'));
  return cached as T;
}

/** |actual - expected| <= 1e-6 * max(1, |expected|): absolute for p-values, relative for large statistics. */
export function assertClose(
  actual: number | null,
  expected: number | null,
  what: string,
  tolerance = 1e-6,
): void {
  if (expected === null || actual === null) {
    assert.equal(actual, expected, what);
    return;
  }
  assert.ok(Number.isFinite(actual), `${what}: ${actual} is not finite`);
  const error = Math.abs(actual - expected);
  assert.ok(
    error <= tolerance * Math.max(1, Math.abs(expected)),
    `${what}: ${actual} vs SciPy ${expected} (error ${error})`,
  );
}
