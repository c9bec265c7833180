import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoadFigure } from './http-load.js';
import type { BenchResults, TargetRow } from './report.js';
import {
  readResultsFile,
  resultsFileOf,
  resultsFileText,
  resultsPathFor,
  section1Figure,
  targetRowOf,
} from './results-file.js';

function figure(connections: number, requestsPerSecond: number): LoadFigure {
  return { connections, runs: [], requestsPerSecond, p50Ms: 1, p99Ms: 2, failures: 0, meanBatchSize: null };
}

const bench: BenchResults = {
  machine: {
    cpuModel: 'Test CPU',
    cores: 2,
    memoryGiB: 4,
    node: 'v20.20.0',
    onnxruntime: '1.30.0',
    tend: '0.1.0',
    wrk: '4.1.0',
    busyCoresAtStart: 0,
    int8Extensions: 'none',
  },
  settings: {
    quick: false,
    runs: 3,
    durationSeconds: 8,
    warmupSeconds: 2,
    computeSecondsPerRun: 2,
    command: 'npm run bench',
  },
  date: new Date('2026-12-07T22:00:00.123Z'),
  elapsedSeconds: 1950,
  digits: {
    data: { figures: [figure(1, 2291.6), figure(8, 9131.2), figure(32, 12409.4)], testAccuracy: 0.97 },
  },
};

const rows: TargetRow[] = [
  {
    name: 'a',
    figure: '1,000',
    baseline: '2,000 (b)',
    ratio: 0.5,
    target: '≥ 0.70',
    verdict: 'FAIL',
    note: '',
  },
  {
    name: 'c',
    figure: '—',
    baseline: '—',
    ratio: Number.NaN,
    target: '≤ 1.10',
    verdict: 'NOT RUN',
    note: 'why',
  },
];

test('resultsFileOf: the run, every targets row with its commit and date, section 1 figures', () => {
  const file = resultsFileOf(bench, rows, { commit: 'abc1234', dirty: false });
  assert.deepEqual(file.run, {
    date: '2026-12-07T22:00:00Z',
    commit: 'abc1234',
    dirty: false,
    command: 'npm run bench',
    minutes: 32.5,
    machine: 'Test CPU, 2 cores, 4.0 GiB memory',
    quick: false,
  });
  assert.equal(file.rows.length, 2);
  assert.equal(file.rows[1]?.ratio, null, 'NaN (shown as —) becomes null');
  assert.equal(file.rows[0]?.commit, 'abc1234');
  assert.equal(file.rows[0]?.date, '2026-12-07T22:00:00Z');
  assert.deepEqual(
    file.rows.map(targetRowOf).map((r) => ({ ...r, ratio: String(r.ratio) })),
    rows.map((r) => ({ ...r, ratio: String(r.ratio) })),
    'rows come back as they went in',
  );
  assert.equal(section1Figure(file, 32), 12409);
  assert.equal(section1Figure(file, 16), null);
  assert.deepEqual(
    resultsFileOf({ ...bench, digits: { error: 'x' } }, rows, { commit: 'a', dirty: true }).digitsOverJson,
    [],
  );
});

test('resultsFileText and readResultsFile: a round trip; a wrong file is refused with the field named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tend-results-'));
  const path = join(dir, 'BENCHMARKS.json');
  const file = resultsFileOf(bench, rows, { commit: 'abc1234', dirty: true });
  const text = resultsFileText(file);
  assert.ok(text.endsWith('}\n') && text.includes('\n  "run": {\n'), 'two-space JSON, final newline');
  writeFileSync(path, text);
  assert.deepEqual(readResultsFile(path), file);
  writeFileSync(path, JSON.stringify({ ...file, rows: [{ ...file.rows[0], verdict: 'MAYBE' }] }));
  assert.throws(() => readResultsFile(path), /is not a bench results file: rows\.0\.verdict/);
  writeFileSync(path, '{ not json');
  assert.throws(() => readResultsFile(path), /cannot read .*BENCHMARKS\.json/);
});

test('resultsPathFor: the JSON beside the markdown report', () => {
  assert.equal(resultsPathFor('/repo/BENCHMARKS.md'), '/repo/BENCHMARKS.json');
  assert.equal(resultsPathFor('/tmp/tend-benchmarks-1.md'), '/tmp/tend-benchmarks-1.json');
  assert.equal(resultsPathFor('/tmp/report'), '/tmp/report.json');
});
