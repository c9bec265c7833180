/**
 * `tend report` end to end: the digits fixture model, the even rows of the data set as reference and
 * the odd rows with 8 shifted pixel columns as current. The HTML page is whole on its own, flags the
 * features detectDrift flags, and gives the verdicts the monitor API gives for the same rows sent to
 * a server; mismatched columns fail with a clear message and leave no file.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { detectDrift, type Columns } from '../src/monitor/drift.js';
import { Registry } from '../src/registry/index.js';
import { readNumericCsv } from '../src/train/csv.js';
import {
  FIXTURE_MODELS,
  ROOT,
  getJson,
  postJson,
  startTestServer,
  tempDir,
  runCli,
  type CliResult,
} from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const SHIFTED = [18, 19, 20, 21, 26, 27, 28, 29];

const table = readNumericCsv(join(ROOT, 'assets', 'datasets', 'digits.csv'));
const width = table.columns.length - 1;
const featureNames = table.columns.slice(0, width);
// Pixels / 16 (what the fixture model takes); shifted values stay multiples of 1/16, exact in float32.
const pixels = (r: number, shift: boolean): number[] =>
  Array.from({ length: width }, (_, c) => {
    const p = (table.values[r * table.columns.length + c] as number) / 16;
    return shift && SHIFTED.includes(c) ? Math.min(1, p + 0.5) : p;
  });
const digit = (r: number): number => table.values[r * table.columns.length + width] as number;
const rowsOf = (parity: number): number[] =>
  Array.from({ length: table.rows }, (_, r) => r).filter((r) => r % 2 === parity);

function csv(rows: number[], shift: boolean, header = table.columns): string {
  return `${[header.join(','), ...rows.map((r) => [...pixels(r, shift), digit(r)].join(','))].join('\n')}\n`;
}

function columns(rows: number[], shift: boolean): Columns {
  return Object.fromEntries(
    featureNames.map((name, c) => [name, rows.map((r) => pixels(r, shift)[c] as number)]),
  );
}

let dir: string;
let home: string;

const tend = (...args: string[]): CliResult => runCli(args, { home });

interface ReportJson {
  model: string;
  labelled: number;
  quality: { accuracy: number; confusion_matrix: number[][] };
  drift: {
    dataset_drift: boolean;
    features: { name: string; drifted: boolean }[];
    prediction: { drifted: boolean } | null;
  };
}

const drifted = (d: { features: { name: string; drifted: boolean }[] }): string[] =>
  d.features
    .filter((f) => f.drifted)
    .map((f) => f.name)
    .sort();

/** The data-feature names of the drift table's rows flagged data-drifted="true". */
function htmlDrifted(html: string): string[] {
  const start = html.indexOf('<table data-testid="drift-table"');
  const part = html.slice(start, html.indexOf('</table>', start));
  return [...part.matchAll(/<tr data-feature="([^"]*)" data-drifted="true"/g)]
    .map((m) => m[1] as string)
    .sort();
}

