/**
 * Issue 8's acceptance as a newcomer meets it: the demo model (trained by tend, its training split
 * attached as the reference), `tend demo traffic` sending clean then drifted labelled traffic, and
 * the dashboard in Chromium showing accuracy over the last 500 below its pre-drift value and
 * flagging exactly the shifted pixels.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { DRIFT_PIXELS } from '../src/cli/commands/demo-traffic.js';
import { ensureDemoModel } from '../src/engine/index.js';
import { readNumericCsv } from '../src/train/csv.js';
import { CLI, ROOT, startTestServer, tempDir, type TestServer } from './helpers.js';

const CHROMIUM = process.env['TEND_CHROMIUM'] ?? '/usr/bin/chromium';
const skip = process.env['TEND_SKIP_BROWSER'] === '1' ? 'TEND_SKIP_BROWSER=1' : false;
const columns = readNumericCsv(join(ROOT, 'assets', 'datasets', 'digits.csv')).columns;
const shifted = DRIFT_PIXELS.map((c) => columns[c] as string).sort();

let srv: TestServer;
let browser: Browser;
let home = '';

/** Run `tend demo traffic` in a child process (asynchronously: the server runs in this one). */
async function traffic(...args: string[]): Promise<void> {
  const child = spawn(process.execPath, [
    '--import',
    'tsx',
    CLI,
    'demo',
    'traffic',
    '--url',
    srv.url,
    ...args,
  ]);
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, out);
}

async function openDashboard(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(30_000);
  await page.goto(`${srv.url}/#model=digits`);
  await page.waitForSelector('[data-testid="quality-accuracy"][data-value]:not([data-value=""])');
  return page;
}

before(async () => {
  if (skip) return;
  assert.ok(
    existsSync(CHROMIUM),
    `${CHROMIUM} is missing: apt-get install chromium (or set TEND_SKIP_BROWSER=1)`,
  );
  home = tempDir('dashboard-demo');
  await ensureDemoModel(home);
  srv = await startTestServer({ home });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});

after(async () => {
  await browser?.close();
  await srv?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

test(
  'after `tend demo traffic --drift` the dashboard shows accuracy over the last 500 below its pre-drift value and flags exactly the shifted pixels',
  { skip },
  async () => {
    await traffic('--requests', '100');
    const clean = await openDashboard();
    const before = Number(await clean.getAttribute('[data-testid="quality-accuracy"]', 'data-value'));
    assert.ok(before > 0.9, `pre-drift accuracy ${before}`);
    await clean.close();

    await traffic('--drift', '--requests', '200');
    const page = await openDashboard();
    const after = Number(await page.getAttribute('[data-testid="quality-accuracy"]', 'data-value'));
    assert.ok(after < before, `accuracy over the last 500: ${after}, before the drift ${before}`);
    const flagged = await page.$$eval('[data-testid="drift-table"] tr[data-drifted="true"]', (rows) =>
      rows.map((r) => (r.getAttribute('data-testid') ?? '').replace('drift-row-', '')).sort(),
    );
    assert.deepEqual(flagged, shifted);
    mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'test-artifacts', 'dashboard-demo-drift.png'), fullPage: true });
    await page.close();
  },
);
