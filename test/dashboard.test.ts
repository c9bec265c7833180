/**
 * The web dashboard in a real browser (Debian's Chromium through playwright-core): the explicit
 * "no data yet" state before any traffic, then charts, accuracy, the drift table and the alert
 * after clean and then shifted, wrongly labelled digits traffic; the URL holding the view; the
 * page weight (gzip) and no console errors. Screenshots go to test-artifacts/.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page, type Response } from 'playwright-core';
import { DIGITS_WIDTH, digitOf, digitPixels, digitsTable, evenRowsReferenceCsv } from './digits-data.js';
import { Registry } from '../src/registry/index.js';
import { FIXTURE_MODELS, ROOT, postJson, startTestServer, tempDir, type TestServer } from './helpers.js';

/** Debian's Chromium; TEND_CHROMIUM points elsewhere. */
const CHROMIUM = process.env['TEND_CHROMIUM'] ?? '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test-artifacts');
const MAX_PAGE_BYTES = 300 * 1024;
const DIGITS = join(FIXTURE_MODELS, 'digits_mlp.onnx');
const SHIFTED = [18, 19, 20, 21, 26, 27, 28, 29];
const ROWS_PER_REQUEST = 10;
/** The dashboard's first two series colours (#2563eb, #d97706), to find drawn series on the canvas. */
const FIRST_RGB = [37, 99, 235];
const SECOND_RGB = [217, 119, 6];

const table = digitsTable;
const width = DIGITS_WIDTH;
const pixels = digitPixels;
const digit = digitOf;
const shiftedNames = SHIFTED.map((c) => table.columns[c] as string).sort();

const referenceCsv = evenRowsReferenceCsv;

/** Odd rows of the data set (1, 3, ... 1795). */
const ODD_ROWS = Math.floor(table.rows / 2);
/**
 * The data set row of the `j`-th row sent. The file is ordered by writer, so a contiguous block of
 * rows is a handful of writers, not the data set's distribution (on rows 201-1199 KS flags
 * pixel_2_3 at p = 0.01 without any shift); stepping by 3 through the odd rows samples every writer.
 */
const sentRow = (j: number): number => 2 * ((3 * j) % ODD_ROWS) + 1;

/** The rows of one phase as sent: pixels in [0, 1], 8 of them pushed up by 0.6 when shifted. */
function phaseRows(first: number, count: number, shift: boolean): number[][] {
  return Array.from({ length: count }, (_, i) => {
    const p = pixels(sentRow(first + i));
    if (shift) for (const c of SHIFTED) p[c] = Math.min(1, (p[c] as number) + 0.6);
    return p;
  });
}

/**
 * Send rows first .. first+count-1, 10 per request, each with its label (wrong when shifted). Requests
 * go 10 at a time and each group waits for the one before, so "the last 500" is always the same rows.
 */
async function sendPhase(
  srv: TestServer,
  phase: string,
  first: number,
  count: number,
  shift: boolean,
): Promise<void> {
  const rows = phaseRows(first, count, shift);
  const jobs: Promise<void>[] = [];
  for (let req = 0; req < count / ROWS_PER_REQUEST; req++) {
    const at = req * ROWS_PER_REQUEST;
    const data = rows.slice(at, at + ROWS_PER_REQUEST).flat();
    const id = `${phase}-${req}`;
    jobs.push(
      (async () => {
        const res = await postJson(`${srv.url}/v2/models/digits/infer`, {
          id,
          inputs: [{ name: 'pixels', datatype: 'FP32', shape: [ROWS_PER_REQUEST, width], data }],
        });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        const feedback = Array.from({ length: ROWS_PER_REQUEST }, (_, row) => {
          const label = digit(sentRow(first + at + row));
          return { id, row, label: shift ? (label + 1) % 10 : label };
        });
        const fb = await postJson(`${srv.url}/v2/models/digits/feedback`, { feedback });
        assert.equal(fb.status, 200, JSON.stringify(fb.body));
      })(),
    );
    if (jobs.length >= 10) await Promise.all(jobs.splice(0));
  }
  await Promise.all(jobs);
}

/**
 * Features with at most 5 distinct values (categorical to the drift tests) where `current` holds a
 * value the reference (the even rows) never has. Chi-squared counts a category the reference never
 * had as drift, whatever its share: near-blank edge pixels such as pixel_1_0 (2/16 occurs in odd
 * rows only) flag for that reason, not by chance, and the data-quality table lists them as unseen.
 */
