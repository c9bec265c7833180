import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateSoak, type SoakWindow } from './soak-checks.js';
import { SOAK_END, SOAK_START, soakMarkdown, withSoakBlock, type SoakMeta } from './soak-report.js';

const MiB = 2 ** 20;
const windows: SoakWindow[] = Array.from({ length: 12 }, (_, i) => ({
  atSeconds: (i + 1) * 10,
  requestsPerSecond: i === 11 ? 9000 : 8000,
  p50Ms: 1,
  p99Ms: 10,
  failures: 0,
  rssBytes: 400 * MiB,
  fds: 40,
}));
const meta: SoakMeta = {
  minutes: 2,
  date: new Date('2026-12-07T22:00:00Z'),
  machine: '2 × Test CPU',
  connections: 32,
  loadConnections: 256,
  windowSeconds: 10,
  capacity: { perSecond: 10_000, runsPerSecond: [9800, 10_000, 10_300], runSeconds: 8, warmupSeconds: 2 },
  targetPerSecond: 8000,
  section1: { perSecond: 10_400, date: '2026-11-26T05:39:41Z' },
};

test('soakMarkdown: the capacity and its runs, the load per window, the checks, the result, every window', () => {
  const evaluation = evaluateSoak(windows, 10_000, 10_400);
  const text = soakMarkdown(windows, evaluation, meta);
  assert.ok(text.startsWith(SOAK_START) && text.endsWith(SOAK_END));
  assert.match(
    text,
    /\*\*Capacity: 10,000 req\/s\*\*, the median of 3 wrk runs of 8 s \(9,800, 10,000, 10,300 req\/s\)/,
  );
  assert.match(text, /one wrk at a time \(1 thread, 32 connections, unthrottled\)/);
  assert.match(text, /each a wrk run \(1 thread, 256 connections\)/);
  assert.match(text, /read 10,400 req\/s at 32 connections/);
  assert.match(text, /min 80\.0%, median 80\.0%, max 90\.0% of the capacity/);
  assert.match(text, /Windows 1–2 are warm-up/);
  assert.match(text, /windows 3–5 \(first after warm-up\) with the median of windows 10–12 \(last\)/);
  assert.match(
    text,
    /\| load of every window, share of the capacity \| min 80\.0% \| max 90\.0% \| median 80\.0%; 1 of 12 outside \| 75\.0%–85\.0% \| \*\*FAIL\*\* \|/,
  );
  assert.match(text, /\*\*Result: FAIL\*\* \(load of every window, share of the capacity\)/);
  assert.match(
    text,
    /\| 1 \| 10 s \| 8,000 \| 80\.0% \| 1\.00 ms \| 10\.00 ms \| 400\.0 MiB \| 40 \| warm-up \|/,
  );
  assert.match(text, /\| 12 \| 120 s \| 9,000 \| 90\.0% \|.*\| last \|/);
  assert.equal(
    text.split('\n').filter((l) => /^\| \d+ \| \d+ s \|/.test(l)).length,
    12,
    'one row per window',
  );
});

test('soakMarkdown: a run with no section 1 figure says so and can still pass', () => {
  const calm = windows.map((w) => ({ ...w, requestsPerSecond: 8000 }));
  const evaluation = evaluateSoak(calm, 10_000, null);
  const text = soakMarkdown(calm, evaluation, { ...meta, section1: null });
  assert.match(text, /holds no section 1 figure/);
  assert.match(text, /\*\*NOT RUN\*\*/);
  assert.match(text, /\*\*Result: PASS\*\*/);
});

test('withSoakBlock: replaces the block between the markers, or appends one', () => {
  const block = `${SOAK_START}\nnew\n${SOAK_END}`;
  assert.equal(
    withSoakBlock(`# B\n\n${SOAK_START}\nold\n${SOAK_END}\ntail\n`, block),
    `# B\n\n${block}\ntail\n`,
  );
  assert.equal(withSoakBlock('# B\n', block), `# B\n\n${block}\n`);
});
