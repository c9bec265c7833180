/**
 * Privacy in the prediction log through `inject`: `monitoring.redact` rules keep a feature out of
 * monitor.db and its WAL (the test scans the files' bytes), and `DELETE /api/v1/prediction-log` removes
 * rows and their feedback, audited, with drift and quality recomputed without them; bad requests are 400.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { attachReference } from '../../engine/index.js';
import { hashFeatureValue } from '../../monitor/feature-redaction.js';
import { MONITOR_DB_FILE } from '../../monitor/monitor-db.js';
import { filesHoldFloat32 } from '../../monitor/prediction-log.test-helper.js';
import { DIGITS_MLP, injectJson, openInjectApp, seededRandom, type InjectApp } from './inject.test-helper.js';

const DROPPED = 27182.8125;
const HASHED = 16180.3398;
const SUMMARIZED = 14142.1357;
const KEPT = 12121.5;
const PIXELS = Array.from({ length: 64 }, (_, i) => `pixel_${i}`);

let t: InjectApp;
const del = (body: unknown, headers: Record<string, string> = {}) =>
  injectJson(t.app, 'DELETE', '/api/v1/prediction-log', body, headers);

function referenceCsv(): string {
  const r = seededRandom(7);
  const lines = [PIXELS.join(',')];
  for (let i = 0; i < 60; i++) lines.push(PIXELS.map(() => r().toFixed(4)).join(','));
  return `${lines.join('\n')}\n`;
}

/** One request of `rows` rows, pixels uniform in [0, 1) times `scale`, with some pixels set. */
function body(id: string, rows: number, seed: number, set: Record<number, number> = {}, scale = 1): unknown {
  const r = seededRandom(seed);
  const data: number[] = [];
  for (let row = 0; row < rows; row++)
    for (let i = 0; i < 64; i++) data.push(set[i] ?? Math.fround(r() * scale));
  return { id, inputs: [{ name: 'pixels', datatype: 'FP32', shape: [rows, 64], data }] };
}

async function infer(model: string, request: unknown): Promise<void> {
  const res = await injectJson(t.app, 'POST', `/v2/models/${model}/infer`, request);
  assert.equal(res.status, 200, res.text);
}

function log() {
  const app = t.engine.monitoring.app;
  assert.ok(app);
  return app.log;
}

before(async () => {
  const names = ['digits', 'digits-summary', 'digits-unknown'];
  t = await openInjectApp({
    registry: names.map((name) => ({ name, model: DIGITS_MLP })),
    prepare: async (registry) => {
      for (const name of names) await attachReference(registry, name, undefined, referenceCsv(), 'ref.csv');
    },
    config: {
      models: {
        digits: {
          monitoring: {
            redact: [
              { feature: 'pixel_3', action: 'drop' },
              { feature: 5, action: 'hash' },
            ],
          },
        },
        'digits-summary': { monitoring: { redact: [{ feature: 'pixel_0', action: 'summary' }] } },
        'digits-unknown': { monitoring: { redact: [{ feature: 'no_such_column', action: 'drop' }] } },
      },
    },
  });
  const app = t.engine.monitoring.app;
  assert.ok(app);
  for (const name of names) await app.redaction.ready(await t.engine.table.resolve(name));
});

after(() => t.close());

describe('redaction', () => {
  test('drop and hash: the values never reach monitor.db or its WAL; the hash is the salted one', async () => {
    await infer('digits', body('redact-1', 1, 1, { 3: DROPPED, 5: HASHED, 7: KEPT }));
    await log().flush();
    const path = join(t.home, MONITOR_DB_FILE);
    assert.ok(filesHoldFloat32(path, KEPT), 'a feature with no rule is in the files (the scan works)');
    assert.equal(filesHoldFloat32(path, DROPPED), false, 'the dropped value is in neither file');
    assert.equal(filesHoldFloat32(path, HASHED), false, 'the hashed value is in neither file');
    const w = log().window({ model: 'digits' });
    const features = w.features[w.requestIds.indexOf('redact-1')];
    assert.ok(features);
    assert.ok(Number.isNaN(features[3]), 'a dropped feature reads as missing');
    const salt = readFileSync(join(t.home, 'monitor-hash.salt'));
    assert.ok(salt.length >= 16);
    assert.equal(features[5], hashFeatureValue(salt, HASHED));
    assert.equal(features[7], KEPT);
  });

  test('summary: only the row summary is kept; an unknown feature name withholds the features', async () => {
    await infer('digits-summary', body('sum-1', 1, 2, { 0: SUMMARIZED }));
    await infer('digits-unknown', body('unk-1', 1, 3, { 0: SUMMARIZED }));
    await log().flush();
    assert.equal(filesHoldFloat32(join(t.home, MONITOR_DB_FILE), SUMMARIZED), false);
    const s = log().window({ model: 'digits-summary' });
    assert.equal(s.features[0], null);
    assert.equal(s.featureSummaries[0]?.count, 64);
    assert.equal(s.featureSummaries[0]?.max, Math.fround(SUMMARIZED));
    const u = log().window({ model: 'digits-unknown' });
    assert.equal(u.count, 1, 'the prediction is still logged');
    assert.deepEqual([u.features[0], u.featureSummaries[0]], [null, null], 'fails closed: no features');
  });
});

