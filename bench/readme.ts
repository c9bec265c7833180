/**
 * `npm run bench:readme`: rewrite README's benchmark table (between its markers) from
 * BENCHMARKS.json. `npm run bench` calls it after writing the real BENCHMARKS.md; run it by hand
 * after editing BENCHMARKS.json's rows or the table's layout. `--check` only says whether README is
 * up to date (exit 1 when not).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readResultsFile } from './results-file.js';
import { renderReadmeTable, replaceBetweenMarkers } from './readme-table.js';

const ROOT = resolve(import.meta.dirname, '..');
export const README_PATH = join(ROOT, 'README.md');
export const RESULTS_PATH = join(ROOT, 'BENCHMARKS.json');

/** Rewrite the table in `readmePath` from `resultsPath`; returns whether the file changed. */
export function updateReadme(resultsPath = RESULTS_PATH, readmePath = README_PATH): boolean {
  const before = readFileSync(readmePath, 'utf8');
  const after = replaceBetweenMarkers(before, renderReadmeTable(readResultsFile(resultsPath)));
  if (after !== before) writeFileSync(readmePath, after);
  return after !== before;
}

function main(): number {
  const { values } = parseArgs({
    options: {
      check: { type: 'boolean', default: false },
      results: { type: 'string' },
      readme: { type: 'string' },
    },
  });
  const resultsPath = resolve(values.results ?? RESULTS_PATH);
  const readmePath = resolve(values.readme ?? README_PATH);
  if (values.check) {
    const text = readFileSync(readmePath, 'utf8');
    const fresh = replaceBetweenMarkers(text, renderReadmeTable(readResultsFile(resultsPath)));
    if (fresh === text) return 0;
    process.stderr.write(
      `error: ${readmePath}'s benchmark table differs from ${resultsPath} — run npm run bench:readme\n`,
    );
    return 1;
  }
  const changed = updateReadme(resultsPath, readmePath);
  process.stdout.write(
    `${changed ? 'rewrote' : 'unchanged:'} the benchmark table of ${readmePath} from ${resultsPath}\n`,
  );
  return 0;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  try {
    process.exit(main());
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message} — fix README.md's markers or BENCHMARKS.json\n`);
    process.exit(1);
  }
}
