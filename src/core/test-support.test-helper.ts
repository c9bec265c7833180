/**
 * What tests across the layers share: a temporary directory removed when the test ends, and an
 * assert.throws / assert.rejects matcher for TendError codes. It sits in core, the bottom layer,
 * so that a test of any layer (and the integration tests in test/) can import it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTendError } from './errors.js';

/** What tempDir needs of a test context (node:test's TestContext has it). */
export interface CleanupContext {
  after(fn: () => unknown): void;
}

/**
 * A new directory `tend-<prefix>-XXXXXX` in the system's temporary folder; removed after the test
 * when its context is given, else left to the caller.
 * @example test('x', (t) => { const dir = tempDir('archive', t); ... })
 */
export function tempDir(prefix: string, t?: CleanupContext): string {
  const dir = mkdtempSync(join(tmpdir(), `tend-${prefix}-`));
  t?.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * An assert.throws / assert.rejects validator: a TendError with `code`, and when given, a message
 * equal to the string or matching the pattern. A mismatch fails with the assertion that explains it.
 * @example assert.throws(() => parse(''), hasCode('TEND_INVALID_ARGUMENT', /empty/))
 */
export function hasCode(code: string, message?: string | RegExp): (err: unknown) => boolean {
  return (err: unknown): boolean => {
    assert.ok(isTendError(err), `expected a TendError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (typeof message === 'string') assert.equal(err.message, message);
    else if (message !== undefined) assert.match(err.message, message);
    return true;
  };
}

/** A deterministic pseudo-random stream in [0, 1) for test inputs (mulberry32). */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
