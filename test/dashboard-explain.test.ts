/**
 * The dashboard's explanations in a real browser (Debian's Chromium through playwright-core): after
 * digits traffic, "Explain recent predictions" draws the mean |SHAP| bars with the 8×8 heat map and
 * one bar chart and heat map per explained prediction; no console errors. A screenshot goes to
 * test-artifacts/.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { DIGITS_WIDTH, digitPixels, evenRowsReferenceCsv } from './digits-data.js';
import { Registry } from '../src/registry/index.js';
import { FIXTURE_MODELS, ROOT, postJson, startTestServer, tempDir, type TestServer } from './helpers.js';

const CHROMIUM = process.env['TEND_CHROMIUM'] ?? '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test-artifacts');
const skip = process.env['TEND_SKIP_BROWSER'] === '1';

let srv: TestServer;
let home: string;
let browser: Browser;
let page: Page;
const problems: string[] = [];

describe('dashboard explanations', { skip }, () => {
  before(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(
        `${CHROMIUM} is missing: install it with \`apt-get install chromium\` (or TEND_SKIP_BROWSER=1)`,
      );
    mkdirSync(ARTIFACTS, { recursive: true });
    home = tempDir('dashboard-explain-home');
    const registry = await Registry.open(home);
    await registry.models.push(join(FIXTURE_MODELS, 'digits_mlp.onnx'), { name: 'digits' });
    await registry.artifacts.attach(
      'digits',
      1,
      'reference',
      new TextEncoder().encode(evenRowsReferenceCsv()),
      {
        mediaType: 'text/csv',
      },
    );
    await registry.close();
    srv = await startTestServer({ home });
    const rows = [1, 3, 5, 7, 9, 11].map((r) => digitPixels(r));
    const res = await postJson(`${srv.url}/v2/models/digits/infer`, {
      id: 'explained',
      inputs: [{ name: 'pixels', datatype: 'FP32', shape: [rows.length, DIGITS_WIDTH], data: rows.flat() }],
    });
    assert.equal(res.status, 200);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(30_000);
    page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  });

  after(async () => {
    await browser?.close();
    await srv?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  test('explain recent predictions: global bars and heat map, then one chart and heat map per prediction', async () => {
    await page.goto(`${srv.url}/#model=digits&version=1&window=15m`);
    await page.waitForSelector('[data-testid="model-row-digits"]');
    await page.click('[data-testid="explain-run"]');
    await page.waitForSelector('[data-testid="explain-row"]');
    assert.equal(await page.locator('[data-testid="explain-global"] [data-testid="bar"]').count(), 12);
    assert.equal(await page.locator('[data-testid="heatmap-global"] .cell').count(), 64);
    const perPrediction = page.locator('[data-testid="explain-row"]');
    assert.equal(await perPrediction.count(), 5, 'the newest five logged rows');
    for (let i = 0; i < 5; i++) {
      const card = perPrediction.nth(i);
      assert.match(await card.locator('figcaption').innerText(), /^explained row \d → logits \d$/);
      assert.equal(await card.locator('[data-testid="bar"]').count(), 8);
      assert.equal(await card.locator('[data-testid="heatmap"] .cell').count(), 64);
    }
    // The bars are drawn: the largest is full width.
    const widths = await page
      .locator('[data-testid="explain-global"] .bar')
      .evaluateAll((els) => els.map((e) => (e as unknown as { style: { width: string } }).style.width));
    assert.equal(widths[0], '100%');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-explain.png'), fullPage: true });
  });

  test('no console errors and no uncaught exceptions', () => {
    assert.deepEqual(problems, []);
  });
});
