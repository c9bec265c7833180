/**
 * The DeploymentStore contract, as one suite every implementation of the registry stores runs beside
 * `runStoreSuite` (see sqlite-store.test.ts).
 */
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ALICE, deploymentValidationTests, rejectsMentioning } from './deployment-validation.case.js';
import type { RegistryStores } from './registry-stores.js';
import { newVersion, rejectsWith } from './store.case.js';
import type { StoreFixture } from './store.case.js';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
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

    deploymentValidationTests(() => stores);

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
