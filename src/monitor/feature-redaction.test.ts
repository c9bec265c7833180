import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashFeatureValue, redactFeatures, resolveRedaction, WITHHELD } from './feature-redaction.js';

const SALT = Buffer.from('0123456789abcdef0123456789abcdef');

test('hashFeatureValue: deterministic per salt, float32-exact, 0 and -0 alike, salt-dependent', () => {
  const h = hashFeatureValue(SALT, 42.5);
  assert.equal(hashFeatureValue(SALT, 42.5), h);
  assert.ok(Number.isInteger(h) && h >= 0 && h < 2 ** 24);
  assert.equal(Math.fround(h), h, 'survives the float32 log unchanged');
  assert.equal(hashFeatureValue(SALT, 0), hashFeatureValue(SALT, -0));
  assert.equal(hashFeatureValue(SALT, 0.1), hashFeatureValue(SALT, Math.fround(0.1)), 'hashed as float32');
  assert.notEqual(hashFeatureValue(Buffer.from('another salt, 16+ bytes'), 42.5), h);
  // The published recipe: HMAC-SHA256(salt, float32 LE bytes), first 3 bytes big-endian.
  const seen = new Set([1, 2, 3, 4, 5].map((v) => hashFeatureValue(SALT, v)));
  assert.equal(seen.size, 5);
});

test('redactFeatures: drop → NaN, hash → the salted hash, the other columns untouched', () => {
  const plan = {
    actions: new Map([
      [0, 'drop' as const],
      [2, 'hash' as const],
      [9, 'drop' as const],
    ]),
    salt: SALT,
  };
  const row = new Float32Array([1.5, 2.5, 3.5]);
  const out = redactFeatures(plan, row, null);
  assert.equal(out.features, row, 'changed in place (the capture owns the copy)');
  assert.ok(Number.isNaN(row[0]));
  assert.equal(row[1], 2.5);
  assert.equal(row[2], hashFeatureValue(SALT, 3.5));
  assert.equal(out.featureSummary, null);
});

test('redactFeatures: summary keeps the summary of the kept columns and wipes the row', () => {
  const plan = {
    actions: new Map([
      [1, 'summary' as const],
      [3, 'drop' as const],
      [4, 'hash' as const],
    ]),
    salt: SALT,
  };
  const row = new Float32Array([1, 2, 3, 1000, 2000]);
  const out = redactFeatures(plan, row, null);
  assert.equal(out.features, null);
  assert.deepEqual([...row], [0, 0, 0, 0, 0], 'the copy is zeroed, not left for the collector');
  const { std, ...rest } = out.featureSummary ?? { std: NaN };
  assert.deepEqual(rest, { mean: 2, min: 1, max: 3, count: 3 });
  assert.ok(Math.abs(std - Math.sqrt(2 / 3)) < 1e-12, String(std));
});

test('redactFeatures: no rules keep everything; rules without per-feature values or salt withhold', () => {
  const summary = { mean: 1, std: 0, min: 1, max: 1, count: 10 };
  const row = new Float32Array([1, 2]);
  assert.deepEqual(redactFeatures({ actions: new Map() }, row, null), {
    features: row,
    featureSummary: null,
  });
  assert.equal(redactFeatures({ actions: new Map([[0, 'drop']]) }, null, summary), WITHHELD);
  const unsalted = new Float32Array([7, 8]);
  assert.equal(redactFeatures({ actions: new Map([[1, 'hash']]) }, unsalted, null), WITHHELD);
  assert.deepEqual([...unsalted], [0, 0]);
});

test('resolveRedaction: names through the header, unknown names reported, the stricter rule wins', () => {
  const names = ['age', 'income', 'zip'];
  const resolved = resolveRedaction(
    [
      { feature: 'income', action: 'hash' },
      { feature: 1, action: 'drop' },
      { feature: 'zip', action: 'hash' },
    ],
    names,
    SALT,
  );
  assert.ok('plan' in resolved);
  assert.deepEqual(
    [...resolved.plan.actions],
    [
      [1, 'drop'],
      [2, 'hash'],
    ],
  );
  assert.deepEqual(resolveRedaction([{ feature: 'ssn', action: 'drop' }], names, undefined), {
    unknown: ['ssn'],
  });
  assert.deepEqual(resolveRedaction([{ feature: 'age', action: 'drop' }], null, undefined), {
    unknown: ['age'],
  });
});
