/** Rows and temporary files for the prediction log tests. */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { PredictionLog, type PredictionLogOptions } from './prediction-log.js';
import type { PredictionRow } from './prediction-log-types.js';
import { tempDir } from '../core/test-support.test-helper.js';

/** A classifier row with three features and three class scores; override any field. */
export function predictionRow(overrides: Partial<PredictionRow> = {}): PredictionRow {
  return {
    requestId: 'req-1',
    row: 0,
    model: 'iris',
    version: 1,
    route: 'direct',
    timeMs: Date.now(),
    latencyMs: 2.5,
    features: new Float32Array([5.1, 3.5, 1.4]),
    featureSummary: null,
    predictedClass: 0,
    probabilities: new Float32Array([0.8, 0.15, 0.05]),
    value: null,
    ...overrides,
  };
}

/** A fresh directory for one test's monitor.db, removed after the test. */
export function tempDbPath(t: TestContext, name = 'monitor.db'): string {
  const dir = tempDir('prediction-log');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, name);
}

/** Open a log in a fresh directory; after the test it is closed (if still open) and the directory removed. */
export function openTestLog(
  t: TestContext,
  options: Omit<PredictionLogOptions, 'path'> = {},
): { log: PredictionLog; path: string } {
  const dir = tempDir('prediction-log');
  const path = join(dir, 'monitor.db');
  const log = PredictionLog.open({ path, ...options });
  t.after(async () => {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { log, path };
}

/** True when the bytes of monitor.db or of its WAL hold `value` as a little-endian float32. */
export function filesHoldFloat32(path: string, value: number): boolean {
  const needle = Buffer.alloc(4);
  needle.writeFloatLE(value);
  return [path, `${path}-wal`].some((file) => existsSync(file) && readFileSync(file).includes(needle));
}
