/**
 * Comparing actual outputs with a case's expected ones the way ONNX's backend tests do:
 * floats within rtol/atol (NaN equals NaN, infinities by sign), integers, booleans and strings exactly,
 * shapes and datatypes equal.
 */
import { halfBitsToFloat } from '../../src/core/fp16.js';
import type { Tensor } from '../../src/core/tensor.js';

export interface Tolerance {
  rtol: number;
  atol: number;
}

/** The tolerances of the acceptance criterion (those of ONNX's own backend test runner). */
export const DEFAULT_TOLERANCE: Tolerance = { rtol: 1e-3, atol: 1e-5 };

function floatsOf(t: Tensor): ArrayLike<number> | null {
  if (t.datatype === 'FP32' || t.datatype === 'FP64') return t.data as Float32Array | Float64Array;
  if (t.datatype === 'FP16') return Array.from(t.data as Uint16Array, halfBitsToFloat);
  return null;
}

function closeEnough(actual: number, expected: number, tol: Tolerance): boolean {
  if (Number.isNaN(expected)) return Number.isNaN(actual);
  if (!Number.isFinite(expected)) return actual === expected;
  return Math.abs(actual - expected) <= tol.atol + tol.rtol * Math.abs(expected);
}

function shown(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** The first difference between one actual tensor and its expected one, or null when they agree. */
export function tensorDifference(
  actual: Tensor,
  expected: Tensor,
  tol: Tolerance = DEFAULT_TOLERANCE,
): string | null {
  const what = `output '${expected.name}'`;
  if (actual.datatype !== expected.datatype)
    return `${what}: datatype ${actual.datatype}, expected ${expected.datatype}`;
  if (actual.shape.length !== expected.shape.length || actual.shape.some((d, i) => d !== expected.shape[i])) {
    return `${what}: shape [${actual.shape.join(', ')}], expected [${expected.shape.join(', ')}]`;
  }
  if (actual.data.length !== expected.data.length) {
    return `${what}: ${actual.data.length} elements, expected ${expected.data.length}`;
  }
  const a = floatsOf(actual);
  const e = floatsOf(expected);
  if (a !== null && e !== null) {
    let bad = 0;
    let first = -1;
    for (let i = 0; i < e.length; i++) {
      if (!closeEnough(a[i] as number, e[i] as number, tol)) {
        bad += 1;
        if (first < 0) first = i;
      }
    }
    if (bad === 0) return null;
    return `${what}: ${bad} of ${e.length} elements differ beyond rtol ${tol.rtol} / atol ${tol.atol}, first at ${first}: ${a[first]} vs ${e[first]}`;
  }
  // Integers (bigint for 64-bit), booleans as 0/1 bytes, strings: exact.
  const ad = actual.data as ArrayLike<unknown>;
  const ed = expected.data as ArrayLike<unknown>;
  for (let i = 0; i < ed.length; i++) {
    if (ad[i] !== ed[i]) return `${what}: element ${i} is ${shown(ad[i])}, expected ${shown(ed[i])}`;
  }
  return null;
}

/**
 * The differences between a run's outputs and the expected ones, matched by name; [] when they agree.
 * An output missing from `actual` is a difference; extra outputs are ignored.
 */
export function compareOutputs(
  actual: readonly Tensor[],
  expected: readonly Tensor[],
  tol: Tolerance = DEFAULT_TOLERANCE,
): string[] {
  const byName = new Map(actual.map((t) => [t.name, t]));
  const diffs: string[] = [];
  for (const want of expected) {
    const got = byName.get(want.name);
    if (got === undefined) diffs.push(`output '${want.name}' is missing`);
    else {
      const diff = tensorDifference(got, want, tol);
      if (diff !== null) diffs.push(diff);
    }
  }
  return diffs;
}