describe('DELETE /api/v1/prediction-log', () => {
  test('no selector, unknown fields, bad values: 400 and nothing deleted', async () => {
    await infer('digits', body('bad-paths', 2, 4));
    await log().flush();
    const before = log().count();
    for (const [request, message] of [
      [{ model: 'digits' }, /needs a selector/],
      [{ model: 'digits', ids: [] }, /empty/],
      [{ model: 'digits', who: 1 }, /unknown field\(s\) who/],
      [{ ids: ['x'] }, /'model' must be a model name/],
      [{ model: 'digits', before: 'last tuesday' }, /is not a date/],
      [{ model: 'digits', ids: 'bad-paths' }, /'ids' must be an array/],
      [{ model: 'digits', where: { feature: 'pixel_1' } }, /'where' must be/],
      [{ model: 'digits', where: { feature: 'nope', value: 1 } }, /not a column of the reference/],
      ['[1]', /JSON object/],
    ] as const) {
      const res = await del(request);
      assert.equal(res.status, 400, `${JSON.stringify(request)}: ${res.text}`);
      assert.match(String(res.body['error']), message);
    }
    assert.equal((await injectJson(t.app, 'DELETE', '/api/v1/prediction-log')).status, 400);
    assert.equal(log().count(), before);
  });

  test('by ids: rows and feedback go, quality and drift recompute without them, the audit says so', async () => {
    // Ten rows like the reference, ten far from it; the far ones get wrong labels.
    await infer('digits', body('near', 10, 11));
    await infer('digits', body('far', 10, 12, {}, 40));
    await log().flush();
    const w = log().window({ model: 'digits' });
    const feedback = w.requestIds.flatMap((id, i) =>
      id === 'near' || id === 'far'
        ? [
            {
              id,
              row: w.rows[i],
              label: id === 'near' ? w.predictedClass[i] : ((w.predictedClass[i] as number) + 1) % 10,
            },
          ]
        : [],
    );
    const fb = await injectJson(t.app, 'POST', '/v2/models/digits/feedback', { feedback });
    assert.equal(fb.body['accepted'], 20, fb.text);
    const view = async () => (await injectJson(t.app, 'GET', '/v2/models/digits/monitor?last=1000')).body;
    const before = await view();
    const accuracyBefore = (before['quality'] as { accuracy: number }).accuracy;
    const driftedBefore = (before['drift'] as { number_of_drifted: number }).number_of_drifted;
    assert.ok(accuracyBefore < 1);

    const res = await del({ model: 'digits', ids: ['far', 'never-logged'] });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body['deleted'], 10);
    assert.equal(res.body['with_feedback'], 10);
    const after = await view();
    assert.equal(after['predictions'], (before['predictions'] as number) - 10);
    assert.equal(after['labelled'], 10);
    assert.equal((after['quality'] as { accuracy: number }).accuracy, 1, 'only the correct labels are left');
    assert.ok(
      (after['drift'] as { number_of_drifted: number }).number_of_drifted < driftedBefore,
      'drift is measured on the rows that are left',
    );
    const audit = await injectJson(t.app, 'GET', '/api/v1/audit?action=prediction_log.delete');
    const entries = audit.body['entries'] as {
      actor: string;
      target: string;
      detail: string;
      outcome: string;
    }[];
    const entry = entries.find((e) => /2 request id/.test(e.detail));
    assert.ok(entry, audit.text);
    assert.equal(entry.target, 'digits');
    assert.equal(entry.outcome, 'ok');
    assert.match(entry.detail, /deleted 10 row\(s\) \(10 with feedback\) selected by 2 request id\(s\)/);
    assert.ok(!entry.detail.includes('far'), 'the audit does not copy the ids it was asked to forget');
  });

  test('where on a hashed feature takes the raw value; before a date deletes the older rows', async () => {
    await infer('digits', body('hashed-person', 1, 21, { 5: 4242 }));
    await log().flush();
    const res = await del({ model: 'digits', where: { feature: 'pixel_5', value: 4242 } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body['deleted'], 1);
    assert.equal(log().window({ model: 'digits' }).requestIds.includes('hashed-person'), false);
    const all = await del({ model: 'digits-summary', before: new Date(Date.now() + 60_000).toISOString() });
    assert.equal(all.body['deleted'], 1);
    assert.equal(log().window({ model: 'digits-summary' }).count, 0);
  });

  test('admin scope: a read token is refused (403), an admin token is named in the audit', async () => {
    const created = async (name: string, scopes: string[], headers: Record<string, string> = {}) => {
      const res = await injectJson(t.app, 'POST', '/api/v1/tokens', { name, scopes }, headers);
      assert.equal(res.status, 201, res.text);
      return { id: String(res.body['id']), auth: { authorization: `Bearer ${String(res.body['token'])}` } };
    };
    const admin = await created('privacy-officer', ['admin']);
    const reader = await created('analyst', ['read'], admin.auth);
    assert.equal((await del({ model: 'digits', ids: ['near'] })).status, 401);
    assert.equal((await del({ model: 'digits', ids: ['near'] }, reader.auth)).status, 403);
    const ok = await del({ model: 'digits', ids: ['near'] }, admin.auth);
    assert.equal(ok.status, 200, ok.text);
    const audit = await injectJson(
      t.app,
      'GET',
      '/api/v1/audit?action=prediction_log.delete&limit=1',
      undefined,
      admin.auth,
    );
    const [entry] = audit.body['entries'] as { actor: string; detail: string }[];
    assert.equal(entry?.actor, admin.id, audit.text);
    assert.match(entry?.detail ?? '', /deleted 10 row/);
  });
});
