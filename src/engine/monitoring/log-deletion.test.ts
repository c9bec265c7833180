import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelConfig } from '../../core/config.js';
import { hashFeatureValue } from '../../monitor/feature-redaction.js';
import type { ServedVersion } from '../serving/served-version.js';
import {
  deletionSelector,
  describeDeletion,
  parseLogDeleteRequest,
  parseWhere,
  type DeletionContext,
} from './log-deletion.js';

const SALT = Buffer.alloc(16, 7);

function context(config: ModelConfig, names: string[] | null, served = true): DeletionContext {
  const sv = {} as ServedVersion;
  return {
    version: () => (served ? Promise.resolve(sv) : Promise.reject(new Error('not served'))),
    config: () => config,
    featureNames: () => Promise.resolve(names),
    salt: () => SALT,
  };
}

test('parseWhere: a name or an index, then a number; anything else is refused', () => {
  assert.deepEqual(parseWhere('age=42'), { feature: 'age', value: 42 });
  assert.deepEqual(parseWhere('3=-1.5'), { feature: 3, value: -1.5 });
  assert.deepEqual(parseWhere('a=b=2'), { feature: 'a=b', value: 2 });
  for (const bad of ['age', '=1', 'age=', 'age=x', 'age=Infinity'])
    assert.throws(() => parseWhere(bad), /must be FEATURE=NUMBER/, bad);
});

test('parseLogDeleteRequest: the fields and their types', () => {
  assert.deepEqual(parseLogDeleteRequest({ model: 'm', version: 2, ids: ['a'], before: '2026-01-01' }), {
    model: 'm',
    version: 2,
    ids: ['a'],
    before: '2026-01-01',
  });
  for (const [body, message] of [
    [{ model: 'm', version: 0 }, /'version'/],
    [{ model: 'm', version: '2' }, /'version'/],
    [{ model: 'm', ids: [1] }, /'ids'/],
    [{ model: 'm', before: 5 }, /'before'/],
    [{ model: 'm', where: null }, /'where'/],
    [{ model: 'm', where: { feature: true, value: 1 } }, /'where'/],
    [{ model: '' }, /'model'/],
  ] as const)
    assert.throws(() => parseLogDeleteRequest(body as Record<string, unknown>), message);
});

test('deletionSelector: names through the reference, hashed features hashed, dates parsed', async () => {
  const config: ModelConfig = {
    monitoring: { redact: [{ feature: 'customer', action: 'hash' }] },
  };
  const names = ['age', 'customer'];
  const byName = await deletionSelector(
    {
      model: 'm',
      where: { feature: 'customer', value: 99 },
      before: '2026-01-02T00:00:00Z',
      ids: ['a', 'a'],
    },
    context(config, names),
  );
  assert.deepEqual(byName, {
    model: 'm',
    requestIds: ['a'],
    beforeMs: Date.parse('2026-01-02T00:00:00Z'),
    where: { feature: 1, value: hashFeatureValue(SALT, 99) },
  });
  const byIndex = await deletionSelector(
    { model: 'm', where: { feature: 1, value: 99 } },
    context(config, names),
  );
  assert.deepEqual(
    byIndex.where,
    { feature: 1, value: hashFeatureValue(SALT, 99) },
    'the rule names that column',
  );
  const plain = await deletionSelector(
    { model: 'm', where: { feature: 0, value: 99 } },
    context(config, names),
  );
  assert.deepEqual(plain.where, { feature: 0, value: 99 });
  const unserved = await deletionSelector(
    { model: 'm', where: { feature: 0, value: 5 } },
    context({}, null, false),
  );
  assert.deepEqual(unserved.where, { feature: 0, value: 5 }, 'an index needs no served version');
  await assert.rejects(
    deletionSelector({ model: 'm', where: { feature: 'zip', value: 1 } }, context({}, names)),
    /'zip' is not a column of the reference data set of 'm' \(age, customer\)/,
  );
  await assert.rejects(
    deletionSelector({ model: 'm', where: { feature: 'zip', value: 1 } }, context({}, null)),
    /no reference data set to name its columns — give the column index/,
  );
  await assert.rejects(deletionSelector({ model: 'm', before: 'soon' }, context({}, null)), /not a date/);
  await assert.rejects(
    deletionSelector({ model: 'm', where: { feature: 1.5, value: 1 } }, context({}, null)),
    /column index/,
  );
});

test('describeDeletion: counts and selectors, never the ids or the value', () => {
  const text = describeDeletion(
    { model: 'm', version: 3, ids: ['alice-123'], where: { feature: 'ssn', value: 123456789 } },
    { deleted: 4, with_feedback: 1, blocks_rewritten: 1, blocks_removed: 0, reclaimed: true },
  );
  assert.equal(
    text,
    'deleted 4 row(s) (1 with feedback) selected by version 3, 1 request id(s), where ssn=<value>',
  );
});
