/**
 * `tend demo traffic` against a server of the demo model (trained by tend into a fresh home): clean
 * traffic keeps the accuracy up; with --drift the newest rows lose it and the shifted pixels drift
 * against the training split the demo attached as reference. Bad addresses and a server without
 * the demo model give clear errors; `tend demo` itself still works as before.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { rmSync } from 'node:fs';
import { ensureDemoModel } from '../src/engine/jobs/demo-model.js';
import { CLI, getJson, startTestServer, tempDir, type TestServer } from './helpers.js';

const SHIFTED = [
  'pixel_2_2',
  'pixel_2_3',
  'pixel_2_4',
  'pixel_2_5',
  'pixel_3_2',
  'pixel_3_3',
  'pixel_3_4',
  'pixel_3_5',
];

/** Run the CLI without blocking this process: the test server answers from its event loop. */
function tend(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', CLI, ...args],
      { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 },
      (err, stdout, stderr) => {
        done({ status: err ? ((err as { code?: unknown }).code as number | null) : 0, stdout, stderr });
      },
    );
  });
}

/** A port nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

interface View {
  predictions: number;
  labelled: number;
  quality: { accuracy: number } | null;
  drift: { features: { name: string; drifted: boolean }[] } | null;
}

async function monitor(srv: TestServer, last: number): Promise<View> {
  const res = await getJson(`${srv.url}/v2/models/digits/monitor?last=${last}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body as unknown as View;
}

describe('tend demo traffic', () => {
  let home: string;
  let srv: TestServer;

  before(async () => {
    home = tempDir('demo-traffic');
    await ensureDemoModel(home);
    srv = await startTestServer({ home });
  });
  after(async () => {
    await srv.close();
    rmSync(home, { recursive: true, force: true });
  });

  test('clean traffic, then --drift: accuracy falls and the shifted pixels drift', async () => {
    const clean = await tend('demo', 'traffic', '--url', srv.url, '--requests', '20');
    assert.equal(clean.status, 0, clean.stderr);
    assert.match(
      clean.stdout,
      /sent 20 requests \(10 digits each\).*200 feedback labels accepted; 0 failures/,
    );
    const before1 = await monitor(srv, 100);
    assert.equal(before1.labelled, 100);
    assert.ok((before1.quality?.accuracy ?? 0) > 0.8, `accuracy ${before1.quality?.accuracy}`);

    const drifted = await tend('demo', 'traffic', '--drift', '--url', srv.url, '--requests', '200');
    assert.equal(drifted.status, 0, drifted.stderr);
    assert.match(drifted.stdout, new RegExp(`add 8 \\(at most 16\\) to ${SHIFTED.join(', ')}`));
    assert.match(drifted.stdout, /sent 200 requests .* 2000 feedback labels accepted; 0 failures/);
    assert.match(drifted.stdout, new RegExp(`open the dashboard: ${srv.url}/`));

    const after1 = await monitor(srv, 100);
    assert.equal(after1.labelled, 100);
    assert.ok(
      (after1.quality?.accuracy ?? 1) < (before1.quality?.accuracy ?? 0) - 0.5,
      `accuracy ${after1.quality?.accuracy} after ${before1.quality?.accuracy}`,
    );
    assert.ok(after1.drift, 'drift against the demo reference');
    for (const name of SHIFTED) {
      const f: { name: string; drifted: boolean } | undefined = after1.drift.features.find(
        (x) => x.name === name,
      );
      assert.equal(f?.drifted, true, `${name}: ${JSON.stringify(f)}`);
    }
    assert.equal((await monitor(srv, 5000)).predictions, 2200);
  });

  test('an address where nothing answers, a bad URL, or a server without the demo model: a clear error', async () => {
    const port = await closedPort();
    const refused = await tend('demo', 'traffic', '--url', `http://127.0.0.1:${port}`, '--requests', '5');
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(
      refused.stderr,
      new RegExp(
        `^error: no tend server answers at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\) — start the demo with \`tend demo\``,
      ),
    );
    const bad = await tend('demo', 'traffic', '--url', 'not a url');
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--url 'not a url' is not a URL/);
    const empty = await startTestServer();
    try {
      const missing = await tend('demo', 'traffic', '--url', empty.url, '--requests', '5');
      assert.equal(missing.status, 1, missing.stderr);
      assert.match(missing.stderr, /does not serve model 'digits' — start the demo with `tend demo`/);
    } finally {
      await empty.close();
    }
    const tooMany = await tend('demo', 'traffic', '--url', srv.url, '--rows', '100', '--requests', '50');
    assert.equal(tooMany.status, 1, tooMany.stderr);
    assert.match(
      tooMany.stderr,
      /^error: the server refused the traffic: infer answered 400: .* after \d+ of 50 requests/,
    );
    const zero = await tend('demo', 'traffic', '--requests', '0');
    assert.equal(zero.status, 1);
    assert.match(zero.stderr, /expected a positive integer/);
  });

  test('`tend demo` keeps working beside its traffic subcommand', async () => {
    const r = await tend('demo', '--no-serve', '--json', '--home', home);
    assert.equal(r.status, 0, r.stderr);
    const demo = JSON.parse(r.stdout) as {
      name: string;
      version: number;
      trained: boolean;
      test_accuracy: number;
    };
    assert.deepEqual([demo.name, demo.version, demo.trained], ['digits', 1, false]);
    assert.ok(demo.test_accuracy > 0.9);
    const help = await tend('demo', '--help');
    assert.match(help.stdout, /traffic \[options\]/);
  });
});
