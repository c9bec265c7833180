/**
 * Monitoring end to end: the digits model (fixture digits_mlp, trained on the digits data set)
 * serves 1 000 labelled rows, then 1 000 rows with some pixels shifted and wrong labels. The
 * monitor API shows accuracy falling and the shifted features drifted, and an alert rule on
 * accuracy reaches a local webhook receiver. Bad feedback and bad queries are route tests in
 * src/server/http/monitor-routes.test.ts (inject).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DIGITS_WIDTH, digitOf, digitPixels, digitsTable, evenRowsReferenceCsv } from './digits-data.js';
import { Registry } from '../src/registry/index.js';
import { FIXTURE_MODELS, getJson, postJson, startTestServer, tempDir, type TestServer } from './helpers.js';

const DIGITS = join(FIXTURE_MODELS, 'digits_mlp.onnx');
const SHIFTED = [18, 19, 20, 21, 26, 27, 28, 29];
const ROWS_PER_REQUEST = 10;

const table = digitsTable;
const width = DIGITS_WIDTH;
const pixels = digitPixels;
const digit = digitOf;

const referenceCsv = evenRowsReferenceCsv;

interface Hook {
  server: Server;
  url: string;
  events: Record<string, unknown>[];
}

async function startReceiver(): Promise<Hook> {
  const events: Record<string, unknown>[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      events.push(JSON.parse(body) as Record<string, unknown>);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, events };
}

/** Send `count` odd rows from the `start`-th one on (wrapping), 10 per request, then their labels. */
async function sendPhase(
  srv: TestServer,
  phase: string,
  start: number,
  count: number,
  shift: boolean,
): Promise<void> {
  const jobs: Promise<void>[] = [];
  for (let req = 0; req < count / ROWS_PER_REQUEST; req++) {
    const rows = Array.from(
      { length: ROWS_PER_REQUEST },
      (_, i) => (2 * (start + req * ROWS_PER_REQUEST + i) + 1) % (table.rows - 1),
    );
    const data = rows.flatMap((r) => {
      const p = pixels(r);
      if (shift) for (const c of SHIFTED) p[c] = Math.min(1, (p[c] as number) + 0.6);
      return p;
    });
    const id = `${phase}-${req}`;
    jobs.push(
      (async () => {
        const res = await postJson(`${srv.url}/v2/models/digits/infer`, {
          id,
          inputs: [{ name: 'pixels', datatype: 'FP32', shape: [ROWS_PER_REQUEST, width], data }],
        });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        const feedback = rows.map((r, row) => ({ id, row, label: shift ? (digit(r) + 1) % 10 : digit(r) }));
        const fb = await postJson(`${srv.url}/v2/models/digits/feedback`, { feedback });
        assert.equal(fb.status, 200, JSON.stringify(fb.body));
        assert.deepEqual(fb.body, { accepted: ROWS_PER_REQUEST, unknown_ids: [], rejected: [] });
      })(),
    );
    if (jobs.length >= 8) await Promise.all(jobs.splice(0));
  }
  await Promise.all(jobs);
}

type View = {
  predictions: number;
  labelled: number;
  quality: Record<string, number | null>;
  drift: {
    dataset_drift: boolean;
    drifted_share: number;
    features: { name: string; stattest: string; p_value: number | null; drifted: boolean }[];
  } | null;
  data_quality: { features: { name: string; out_of_range: number }[] } | null;
  alerts: { rule: string; state: string }[];
};

describe('monitoring end to end', () => {
  let srv: TestServer;
  let hook: Hook;
  let before1: View;

  before(async () => {
    hook = await startReceiver();
    const home = tempDir('monitor-home');
    const registry = await Registry.open(home);
    await registry.models.push(DIGITS, { name: 'digits' });
    await registry.artifacts.attach('digits', 1, 'reference', new TextEncoder().encode(referenceCsv()), {
      mediaType: 'text/csv',
    });
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
          webhooks: [{ name: 'local', url: hook.url, timeout_ms: 2000, max_attempts: 3 }],
        },
      },
    });
  });
  after(async () => {
    await srv.close();
    hook.server.close();
  });

  test('1 000 labelled rows: accuracy as trained, no alert', async () => {
    await sendPhase(srv, 'clean', 0, 1000, false);
    const res = await getJson(`${srv.url}/v2/models/digits/monitor?last=500`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    before1 = res.body as unknown as View;
    assert.equal(before1.predictions, 500);
    assert.equal(before1.labelled, 500);
    assert.ok((before1.quality['accuracy'] ?? 0) > 0.9, `accuracy ${before1.quality['accuracy']}`);
    for (const key of [
      'precision_macro',
      'recall_macro',
      'f1_macro',
      'f1_weighted',
      'roc_auc_ovr',
      'log_loss',
    ])
      assert.equal(typeof before1.quality[key], 'number', key);
    assert.ok(before1.drift, 'drift against the reference');
    // Same distribution: at p < 0.05 a few of 64 features may flag by chance, never the data set.
    assert.equal(before1.drift.dataset_drift, false);
    assert.ok(before1.drift.drifted_share < 0.15, `drifted share ${before1.drift.drifted_share}`);
  });

  test('1 000 shifted rows with wrong labels: accuracy falls, the shifted features drift, the alert reaches the webhook', async () => {
    await sendPhase(srv, 'shifted', 100, 1000, true);
    const res = await getJson(`${srv.url}/v2/models/digits/monitor?last=500`);
    const after1 = res.body as unknown as View;
    assert.ok(
      (after1.quality['accuracy'] ?? 1) < (before1.quality['accuracy'] ?? 0) - 0.5,
      `accuracy ${after1.quality['accuracy']} after ${before1.quality['accuracy']}`,
    );
    assert.ok(after1.drift);
    for (const c of SHIFTED) {
      const f: { stattest: string; drifted: boolean } | undefined = after1.drift.features.find(
        (x) => x.name === table.columns[c],
      );
      assert.equal(f?.drifted, true, `${table.columns[c]}: ${JSON.stringify(f)}`);
      assert.equal(f?.stattest, 'ks');
    }
    const byTime = await getJson(`${srv.url}/v2/models/digits/monitor?window=1h`);
    assert.equal((byTime.body as unknown as View).predictions, 2000);
    for (let i = 0; i < 200 && !hook.events.some((e) => e['state'] === 'firing'); i++)
      await new Promise((r) => setTimeout(r, 100));
    const firing = hook.events.find((e) => e['state'] === 'firing');
    assert.ok(firing, `no firing event reached the webhook: ${JSON.stringify(hook.events)}`);
    assert.equal(firing['rule'], 'digits-accuracy');
    assert.equal(firing['model'], 'digits');
    assert.ok((firing['value'] as number) < 0.8);
    const alerts = await getJson(`${srv.url}/api/v1/alerts`);
    const active = (alerts.body as unknown as { active: { rule: string; state: string }[] }).active;
    assert.deepEqual(
      active.map((a) => [a.rule, a.state]),
      [['digits-accuracy', 'firing']],
    );
    const metrics = await (await fetch(`${srv.url}/metrics`)).text();
    await srv.engine.monitoring.app?.refresh();
    const refreshed = await (await fetch(`${srv.url}/metrics`)).text();
    assert.match(refreshed, /tend_model_quality\{model="digits",version="1",metric="accuracy"\} 0\.\d+/);
    assert.match(refreshed, /tend_dataset_drift_share\{model="digits",version="1"\}/);
    assert.match(metrics + refreshed, /tend_alert_state\{rule="digits-accuracy"\} 2/);
  });
});
