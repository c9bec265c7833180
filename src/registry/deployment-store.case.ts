/**
 * The DeploymentStore contract, as one suite every implementation of the registry stores runs beside
 * `runStoreSuite` (see sqlite-store.test.ts).
 */
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TendError } from '../core/errors.js';
import type { ErrorCode } from '../core/errors.js';
import type { RegistryStores } from './registry-stores.js';
import { newVersion, rejectsWith } from './store.case.js';
import type { StoreFixture } from './store.case.js';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const ALICE = { actor: 'alice', action: 'put' } as const;

async function rejectsMentioning(
  promise: Promise<unknown>,
  code: ErrorCode,
  ...fragments: string[]
): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof TendError, `expected a TendError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    for (const fragment of fragments)
      assert.ok(err.message.includes(fragment), `'${fragment}' not in: ${err.message}`);
    return true;
  });
}

/** Run the shared DeploymentStore suite against one implementation; each test gets fresh stores. */
export function runDeploymentStoreSuite(name: string, makeStore: () => Promise<StoreFixture>): void {
  describe(`DeploymentStore contract: ${name}`, () => {
    let fixture: StoreFixture;
    let stores: RegistryStores;
    beforeEach(async () => {
      fixture = await makeStore();
      stores = fixture.stores;
      for (let i = 0; i < 4; i++) await stores.models.createVersion(newVersion('digits'));
      await stores.models.setAlias('digits', 'stable', 1, 'ci');
    });
    afterEach(async () => {
      await fixture.stores.close();
      await fixture.cleanup();
    });

    test('put, get and list: refs are stored normalized, with who and when', async () => {
      assert.equal(await stores.deployments.getDeployment('digits'), null);
      assert.deepEqual(await stores.deployments.listDeployments(), []);
      const put = await stores.deployments.putDeployment(
        'digits',
        { champion: 1, canary: { version: 2, percent: 10 } },
        ALICE,
      );
      assert.deepEqual(put.routes, { champion: '1', canary: { version: '2', percent: 10 } });
      assert.equal(put.endpoint, 'digits');
      assert.equal(put.revision, 1);
      assert.equal(put.updated_by, 'alice');
      assert.match(put.updated_at, ISO_UTC);
      assert.deepEqual(await stores.deployments.getDeployment('digits'), put);
      await stores.models.createVersion(newVersion('aaa'));
      await stores.deployments.putDeployment('aaa', { champion: 'latest' }, ALICE);
      assert.deepEqual(
        (await stores.deployments.listDeployments()).map((d) => [d.endpoint, d.routes.champion]),
        [
          ['aaa', 'latest'],
          ['digits', '1'],
        ],
      );
      assert.deepEqual(JSON.parse(JSON.stringify(put)), put);
    });

    test('every change is in the history, newest first: who, when, action, before, after, reason', async () => {
      await stores.deployments.putDeployment(
        'digits',
        { champion: 'stable' },
        { actor: 'alice', action: 'config' },
      );
      await stores.deployments.putDeployment(
        'digits',
        { champion: 'stable', canary: { version: 3, percent: 5 } },
        { actor: 'bob', action: 'canary', reason: 'try v3' },
      );
      // The same routes again (any key order, numbers or strings): no change, no entry.
      const same = await stores.deployments.putDeployment(
        'digits',
        { canary: { percent: 5, version: '3' }, champion: 'stable' },
        ALICE,
      );
      assert.equal(same.revision, 2);
      assert.equal(same.updated_by, 'bob');
      await stores.deployments.putDeployment(
        'digits',
        { champion: 'stable' },
        {
          actor: 'tend',
          action: 'auto_rollback',
          reason: 'canary error rate 20% > champion 0% + 5 pts over 200 requests',
        },
      );
      const removed = await stores.deployments.deleteDeployment('digits', {
        actor: 'carol',
        action: 'delete',
      });
      assert.deepEqual(removed.routes, { champion: 'stable' });
      assert.equal(await stores.deployments.getDeployment('digits'), null);

      const history = await stores.deployments.deploymentHistory('digits');
      assert.deepEqual(
        history.map((h) => [h.id, h.actor, h.action, h.before, h.after, h.reason]),
        [
          [4, 'carol', 'delete', { champion: 'stable' }, null, null],
          [
            3,
            'tend',
            'auto_rollback',
            { champion: 'stable', canary: { version: '3', percent: 5 } },
            { champion: 'stable' },
            'canary error rate 20% > champion 0% + 5 pts over 200 requests',
          ],
          [
            2,
            'bob',
            'canary',
            { champion: 'stable' },
            { champion: 'stable', canary: { version: '3', percent: 5 } },
            'try v3',
          ],
          [1, 'alice', 'config', null, { champion: 'stable' }, null],
        ],
      );
      for (const h of history) {
        assert.equal(h.endpoint, 'digits');
        assert.match(h.at, ISO_UTC);
      }
      assert.deepEqual(
        (await stores.deployments.deploymentHistory('digits', { limit: 2 })).map((h) => h.id),
        [4, 3],
      );
      // A new deployment continues the history; its revision is the id of the entry that wrote it.
      const again = await stores.deployments.putDeployment('digits', { champion: 2 }, ALICE);
      assert.equal(again.revision, 5);
      assert.equal((await stores.deployments.deploymentHistory('digits', { limit: 1 }))[0]?.before, null);
    });

    test('refs must exist: errors name the route and the missing version or alias; nothing changes', async () => {
      const first = await stores.deployments.putDeployment('digits', { champion: 1 }, ALICE);
      await rejectsMentioning(
        stores.deployments.putDeployment('nope', { champion: 1 }, ALICE),
        'TEND_MODEL_NOT_FOUND',
        "'nope'",
      );
      await rejectsMentioning(
        stores.deployments.putDeployment(
          'digits',
          { champion: 1, canary: { version: 9, percent: 10 } },
          ALICE,
        ),
        'TEND_VERSION_NOT_FOUND',
        'canary.version',
        "no version '9'",
      );
      await rejectsMentioning(
        stores.deployments.putDeployment('digits', { champion: 7 }, ALICE),
        'TEND_VERSION_NOT_FOUND',
        'champion',
      );
      await rejectsMentioning(
        stores.deployments.putDeployment('digits', { champion: 1, shadow: { version: 'challenger' } }, ALICE),
        'TEND_ALIAS_NOT_FOUND',
        'shadow.version',
        "no alias 'challenger'",
      );
      await rejectsMentioning(
        stores.deployments.putDeployment(
          'digits',
          {
            champion: 1,
            experiment: {
              variants: [
                { version: 1, weight: 1 },
                { version: 'ghost', weight: 1 },
              ],
            },
          },
          ALICE,
        ),
        'TEND_ALIAS_NOT_FOUND',
        'experiment.variants.1.version',
      );
      assert.deepEqual(await stores.deployments.getDeployment('digits'), first);
      assert.equal((await stores.deployments.deploymentHistory('digits')).length, 1);
    });

    test('bad routes and bad changes are TEND_INVALID_ARGUMENT', async () => {
      await rejectsMentioning(
        stores.deployments.putDeployment(
          'digits',
          { champion: 1, canary: { version: 2, percent: 150 } },
          ALICE,
        ),
        'TEND_INVALID_ARGUMENT',
        'percent',
      );
      await rejectsMentioning(
        stores.deployments.putDeployment(
          'digits',
          {
            champion: 1,
            experiment: {
              variants: [
                { version: 1, weight: 0 },
                { version: 2, weight: 0 },
              ],
            },
          },
          ALICE,
        ),
        'TEND_INVALID_ARGUMENT',
        'sum to more than 0',
      );
      await rejectsWith(
        stores.deployments.putDeployment('digits', { champion: 1 }, { actor: '', action: 'put' }),
        'TEND_INVALID_ARGUMENT',
      );
      await rejectsWith(
        stores.deployments.putDeployment(
          'digits',
          { champion: 1 },
          { actor: 'a', action: 'launch' as 'put' },
        ),
        'TEND_INVALID_ARGUMENT',
      );
      await rejectsWith(
        stores.deployments.putDeployment('digits', { champion: 1 }, { ...ALICE, reason: 'x'.repeat(2001) }),
        'TEND_INVALID_ARGUMENT',
      );
      await rejectsWith(
        stores.deployments.putDeployment('digits', { champion: 1 }, { ...ALICE, expected_revision: 0 }),
        'TEND_INVALID_ARGUMENT',
      );
      await rejectsWith(
        stores.deployments.deploymentHistory('digits', { limit: 0 }),
        'TEND_INVALID_ARGUMENT',
      );
      await rejectsWith(
        stores.deployments.deploymentHistory('digits', { limit: 1.5 }),
        'TEND_INVALID_ARGUMENT',
      );
      assert.equal(await stores.deployments.getDeployment('digits'), null);
    });

    test('two routes resolving to one version are refused; an experiment may include the champion', async () => {
      await rejectsMentioning(
        stores.deployments.putDeployment(
          'digits',
          { champion: 1, canary: { version: 'stable', percent: 10 } },
          ALICE,
        ),
        'TEND_INVALID_ARGUMENT',
        "canary.version: 'stable' is version 1, the champion's version",
      );
      await rejectsMentioning(
        stores.deployments.putDeployment('digits', { champion: 4, shadow: { version: 'latest' } }, ALICE),
        'TEND_INVALID_ARGUMENT',
        'shadow.version',
      );
      await rejectsMentioning(
        stores.deployments.putDeployment(
          'digits',
          {
            champion: 2,
            experiment: {
              variants: [
                { version: 1, weight: 1 },
                { version: 'stable', weight: 1 },
              ],
            },
          },
          ALICE,
        ),
        'TEND_INVALID_ARGUMENT',
        'experiment.variants.1.version',
      );
      const ab = await stores.deployments.putDeployment(
        'digits',
        {
          champion: 1,
          experiment: {
            variants: [
              { version: 1, weight: 1 },
              { version: 2, weight: 1 },
            ],
            sticky_by: 'X-User',
          },
        },
        ALICE,
      );
      assert.equal(ab.routes.experiment?.sticky_by, 'x-user');
    });

    test("every version must take the champion's inputs and give its outputs", async () => {
      const other = await stores.models.createVersion(
        newVersion('digits', {
          signature: {
            inputs: [{ name: 'x', datatype: 'FP64', onnx_type: 'tensor(double)', shape: ['batch', 4] }],
            outputs: [{ name: 'y', datatype: 'FP32', onnx_type: 'tensor(float)', shape: ['batch', 2] }],
          },
        }),
      );
      await rejectsMentioning(
        stores.deployments.putDeployment(
          'digits',
          { champion: 1, canary: { version: other.version, percent: 10 } },
          ALICE,
        ),
        'TEND_INVALID_ARGUMENT',
        `canary.version: version ${other.version} cannot take the traffic of champion version 1`,
        "input 'x' is FP64, not FP32",
      );
      await rejectsWith(
        stores.deployments.putDeployment(
          'digits',
          { champion: 1, shadow: { version: other.version } },
          ALICE,
        ),
        'TEND_INVALID_ARGUMENT',
      );
    });

    test('expected_revision makes writes compare-and-set (TEND_CONFLICT when it moved on)', async () => {
      const created = await stores.deployments.putDeployment(
        'digits',
        { champion: 1 },
        { ...ALICE, expected_revision: null },
      );
      await rejectsMentioning(
        stores.deployments.putDeployment('digits', { champion: 2 }, { ...ALICE, expected_revision: null }),
        'TEND_CONFLICT',
        'changed meanwhile',
      );
      const moved = await stores.deployments.putDeployment(
        'digits',
        { champion: 2 },
        { ...ALICE, expected_revision: created.revision },
      );
      await rejectsWith(
        stores.deployments.putDeployment(
          'digits',
          { champion: 3 },
          { ...ALICE, expected_revision: created.revision },
        ),
        'TEND_CONFLICT',
      );
      await rejectsWith(
        stores.deployments.deleteDeployment('digits', {
          ...ALICE,
          action: 'delete',
          expected_revision: created.revision,
        }),
        'TEND_CONFLICT',
      );
      assert.deepEqual(await stores.deployments.getDeployment('digits'), moved);
      await stores.deployments.deleteDeployment('digits', {
        ...ALICE,
        action: 'delete',
        expected_revision: moved.revision,
      });
    });

    test('unknown endpoints and missing deployments', async () => {
      await rejectsWith(stores.deployments.getDeployment('nope'), 'TEND_MODEL_NOT_FOUND');
      await rejectsWith(stores.deployments.deploymentHistory('nope'), 'TEND_MODEL_NOT_FOUND');
      await rejectsWith(stores.deployments.deleteDeployment('nope', ALICE), 'TEND_MODEL_NOT_FOUND');
      await rejectsWith(stores.deployments.deploymentReferences('nope', 1), 'TEND_MODEL_NOT_FOUND');
      await rejectsMentioning(
        stores.deployments.deleteDeployment('digits', { actor: 'a', action: 'delete' }),
        'TEND_NOT_FOUND',
        'has no deployment',
      );
      assert.deepEqual(await stores.deployments.deploymentHistory('digits'), []);
    });

    test('deploymentReferences finds routes pointing at a version directly, by alias or by latest', async () => {
      assert.deepEqual(await stores.deployments.deploymentReferences('digits', 1), []);
      await stores.deployments.putDeployment(
        'digits',
        { champion: 'stable', canary: { version: 3, percent: 10 }, shadow: { version: 'latest' } },
        ALICE,
      );
      assert.deepEqual(await stores.deployments.deploymentReferences('digits', 1), [
        { endpoint: 'digits', route: 'champion', ref: 'stable' },
      ]);
      assert.deepEqual(await stores.deployments.deploymentReferences('digits', 3), [
        { endpoint: 'digits', route: 'canary', ref: '3' },
      ]);
      assert.deepEqual(await stores.deployments.deploymentReferences('digits', 4), [
        { endpoint: 'digits', route: 'shadow', ref: 'latest' },
      ]);
      assert.deepEqual(await stores.deployments.deploymentReferences('digits', 2), []);
      await stores.models.setAlias('digits', 'stable', 2, 'ci');
      assert.deepEqual(await stores.deployments.deploymentReferences('digits', 1), []);
      assert.deepEqual(await stores.deployments.deploymentReferences('digits', 2), [
        { endpoint: 'digits', route: 'champion', ref: 'stable' },
      ]);
      await stores.deployments.putDeployment(
        'digits',
        {
          champion: 2,
          experiment: {
            variants: [
              { version: 2, weight: 1 },
              { version: 4, weight: 1 },
            ],
          },
        },
        ALICE,
      );
      assert.deepEqual(await stores.deployments.deploymentReferences('digits', 4), [
        { endpoint: 'digits', route: 'experiment', ref: '4', variant: 1 },
      ]);
    });

    test('concurrent changes of one endpoint are serialized: each entry starts where the previous ended', async () => {
      await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          stores.deployments.putDeployment(
            'digits',
            { champion: 1, canary: { version: 2, percent: i + 1 } },
            { actor: `w${i}`, action: 'canary' },
          ),
        ),
      );
      const history = (await stores.deployments.deploymentHistory('digits')).reverse();
      assert.deepEqual(
        history.map((h) => h.id),
        [1, 2, 3, 4, 5, 6, 7, 8],
      );
      assert.equal(history[0]?.before, null);
      for (let i = 1; i < history.length; i++) assert.deepEqual(history[i]?.before, history[i - 1]?.after);
      assert.deepEqual((await stores.deployments.getDeployment('digits'))?.routes, history.at(-1)?.after);
      assert.equal((await stores.deployments.getDeployment('digits'))?.revision, 8);
    });
  });
}
