/**
 * Global importance through the HTTP route (`inject`): permutation importance from logged rows joined
 * with feedback ranks first the two features a test-built ONNX classifier reads; mean |SHAP| over
 * logged rows; the refusals (no labels, unknown method or query parameter).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { attachReference } from '../../engine/index.js';
import { GraphBuilder, writeModel } from '../../onnx/index.js';
import { injectJson, openInjectApp, seededRandom, type InjectApp } from './inject.test-helper.js';

const M = 6;
/** logits = [0, 2·x1 − 1.5·x4]: only features 1 and 4 matter. */
function twoFeatureClassifier(): Uint8Array {
  const w = new Float32Array(M * 2);
  w[1 * 2 + 1] = 2;
  w[4 * 2 + 1] = -1.5;
  return writeModel(
    new GraphBuilder('two')
      .input('x', 'FP32', ['batch', M])
      .output('logits', 'FP32', ['batch', 2])
      .initializer('w', w, [M, 2])
      .node('MatMul', ['x', 'w'], ['logits'])
      .build(),
  );
}

const random = seededRandom(5);
const rows = Array.from({ length: 120 }, () =>
  Array.from({ length: M }, () => Math.fround(random() * 2 - 1)),
);
const labelOf = (r: number[]) => (2 * (r[1] as number) - 1.5 * (r[4] as number) > 0 ? 1 : 0);

let t: InjectApp;
const get = (path: string) => injectJson(t.app, 'GET', path);

before(async () => {
  t = await openInjectApp({
    registry: [
      { name: 'two', model: twoFeatureClassifier() },
      { name: 'unlabelled', model: twoFeatureClassifier() },
    ],
    prepare: async (registry) => {
      const header = Array.from({ length: M }, (_, j) => `f${j}`).join(',');
      const text = `${header}\n${rows.map((r) => r.join(',')).join('\n')}\n`;
      await attachReference(registry, 'two', undefined, text, 'test');
    },
    config: { monitoring: { sampling_rate: 1 } },
  });
  for (const name of ['two', 'unlabelled']) {
    for (let start = 0; start < rows.length; start += 40) {
      const chunk = rows.slice(start, start + 40);
      const res = await injectJson(t.app, 'POST', `/v2/models/${name}/infer`, {
        id: `${name}-${start}`,
        inputs: [{ name: 'x', datatype: 'FP32', shape: [chunk.length, M], data: chunk.flat() }],
      });
      assert.equal(res.status, 200, res.text);
    }
  }
  const feedback = rows.map((r, i) => ({
    id: `two-${Math.floor(i / 40) * 40}`,
    row: i % 40,
    label: labelOf(r),
  }));
  const fed = await injectJson(t.app, 'POST', '/v2/models/two/feedback', { feedback });
  assert.equal(fed.status, 200, fed.text);
  assert.equal(fed.body['accepted'], rows.length);
});

after(() => t?.close());

describe('global importance', () => {
  test('permutation importance over logged rows with feedback ranks features 1 and 4 first', async () => {
    const res = await get('/v2/models/two/importance?method=permutation&seed=2');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body['metric'], 'accuracy');
    assert.equal(res.body['baseline_score'], 1);
    assert.equal(res.body['rows'], rows.length);
    assert.deepEqual(res.body['feature_names'], ['f0', 'f1', 'f2', 'f3', 'f4', 'f5']);
    const importance = res.body['importance'] as number[];
    const ranked = importance
      .map((v, j) => ({ v, j }))
      .sort((a, b) => b.v - a.v)
      .map((e) => e.j);
    assert.deepEqual(ranked.slice(0, 2).sort(), [1, 4]);
    for (const j of [0, 2, 3, 5]) assert.equal(importance[j], 0);
  });

  test('mean |SHAP| over logged rows: features 1 and 4 carry it all', async () => {
    const res = await get('/v2/models/two/importance?method=mean_abs_shap&rows=10');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body['rows'], 10);
    const [out] = res.body['outputs'] as { name: string; importance: number[][] }[];
    assert.equal(out?.name, 'logits');
    const second = out?.importance[1] as number[];
    for (const j of [0, 2, 3, 5])
      assert.ok(Math.abs(second[j] as number) < 1e-6, `feature ${j}: ${second[j]}`);
    assert.ok((second[1] as number) > 0.1 && (second[4] as number) > 0.1);
  });

  test('refusals: no labels, unknown method, unknown query parameter', async () => {
    const unlabelled = await get('/v2/models/unlabelled/importance');
    assert.equal(unlabelled.status, 400, unlabelled.text);
    assert.match(
      unlabelled.body['error'] as string,
      /needs at least 10 logged rows with feedback labels; model 'unlabelled' version 1 has 0 of the last 120 logged/,
    );
    const method = await get('/v2/models/two/importance?method=gain');
    assert.equal(method.status, 400);
    assert.match(method.body['error'] as string, /method must be one of permutation, mean_abs_shap/);
    const unknown = await get('/v2/models/two/importance?window=1h');
    assert.equal(unknown.status, 400);
    assert.match(unknown.body['error'] as string, /unknown query parameter\(s\) window/);
    assert.equal((await get('/v2/models/nope/importance')).status, 404);
  });
});
