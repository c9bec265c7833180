/**
 * The lifecycle contract every LifecycleStore keeps (archive, delete, references, snapshots and
 * imports, blob leases), as one suite each implementation runs (see sqlite-store.test.ts).
 */
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RegistryStores } from './registry-stores.js';
import { newVersion, rejectsWith } from './store.case.js';
import type { StoreFixture } from './store.case.js';

const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);

async function conflictNaming(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (err: Error & { code?: string }) => {
    assert.equal(err.code, 'TEND_CONFLICT', err.message);
    assert.match(err.message, pattern);
    return true;
  });
}

/** Run the lifecycle suite against one implementation; each test gets fresh stores. */
export function runLifecycleStoreSuite(name: string, makeStore: () => Promise<StoreFixture>): void {
  describe(`LifecycleStore contract: ${name}`, () => {
    let fixture: StoreFixture;
    let stores: RegistryStores;
    beforeEach(async () => {
      fixture = await makeStore();
      stores = fixture.stores;
    });
    afterEach(async () => {
      await fixture.stores.close();
      await fixture.cleanup();
    });

    test('an archived version is kept and listed, resolves by number, and latest skips it', async () => {
      for (let i = 0; i < 3; i++) await stores.models.createVersion(newVersion('m'));
      const archived = await stores.lifecycle.archiveVersion('m', 3, 'alice');
      assert.equal(archived.archived, true);
      assert.equal(archived.status, 'archived');
      assert.equal(archived.archived_by, 'alice');
      assert.ok(archived.archived_at !== null && archived.archived_at >= archived.created_at);
      assert.deepEqual(await stores.lifecycle.archiveVersion('m', 3, 'bob'), archived); // idempotent, first archiver kept
      assert.equal((await stores.models.getVersion('m', 3)).archived, true);
      assert.deepEqual(
        (await stores.models.listVersions('m')).map((v) => [v.version, v.archived]),
        [
          [1, false],
          [2, false],
          [3, true],
        ],
      );
      assert.equal((await stores.models.latestVersion('m')).version, 2);
      const model = await stores.models.getModel('m');
      assert.deepEqual([model.latest_version, model.version_count], [2, 3]);

      await rejectsWith(stores.models.setAlias('m', 'champion', 3, 'x'), 'TEND_CONFLICT');
      const back = await stores.lifecycle.unarchiveVersion('m', 3);
      assert.deepEqual(
        [back.archived, back.status, back.archived_at, back.archived_by],
        [false, 'ready', null, null],
      );
      assert.equal((await stores.models.latestVersion('m')).version, 3);
      await stores.models.setAlias('m', 'champion', 3, 'x');
    });

    test('latest with every version archived is a 404 that says why', async () => {
      await stores.models.createVersion(newVersion('m'));
      await stores.lifecycle.archiveVersion('m', 1, 'x');
      await assert.rejects(stores.models.latestVersion('m'), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'TEND_VERSION_NOT_FOUND');
        assert.match(err.message, /every version is archived/);
        return true;
      });
      assert.equal((await stores.models.getModel('m')).latest_version, null);
    });

    test('archive and delete are refused while an alias or a route points at the version', async () => {
      await stores.models.createVersion(newVersion('m', { aliases: ['champion', 'stable'] }));
      await stores.models.createVersion(newVersion('m'));
      await stores.models.createVersion(newVersion('m'));
      assert.deepEqual(await stores.lifecycle.versionReferences('m', 1), [
        "alias 'champion'",
        "alias 'stable'",
      ]);
      await conflictNaming(
        stores.lifecycle.archiveVersion('m', 1, 'x'),
        /alias 'champion', alias 'stable' point at it/,
      );
      await conflictNaming(
        stores.lifecycle.deleteVersion('m', 1),
        /cannot delete version 1 of model 'm': alias 'champion'/,
      );

      await stores.deployments.putDeployment(
        'm',
        { champion: 'champion', canary: { version: 2, percent: 10 } },
        { actor: 'x', action: 'canary' },
      );
      assert.deepEqual(await stores.lifecycle.versionReferences('m', 2), ["deployment 'm' canary"]);
      assert.deepEqual(await stores.lifecycle.versionReferences('m', 1), [
        "alias 'champion'",
        "alias 'stable'",
        "deployment 'm' champion (via 'champion')",
      ]);
      await conflictNaming(
        stores.lifecycle.archiveVersion('m', 2, 'x'),
        /deployment 'm' canary points at it/,
      );
      await conflictNaming(stores.lifecycle.deleteVersion('m', 2), /deployment 'm' canary/);
      assert.deepEqual(await stores.lifecycle.versionReferences('m', 3), []);

      // 'latest' is a reference to whichever version it means now.
      await stores.deployments.putDeployment('m', { champion: 'latest' }, { actor: 'x', action: 'put' });
      assert.deepEqual(await stores.lifecycle.versionReferences('m', 3), [
        "deployment 'm' champion (via 'latest')",
      ]);
      await conflictNaming(stores.lifecycle.archiveVersion('m', 3, 'x'), /via 'latest'/);
      assert.equal((await stores.models.getVersion('m', 3)).archived, false); // nothing changed

      await rejectsWith(stores.lifecycle.versionReferences('m', 9), 'TEND_VERSION_NOT_FOUND');
      await rejectsWith(stores.lifecycle.versionReferences('nope', 1), 'TEND_MODEL_NOT_FOUND');
    });

    test('deleting a version removes its row; numbers are never reused', async () => {
      await stores.models.createVersion(newVersion('m', { sha256: SHA_A }));
      await stores.models.createVersion(newVersion('m', { sha256: SHA_B, parent_version: 1 }));
      const removed = await stores.lifecycle.deleteVersion('m', 2);
      assert.equal(removed.sha256, SHA_B);
      await rejectsWith(stores.models.getVersion('m', 2), 'TEND_VERSION_NOT_FOUND');
      await rejectsWith(stores.lifecycle.deleteVersion('m', 2), 'TEND_VERSION_NOT_FOUND');
      assert.equal((await stores.models.createVersion(newVersion('m'))).version, 3);
      // An archived version can be deleted; the model's history survives.
      await stores.lifecycle.archiveVersion('m', 1, 'x');
      await stores.lifecycle.deleteVersion('m', 1);
      assert.deepEqual(
        (await stores.models.listVersions('m')).map((v) => v.version),
        [3],
      );
      await rejectsWith(stores.lifecycle.deleteVersion('nope', 1), 'TEND_MODEL_NOT_FOUND');
      await rejectsWith(stores.lifecycle.deleteVersion('m', 0), 'TEND_INVALID_ARGUMENT');
      await rejectsWith(stores.lifecycle.archiveVersion('m', 7, 'x'), 'TEND_VERSION_NOT_FOUND');
    });

    test('deleting a model: refused while referenced, then gone whole; its numbers continue', async () => {
      await stores.models.createVersion(newVersion('m', { aliases: ['champion'] }));
      await stores.models.createVersion(newVersion('m'));
      await stores.models.createVersion(newVersion('other'));
      await conflictNaming(
        stores.lifecycle.deleteModel('m', 'x'),
        /cannot delete model 'm': alias 'champion' \(version 1\)/,
      );
      await stores.deployments.putDeployment('m', { champion: 2 }, { actor: 'x', action: 'put' });
      await stores.models.removeAlias('m', 'champion', 'x');
      await conflictNaming(stores.lifecycle.deleteModel('m', 'x'), /deployment 'm'/);
      await stores.deployments.deleteDeployment('m', { actor: 'x', action: 'delete' });

      const deleted = await stores.lifecycle.deleteModel('m', 'alice');
      assert.equal(deleted.version_count, 2);
      await rejectsWith(stores.models.getModel('m'), 'TEND_MODEL_NOT_FOUND');
      assert.deepEqual(
        (await stores.models.listModels()).map((m) => m.name),
        ['other'],
      );
      await rejectsWith(stores.lifecycle.deleteModel('m', 'x'), 'TEND_MODEL_NOT_FOUND');

      const again = await stores.models.createVersion(newVersion('m'));
      assert.equal(again.version, 3);
      assert.deepEqual(await stores.models.aliasHistory('m', 'champion'), []);
      assert.deepEqual(await stores.deployments.deploymentHistory('m'), []);
      // Deleted twice: the high-water mark still only grows.
      await stores.lifecycle.deleteModel('m', 'x');
      assert.equal((await stores.models.createVersion(newVersion('m'))).version, 4);
    });

    test('a snapshot imports back under another name with numbers, aliases and history kept', async () => {
      await stores.models.createVersion(
        newVersion('m', { aliases: ['champion'], tags: { t: '1' }, metrics: { acc: 0.9 }, description: 'd' }),
      );
      await stores.models.createVersion(newVersion('m', { sha256: SHA_B, parent_version: 1, run_id: 'r' }));
      await stores.models.createVersion(newVersion('m'));
      await stores.models.setAlias('m', 'champion', 2, 'bob');
      await stores.models.setAlias('m', 'gone', 1, 'bob');
      await stores.models.removeAlias('m', 'gone', 'bob');
      await stores.lifecycle.deleteVersion('m', 3);
      await stores.lifecycle.archiveVersion('m', 1, 'carol');
      await stores.models.updateModel('m', { tags: { owner: 'ml' } });

      const snap = await stores.lifecycle.snapshotModel('m');
      assert.equal(snap.next_version, 4);
      assert.deepEqual(
        snap.versions.map((v) => v.version),
        [1, 2],
      );
      assert.deepEqual(snap.aliases, { champion: 2 });
      assert.deepEqual(
        snap.alias_history.map((h) => [h.alias, h.from_version, h.to_version]),
        [
          ['champion', null, 1],
          ['champion', 1, 2],
          ['gone', null, 1],
          ['gone', 1, null],
        ],
      );

      const { name: _n, versions, ...rest } = snap;
      const imported = await stores.lifecycle.importModel({
        ...rest,
        name: 'copy',
        versions,
        actor: 'importer',
      });
      assert.deepEqual(imported.aliases, { champion: 2 });
      assert.deepEqual(imported.tags, { owner: 'ml' });
      assert.equal(imported.description, 'd');
      const strip = (list: { name: string }[]) => list.map(({ name: _x, ...v }) => v);
      assert.deepEqual(
        strip(await stores.models.listVersions('copy')),
        strip(await stores.models.listVersions('m')),
      );
      assert.deepEqual(
        await stores.models.aliasHistory('copy', 'gone'),
        await stores.models.aliasHistory('m', 'gone'),
      );
      assert.equal((await stores.models.createVersion(newVersion('copy'))).version, 4);

      await conflictNaming(
        stores.lifecycle.importModel({ ...rest, name: 'm', versions, actor: 'x' }),
        /already exists.*--as/,
      );
      await rejectsWith(
        stores.lifecycle.importModel({ ...rest, name: 'bad name', versions, actor: 'x' }),
        'TEND_INVALID_ARGUMENT',
      );
      await rejectsWith(
        stores.lifecycle.importModel({ ...rest, aliases: { champion: 9 }, name: 'c2', versions, actor: 'x' }),
        'TEND_INVALID_ARGUMENT',
      );
      await rejectsWith(
        stores.lifecycle.importModel({ ...rest, aliases: { champion: 1 }, name: 'c3', versions, actor: 'x' }),
        'TEND_INVALID_ARGUMENT',
      );
      await rejectsWith(stores.models.getModel('c2'), 'TEND_MODEL_NOT_FOUND');
      await rejectsWith(stores.lifecycle.snapshotModel('nope'), 'TEND_MODEL_NOT_FOUND');
    });

    test('blob leases: seen by the collector until released or expired', async () => {
      await stores.models.createVersion(newVersion('m', { sha256: SHA_A }));
      const lease = await stores.lifecycle.leaseBlob(SHA_B, 60_000);
      const short = await stores.lifecycle.leaseBlob('c'.repeat(64), 1);
      await new Promise((r) => setTimeout(r, 5));
      const live = await stores.lifecycle.withLiveBlobs(async (l) => ({
        referenced: [...l.referenced],
        leased: [...l.leased],
      }));
      assert.deepEqual(live, { referenced: [SHA_A], leased: [SHA_B] });
      await stores.lifecycle.releaseBlobLease(lease);
      await stores.lifecycle.releaseBlobLease(short); // already dropped as expired: no error
      assert.deepEqual(await stores.lifecycle.withLiveBlobs(async (l) => [...l.leased]), []);
      await rejectsWith(stores.lifecycle.leaseBlob('xyz', 1000), 'TEND_INVALID_ARGUMENT');
      await rejectsWith(stores.lifecycle.leaseBlob(SHA_A, 0), 'TEND_INVALID_ARGUMENT');
    });

    test('a lease asked for during a collection is granted only after it', async () => {
      const order: string[] = [];
      let release = (): void => undefined;
      const gate = new Promise<void>((r) => (release = r));
      let started = (): void => undefined;
      const running = new Promise<void>((r) => (started = r));
      const collection = stores.lifecycle.withLiveBlobs(async () => {
        started();
        await gate;
        order.push('collection done');
      });
      await running;
      const lease = stores.lifecycle.leaseBlob(SHA_A, 60_000).then(() => order.push('lease granted'));
      await new Promise((r) => setTimeout(r, 20));
      release();
      await Promise.all([collection, lease]);
      assert.deepEqual(order, ['collection done', 'lease granted']);
    });
  });
}