function unseenCategoryFeatures(current: number[][]): string[] {
  const out: string[] = [];
  for (let c = 0; c < width; c++) {
    const ref = new Set<number>();
    for (let r = 0; r < table.rows; r += 2) ref.add(pixels(r)[c] as number);
    const cur = new Set(current.map((row) => row[c] as number));
    const all = new Set([...ref, ...cur]);
    if (all.size > 2 && all.size <= 5 && [...cur].some((v) => !ref.has(v)))
      out.push(table.columns[c] as string);
  }
  return out.sort();
}

interface Load {
  /** Bytes of response bodies as they crossed the wire (gzip where the server compressed). */
  bytes: number;
  byUrl: { url: string; bytes: number; contentLength: number | null; encoding: string }[];
  /** ms from navigation start to the first uPlot chart (null when none was drawn). */
  firstChartMs: number | null;
}

/** Open the dashboard in a fresh context (empty cache) and weigh everything the first view fetched. */
async function weighedLoad(
  context: BrowserContext,
  url: string,
  ready: (page: Page) => Promise<unknown>,
): Promise<{ page: Page; load: Load }> {
  const page = await context.newPage();
  watchConsole(page);
  const responses: Promise<{ url: string; bytes: number; contentLength: number | null; encoding: string }>[] =
    [];
  const onResponse = (response: Response): void => {
    responses.push(
      (async () => {
        // sizes() reports the body as it crossed the wire; response.body() would be the decoded one.
        const sizes = await response.request().sizes();
        const length = response.headers()['content-length'];
        return {
          url: response.url(),
          bytes: sizes.responseBodySize,
          contentLength: length === undefined ? null : Number(length),
          encoding: response.headers()['content-encoding'] ?? 'identity',
        };
      })(),
    );
  };
  page.on('response', onResponse);
  await page.goto(url);
  await ready(page);
  page.off('response', onResponse);
  const byUrl = await Promise.all(responses);
  for (const r of byUrl)
    if (r.contentLength !== null) assert.equal(r.bytes, r.contentLength, `${r.url}: encoded size`);
  const firstChartMs = await page.evaluate(
    () => performance.getEntriesByName('tend-first-chart')[0]?.startTime ?? null,
  );
  return { page, load: { bytes: byUrl.reduce((n, r) => n + r.bytes, 0), byUrl, firstChartMs } };
}

const problems: string[] = [];
function watchConsole(page: Page): void {
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
}

/** The little of HTMLCanvasElement the pixel count uses (the project compiles without the DOM types). */
interface BrowserCanvas {
  width: number;
  height: number;
  getContext(
    kind: '2d',
  ): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null;
}

/** Wait until the page's URL hash is `hash`. */
const hashIs = (page: Page, hash: string) =>
  page.waitForFunction(`location.hash === ${JSON.stringify(hash)}`);
/** Wait until the text of the element at `selector` matches `pattern`. */
const textMatches = (page: Page, selector: string, pattern: RegExp) =>
  page.waitForFunction(
    `${pattern}.test(document.querySelector(${JSON.stringify(selector)})?.textContent ?? '')`,
  );

/** Pixels of a series colour on a chart's canvas: lines and points actually drawn. */
function seriesPixels(page: Page, chart: string, colour = FIRST_RGB): Promise<number> {
  return page.$eval(
    `[data-testid="${chart}"] canvas`,
    (canvas, rgb) => {
      const c = canvas as unknown as BrowserCanvas;
      const data = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      if (!data) return 0;
      for (let i = 0; i < data.length; i += 4) {
        if (
          Math.abs((data[i] as number) - rgb[0]!) < 40 &&
          Math.abs((data[i + 1] as number) - rgb[1]!) < 40 &&
          Math.abs((data[i + 2] as number) - rgb[2]!) < 40 &&
          (data[i + 3] as number) > 200
        )
          n++;
      }
      return n;
    },
    colour,
  );
}

const accuracyOn = async (page: Page): Promise<number> =>
  Number(await page.getAttribute('[data-testid="quality-accuracy"]', 'data-value'));
