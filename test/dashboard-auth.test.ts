/**
 * The dashboard behind tokens (issue 10): it asks for a token once, keeps it in the tab's session
 * storage, says when a token is refused, and shows the models once given a `read` token.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { createApiToken } from '../src/engine/index.js';
import { FIXTURE_MODELS, makeRepo, startTestServer, type TestServer } from './helpers.js';

const CHROMIUM = process.env['TEND_CHROMIUM'] ?? '/usr/bin/chromium';
const skip = process.env['TEND_SKIP_BROWSER'] === '1';

let server: TestServer;
let browser: Browser;
let readToken: string;
let inferToken: string;

before(async () => {
  if (skip) return;
  const repo = makeRepo([{ name: 'digits', model: join(FIXTURE_MODELS, 'digits_mlp.onnx') }]);
  server = await startTestServer({ repos: [repo] });
  readToken = (await createApiToken(server.engine.registry, { name: 'dash', scopes: 'read' })).token;
  inferToken = (await createApiToken(server.engine.registry, { name: 'client', scopes: 'infer' })).token;
  // A server sees tokens created elsewhere within a second; do not wait for it here.
  await server.engine.access.refresh();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

test(
  'asks for a token once, refuses a bad one with a message, then shows the models and remembers it',
  { skip },
  async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}/`);
    await page.getByTestId('token-form').waitFor({ state: 'visible' });
    // The static page is public; its data is not.
    assert.equal(await page.getByTestId('models').textContent(), '');

    await page.getByTestId('token-input').fill(inferToken);
    await page.getByTestId('token-form').locator('button').click();
    await page.getByTestId('token-error').filter({ hasText: 'refused' }).waitFor();
    assert.match((await page.getByTestId('token-error').textContent()) ?? '', /lacks the 'read' scope/);

    await page.getByTestId('token-input').fill(readToken);
    await page.getByTestId('token-form').locator('button').click();
    await page.getByTestId('models').getByText('digits').first().waitFor();
    assert.equal(await page.getByTestId('token-form').isVisible(), false);

    await page.reload();
    await page.getByTestId('models').getByText('digits').first().waitFor();
    assert.equal(
      await page.getByTestId('token-form').isVisible(),
      false,
      'the token is kept for the session',
    );
    assert.deepEqual(errors, []);
    await context.close();
  },
);