describe('tend report', () => {
  let report: ReportJson;
  let html: string;

  before(async () => {
    dir = tempDir('cli-report');
    home = join(dir, 'home');
    writeFileSync(join(dir, 'reference.csv'), csv(rowsOf(0), false));
    writeFileSync(join(dir, 'current.csv'), csv(rowsOf(1), true));
    const registry = await Registry.open(home);
    await registry.models.push(join(FIXTURE_MODELS, 'digits_mlp.onnx'), { name: 'digits' });
    // The same reference for the server, to compare the report with the monitor API.
    await registry.artifacts.attach('digits', 1, 'reference', readFileSync(join(dir, 'reference.csv')), {
      mediaType: 'text/csv',
    });
    await registry.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('writes one self-contained page whose drifted features are those of --json and of detectDrift', () => {
    const out = join(dir, 'report.html');
    const r = tend(
      'report',
      'digits',
      '--reference',
      join(dir, 'reference.csv'),
      '--current',
      join(dir, 'current.csv'),
      '--labels',
      '--out',
      out,
      '--json',
    );
    assert.equal(r.status, 0, r.stderr);
    report = JSON.parse(r.stdout) as ReportJson;
    assert.match(r.stderr, /report written to .*report\.html/);
    assert.ok(existsSync(out));
    html = readFileSync(out, 'utf8');
    assert.doesNotMatch(html, /(?:src|href)\s*=\s*["']?\s*(?:https?:)?\/\//i);
    assert.doesNotMatch(html, /https?:\/\//i);

    const expected = detectDrift(columns(rowsOf(0), false), columns(rowsOf(1), true));
    assert.deepEqual(drifted(report.drift), drifted(expected));
    assert.deepEqual(htmlDrifted(html), drifted(expected));
    for (const c of SHIFTED)
      assert.ok(drifted(report.drift).includes(featureNames[c] as string), featureNames[c]);
    assert.equal(report.labelled, rowsOf(1).length);
    assert.ok(
      report.quality.accuracy > 0.3 && report.quality.accuracy < 0.97,
      `accuracy ${report.quality.accuracy}`,
    );
    assert.equal(report.quality.confusion_matrix.length, 10);
    assert.match(html, /data-testid="confusion-matrix"/);
  });

  test('gives the verdicts of the monitor API for the same rows', async () => {
    const srv = await startTestServer({ home });
    try {
      const rows = rowsOf(1);
      for (let start = 0; start < rows.length; start += 100) {
        await Promise.all(
          Array.from({ length: Math.ceil(Math.min(100, rows.length - start) / 10) }, async (_, k) => {
            const part = rows.slice(start + k * 10, start + k * 10 + 10);
            const id = `report-${start + k * 10}`;
            const data = part.flatMap((r) => pixels(r, true));
            const res = await postJson(`${srv.url}/v2/models/digits/infer`, {
              id,
              inputs: [{ name: 'pixels', datatype: 'FP32', shape: [part.length, width], data }],
            });
            assert.equal(res.status, 200, JSON.stringify(res.body));
            const fb = await postJson(`${srv.url}/v2/models/digits/feedback`, {
              feedback: part.map((r, row) => ({ id, row, label: digit(r) })),
            });
            assert.equal(fb.body['accepted'], part.length, JSON.stringify(fb.body));
          }),
        );
      }
      const view = (await getJson(`${srv.url}/v2/models/digits/monitor?last=${rows.length}`))
        .body as unknown as ReportJson & { predictions: number };
      assert.equal(view.predictions, rows.length);
      assert.deepEqual(drifted(view.drift), drifted(report.drift));
      assert.equal(view.drift.dataset_drift, report.drift.dataset_drift);
      assert.equal(view.drift.prediction?.drifted, report.drift.prediction?.drifted);
      assert.equal(view.quality.accuracy, report.quality.accuracy);
      assert.deepEqual(view.quality.confusion_matrix, report.quality.confusion_matrix);
    } finally {
      await srv.close();
    }
  });

  // Real browser, as the dashboard's tests: missing Chromium fails (apt-get install chromium) unless
  // TEND_SKIP_BROWSER=1.
  test(
    'opens from a file:// URL in Chromium with no network and shows the drifted features',
    { skip: process.env['TEND_SKIP_BROWSER'] === '1' && 'TEND_SKIP_BROWSER=1' },
    async () => {
      assert.ok(
        existsSync(CHROMIUM),
        `${CHROMIUM} is missing: apt-get install chromium (or set TEND_SKIP_BROWSER=1)`,
      );
      const { chromium } = await import('playwright-core');
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
      try {
        const context = await browser.newContext({ offline: true });
        const page = await context.newPage();
        const requested: string[] = [];
        page.on('request', (req) => requested.push(req.url()));
        const url = pathToFileURL(join(dir, 'report.html')).href;
        await page.goto(url);
        const shown = await page.$$eval('[data-testid="drift-table"] tr[data-drifted="true"]', (trs) =>
          trs.map((tr) => tr.getAttribute('data-feature') ?? '').sort(),
        );
        assert.deepEqual(shown, drifted(report.drift));
        assert.deepEqual(requested, [url]);
        // The filter hides the features that did not drift.
        await page.check('label input[type="checkbox"]');
        assert.equal(
          await page.locator('[data-testid="drift-table"] tbody tr:visible').count(),
          shown.length,
        );
      } finally {
        await browser.close();
      }
    },
  );

  test('mismatched columns: a clear error and no file', () => {
    const names = [...featureNames.slice(0, width - 1), 'pixel_extra', 'digit'];
    writeFileSync(join(dir, 'renamed.csv'), csv(rowsOf(1).slice(0, 50), false, names));
    writeFileSync(
      join(dir, 'narrow.csv'),
      `${featureNames.slice(0, 10).join(',')}\n${pixels(1, false).slice(0, 10).join(',')}\n`,
    );
    writeFileSync(join(dir, 'unlabelled.csv'), `${featureNames.join(',')}\n${pixels(1, false).join(',')}\n`);
    const out = join(dir, 'bad', 'report.html');
    for (const [reference, current, message, ...extra] of [
      [
        'reference.csv',
        'renamed.csv',
        /renamed\.csv lacks feature column\(s\) 'pixel_7_7' and has column\(s\) 'pixel_extra' the reference does not/,
      ],
      ['narrow.csv', 'current.csv', /narrow\.csv: 10 columns, but the model takes 64 features/],
      ['reference.csv', 'narrow.csv', /narrow\.csv lacks feature column\(s\) 'pixel_1_2', .* and 44 more/],
      [
        'reference.csv',
        'unlabelled.csv',
        /unlabelled\.csv has no ground truth for --labels: add a column 'digit'/,
        '--labels',
      ],
    ] as const) {
      const r = tend(
        'report',
        'digits',
        '--reference',
        join(dir, reference),
        '--current',
        join(dir, current),
        '--out',
        out,
        ...extra,
      );
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /^error: /);
      assert.match(r.stderr, message);
      assert.equal(existsSync(join(dir, 'bad')), false);
    }
    const unknown = tend(
      'report',
      'nope',
      '--reference',
      join(dir, 'reference.csv'),
      '--current',
      join(dir, 'current.csv'),
      '--out',
      join(dir, 'nope.html'),
    );
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /model 'nope' not found/);
    assert.equal(existsSync(join(dir, 'nope.html')), false);
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.endsWith('.tmp')),
      [],
    );
  });
});