const drifted = (page: Page): Promise<string[]> =>
  page.$$eval('[data-testid="drift-table"] tr[data-drifted="true"]', (rows) =>
    rows.map((r) => (r.getAttribute('data-testid') ?? '').replace('drift-row-', '')).sort(),
  );

/**
 * The data-quality table lists each of `features` with unseen values. (It may list more: it judges a
 * column categorical from the reference alone, drift from both samples, so pixel_5_7 — 4 values in
 * the reference, 7 with the traffic — is categorical there and numeric (KS) here.)
 */
async function assertListedUnseen(page: Page, features: string[]): Promise<void> {
  const listed = await page.$$eval('[data-testid="dq-table"] tr[data-unseen]', (rows) =>
    rows.map((r) => r.getAttribute('data-unseen') ?? ''),
  );
  for (const f of features)
    assert.ok(listed.includes(f), `${f} is listed with unseen values: ${listed.join(', ')}`);
}

const skip = process.env['TEND_SKIP_BROWSER'] === '1' ? 'TEND_SKIP_BROWSER=1' : false;

describe('web dashboard in Chromium', { skip }, () => {
  let srv: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let accuracyBefore = 0;
  let home = '';

  before(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} is missing: the dashboard tests drive Chromium — install it with \`apt-get install chromium\` (or set TEND_SKIP_BROWSER=1 to skip them)`,
      );
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    home = tempDir('dashboard-home');
    const registry = await Registry.open(home);
    await registry.models.push(DIGITS, { name: 'digits' });
    await registry.artifacts.attach('digits', 1, 'reference', new TextEncoder().encode(referenceCsv()), {
      mediaType: 'text/csv',
    });
    // Two versions of one model for the canary view.
    await registry.models.push(DIGITS, { name: 'pair' });
    await registry.models.push(DIGITS, { name: 'pair' });
    await registry.close();
    srv = await startTestServer({
      home,
      config: {
        alerts: {
          evaluation_interval: '200ms',
          rules: [
            {
              name: 'digits-accuracy',
              model: 'digits',
              version: 'all',
              metric: 'accuracy',
              last: 500,
              op: '<',
              threshold: 0.8,
              min_samples: 100,
              for: '0s',
              severity: 'critical',
            },
          ],
          webhooks: [],
        },
      },
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(20_000);
  });

  after(async () => {
    await browser?.close();
    await srv?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  test('before any traffic: every panel says there is no data yet, the page is light', async () => {
    const opened = await weighedLoad(context, `${srv.url}/`, (p) =>
      p.waitForSelector('[data-testid="chart-requests"][data-state="empty"]'),
    );
    page = opened.page;
    assert.equal(
      new URL(page.url()).hash,
      '#model=digits&version=1&window=15m',
      'the view defaults are written into the URL',
    );
    await page.waitForSelector('[data-testid="model-row-digits"]');
    assert.match(await page.innerText('[data-testid="model-row-digits"]'), /v1 READY/);
    for (const chart of ['chart-requests', 'chart-latency', 'chart-errors', 'chart-batch', 'chart-quality']) {
      assert.equal(
        await page.isVisible(`[data-testid="${chart}"] [data-testid="no-data"]`),
        true,
        `${chart} says no data`,
      );
      assert.equal(
        await page.locator(`[data-testid="${chart}"] canvas`).count(),
        0,
        `${chart} draws no empty chart`,
      );
    }
    assert.match(await page.innerText('#quality [data-testid="no-data"]'), /No predictions yet/);
    assert.match(await page.innerText('#drift [data-testid="no-data"]'), /No predictions in the window/);
    assert.ok(await page.isVisible('#data-quality [data-testid="no-data"]'));
    assert.ok(await page.isVisible('[data-testid="no-alerts"]'));
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-empty.png'), fullPage: true });

    const { load } = opened;
    for (const asset of [
      '/',
      '/dashboard/app.js',
      '/dashboard/style.css',
      '/dashboard/uPlot.iife.min.js',
      '/dashboard/uPlot.min.css',
    ]) {
      const r = load.byUrl.find((x) => new URL(x.url).pathname === asset);
      assert.equal(r?.encoding, 'gzip', `${asset} is served gzipped: ${JSON.stringify(r)}`);
    }
    assert.ok(load.bytes <= MAX_PAGE_BYTES, `page weight ${load.bytes} B: ${JSON.stringify(load.byUrl)}`);
    console.log(
      `# dashboard weight, empty: ${(load.bytes / 1024).toFixed(1)} KiB over ${load.byUrl.length} responses`,
    );
  });

  test('600 clean labelled rows: the charts draw and the accuracy shows', async () => {
    await sendPhase(srv, 'clean', 0, 600, false);
    await page.reload();
    await page.waitForSelector('[data-testid="chart-requests"][data-state="data"] canvas');
    await page.waitForSelector('[data-testid="quality-accuracy"]');
    accuracyBefore = await accuracyOn(page);
    assert.ok(accuracyBefore > 0.9, `accuracy ${accuracyBefore}`);
    assert.ok((await seriesPixels(page, 'chart-requests')) > 20, 'the request rate is drawn');
    await page.waitForSelector('[data-testid="chart-quality"][data-state="data"] canvas');
    assert.ok((await seriesPixels(page, 'chart-quality')) > 5, 'the accuracy over time is drawn');
    assert.equal(await page.getAttribute('[data-testid="drift-summary"]', 'data-dataset-drift'), 'false');
    // The same distribution: only features with categories the reference lacks flag, and the page says why.
    const unseen = unseenCategoryFeatures(phaseRows(100, 500, false));
    assert.deepEqual(await drifted(page), unseen);
    await assertListedUnseen(page, unseen);
  });

  test('600 shifted rows with wrong labels: the page (refreshing itself) flags the shifted features, the fall in accuracy and the alert', async () => {
    await sendPhase(srv, 'shifted', 600, 600, true);
    // No reload: the page's own refresh picks the change up.
    await page.waitForSelector(`[data-testid="drift-row-${shiftedNames[0]}"][data-drifted="true"]`);
    const unseen = unseenCategoryFeatures(phaseRows(700, 500, true));
    assert.ok(unseen.length <= 2, `unseen categories in ${unseen.join(', ')}`);
    const expected = [...shiftedNames, ...unseen].sort();
    assert.deepEqual(
      await drifted(page),
      expected,
      'the shifted pixels drift, and only those besides the features with unseen categories',
    );
    await assertListedUnseen(page, unseen);
    assert.equal(await page.getAttribute('[data-testid="prediction-drift"]', 'data-drifted'), 'true');
    const accuracyAfter = await accuracyOn(page);
    assert.ok(accuracyAfter < accuracyBefore - 0.5, `accuracy ${accuracyAfter} after ${accuracyBefore}`);
    assert.equal(
      await page.locator(`[data-testid="drift-row-${shiftedNames[0]}"] svg rect`).count(),
      20,
      'a 10-bin reference-vs-current histogram',
    );
    await page.waitForSelector('[data-testid="alert-digits-accuracy"][data-state="firing"]');
    // Error rate and batch size come from counters the server samples every few seconds: a bucket
    // has a value only once a sample precedes it, so right after start they may still say so.
    for (const chart of ['chart-errors', 'chart-batch']) {
      const state = await page.getAttribute(`[data-testid="${chart}"]`, 'data-state');
      // > 0: a lone point at 0 sits on the plot's bottom edge, half of it clipped.
      if (state === 'data') assert.ok((await seriesPixels(page, chart)) > 0, `${chart} is drawn`);
      else {
        assert.equal(state, 'empty', chart);
        assert.match(await page.innerText(`[data-testid="${chart}"] [data-testid="no-data"]`), /counted/);
      }
    }
    assert.ok((await seriesPixels(page, 'chart-latency')) > 5, 'the latency is drawn');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-drift.png'), fullPage: true });

    // A fresh visitor: weight with data, and how soon the first chart is up.
    const fresh = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const { page: second, load } = await weighedLoad(
      fresh,
      `${srv.url}/#model=digits&version=1&window=15m`,
      (p) => p.waitForSelector('[data-testid="drift-table"]'),
    );
    assert.deepEqual(await drifted(second), expected);
    assert.ok(load.bytes <= MAX_PAGE_BYTES, `page weight ${load.bytes} B: ${JSON.stringify(load.byUrl)}`);
    assert.equal(typeof load.firstChartMs, 'number');
    console.log(
      `# dashboard weight with drift data: ${(load.bytes / 1024).toFixed(1)} KiB; first chart ${load.firstChartMs?.toFixed(0)} ms after navigation`,
    );
    await fresh.close();
  });

  test('a canary: the routes, and the champion and the canary side by side in the quality chart', async () => {
    const set = await fetch(`${srv.url}/api/v1/deployments/pair`, {
      method: 'PUT',
      body: JSON.stringify({ champion: 1, canary: { version: 2, percent: 50 } }),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(set.status, 200, await set.text());
    const rows = phaseRows(0, 300, false);
    const served: Record<string, number> = {};
    for (let req = 0; req < 30; req++) {
      const id = `pair-${req}`;
      const res = await postJson(`${srv.url}/v2/models/pair/infer`, {
        id,
        inputs: [
          {
            name: 'pixels',
            datatype: 'FP32',
            shape: [ROWS_PER_REQUEST, width],
            data: rows.slice(req * 10, req * 10 + 10).flat(),
          },
        ],
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      served[String(res.body['model_version'])] = (served[String(res.body['model_version'])] ?? 0) + 1;
      const feedback = Array.from({ length: ROWS_PER_REQUEST }, (_, row) => ({
        id,
        row,
        label: digit(sentRow(req * 10 + row)),
      }));
      assert.equal((await postJson(`${srv.url}/v2/models/pair/feedback`, { feedback })).status, 200);
    }
    assert.ok((served['1'] ?? 0) > 0 && (served['2'] ?? 0) > 0, JSON.stringify(served));
    await page.goto(`${srv.url}/#model=pair&window=15m`);
    await hashIs(page, '#model=pair&version=1&window=15m');
    await page.waitForSelector('[data-testid="chart-quality"][data-state="data"] canvas');
    assert.match(await page.innerText('[data-testid="routes-pair"]'), /champion 1 · canary 2 \(50%\)/);
    const legend = await page.innerText('[data-testid="chart-quality"] .u-legend');
    assert.match(legend, /v1 · champion accuracy/);
    assert.match(legend, /v2 · canary 50% accuracy/);
    assert.ok((await seriesPixels(page, 'chart-quality', FIRST_RGB)) > 5, 'the champion is drawn');
    assert.ok((await seriesPixels(page, 'chart-quality', SECOND_RGB)) > 5, 'the canary is drawn');
    assert.match(
      await page.innerText('#drift'),
      /No reference data set/,
      'no reference: the page says how to attach one',
    );
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-canary.png') });
  });

  test('the URL holds the view: pickers, back and forward, reload, unknown model or version', async () => {
    /** The URL and the window picker agree on `window`. */
    const showing = (window: string) =>
      page.waitForFunction(
        `location.hash.includes('window=${window}') && document.querySelector('[data-testid="pick-window"]')?.value === '${window}'`,
      );
    await page.goto(`${srv.url}/#model=digits&version=1&window=15m`);
    await showing('15m');
    await page.selectOption('[data-testid="pick-window"]', '1h');
    await showing('1h');
    await textMatches(page, '#h-traffic', /last hour/);
    await page.goBack();
    await showing('15m');
    await page.goForward();
    await showing('1h');
    await page.reload();
    await page.waitForSelector('[data-testid="chart-requests"][data-state="data"]');
    assert.equal(await page.inputValue('[data-testid="pick-window"]'), '1h', 'a reload keeps the view');
    assert.match(await page.innerText('#h-traffic'), /last hour/);

    await page.selectOption('[data-testid="pick-rows"]', 'window');
    await hashIs(page, '#model=digits&version=1&window=1h&rows=window');
    await textMatches(page, '#monitor-title', /1h/);

    await page.goto(`${srv.url}/#model=nope&window=5m`);
    await page.waitForSelector('[data-testid="banner"]:not([hidden])');
    assert.match(
      await page.innerText('[data-testid="banner"]'),
      /model 'nope' is not served here: showing 'digits'/,
    );
    await hashIs(page, '#model=digits&version=1&window=5m');
    await page.goto(`${srv.url}/#model=digits&version=9&window=5m`);
    await textMatches(page, '[data-testid="banner"]', /has no version '9'/);
    await hashIs(page, '#model=digits&version=1&window=5m');
    await page.goto(`${srv.url}/#model=digits&window=2weeks`);
    await hashIs(page, '#model=digits&version=1&window=15m');
  });

  test('no console errors and no uncaught exceptions', async () => {
    assert.deepEqual(problems, []);
  });
});
