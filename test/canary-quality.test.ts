/**
 * A canary rolled back on ground truth: its policy names a quality metric, feedback arrives for
 * the predictions of both versions, and the canary — a model that always answers 0 — is rolled
 * back with the two accuracies in the history's reason.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GraphBuilder, writeModel } from '../src/onnx/index.js';
import { Registry } from '../src/registry/index.js';
import { readNumericCsv } from '../src/train/csv.js';
import { FIXTURE_MODELS, ROOT, getJson, postJson, startTestServer, tempDir } from './helpers.js';

const table = readNumericCsv(join(ROOT, 'assets', 'datasets', 'digits.csv'));
const width = table.columns.length - 1;

async function put(url: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: 'PUT',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

test('a canary whose accuracy falls behind the champion is rolled back automatically, and the history says why', async () => {
  const home = tempDir('canary-quality');
  const files = tempDir('canary-quality-files');
  // Same signature as digits_mlp, always answers class 0.
  const zero = new GraphBuilder('always-zero')
    .input('pixels', 'FP32', ['batch', 64])
    .output('logits', 'FP32', ['batch', 10])
    .initializer('w', new Float32Array(640), [64, 10])
    .initializer(
      'b',
      Float32Array.from({ length: 10 }, (_, i) => (i === 0 ? 5 : 0)),
      [10],
    )
    .node('MatMul', ['pixels', 'w'], ['z'])
    .node('Add', ['z', 'b'], ['logits']);
  writeFileSync(join(files, 'zero.onnx'), writeModel(zero.build()));
  const registry = await Registry.open(home);
  await registry.models.push(join(FIXTURE_MODELS, 'digits_mlp.onnx'), { name: 'dq' });
  await registry.models.push(join(files, 'zero.onnx'), { name: 'dq' });
  await registry.close();
  const srv = await startTestServer({ home });
  try {
    const bad = await put(`${srv.url}/api/v1/deployments/dq`, {
      champion: 1,
      canary: { version: 2, percent: 50, policy: { quality_metric: 'precision', min_labelled: 50 } },
    });
    assert.equal(bad.status, 400);
    assert.match(String(bad.body['error']), /quality_metric must be one of accuracy/);
    const set = await put(`${srv.url}/api/v1/deployments/dq`, {
      champion: 1,
      canary: {
        version: 2,
        percent: 50,
        policy: { quality_metric: 'accuracy', max_quality_drop: 0.1, min_labelled: 50 },
      },
    });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    const seen: Record<string, number> = {};
    for (let i = 0; i < 300; i++) {
      const r = (2 * i + 1) % table.rows;
      const data = Array.from(
        { length: width },
        (_, c) => (table.values[r * table.columns.length + c] as number) / 16,
      );
      const res = await postJson(`${srv.url}/v2/models/dq/infer`, {
        id: `q-${i}`,
        inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, width], data }],
      });
      assert.equal(res.status, 200);
      const v = String(res.body['model_version']);
      seen[v] = (seen[v] ?? 0) + 1;
      const fb = await postJson(`${srv.url}/v2/models/dq/feedback`, {
        feedback: [{ id: `q-${i}`, label: table.values[r * table.columns.length + width] }],
      });
      assert.equal(fb.body['accepted'], 1, JSON.stringify(fb.body));
    }
    assert.ok((seen['1'] ?? 0) >= 50 && (seen['2'] ?? 0) >= 50, JSON.stringify(seen));
    await srv.engine.monitoring.checkCanaryQuality();
    const history = (await getJson(`${srv.url}/api/v1/deployments/dq/history`)).body as unknown as {
      history: { action: string; actor: string; reason: string }[];
    };
    const last = history.history[0];
    assert.equal(last?.action, 'auto_rollback', JSON.stringify(history.history.slice(0, 2)));
    assert.equal(last?.actor, 'tend');
    assert.match(
      last?.reason ?? '',
      /canary accuracy 0\.\d+ \(\d+ labelled\) is worse than the champion's 0\.9\d+/,
    );
    const now = (await getJson(`${srv.url}/api/v1/deployments/dq`)).body as {
      routes: Record<string, unknown>;
    };
    assert.equal(String(now.routes['champion']), '1');
    assert.equal(now.routes['canary'], undefined);
  } finally {
    await srv.close();
  }
});
