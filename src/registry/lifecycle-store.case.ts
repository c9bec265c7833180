/**
 * The lifecycle contract every RegistryStore keeps (archive, delete, references, snapshots and
 * imports, blob leases), as one suite each implementation runs (see sqlite-store.test.ts).
 */
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RegistryStore } from './store.js';
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

/** Run the lifecycle suite against one implementation; each test gets a fresh store. */
export function runLifecycleStoreSuite(name: string, makeStore: () => Promise<StoreFixture>): void {
  describe(`LifecycleStore contract: ${name}`, () => {
    let fixture: StoreFixture;
    let store: RegistryStore;
    beforeEach(async () => {
      fixture = await makeStore();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.store.close();
      await fixture.cleanup();
    });

    test('an archived version is kept and listed, resolves by number, and latest skips it', async () => {
      for (let i = 0; i < 3; i++) await store.createVersion(newVersion('m'));
      const archived = await store.archiveVersion('m', 3, 'alice');
      assert.equal(archived.archived, true);
      assert.equal(archived.status, 'archived');
      assert.equal(archived.archived_by, 'alice');
      assert.ok(archived.archived_at !== null && archived.archived_at >= archived.created_at);
      assert.deepEqual(await store.archiveVersion('m', 3, 'bob'), archived); // idempotent, first archiver kept
      assert.equal((await store.getVersion('m', 3)).archived, true);
      assert.deepEqual((await store.listVersions('m')).map((v) => [v.version, v.archived]), [[1, false], [2, false], [3, true]]);
      assert.equal((await store.latestVersion('m')).version, 2);
      const model = await store.getModel('m');
      assert.deepEqual([model.latest_version, model.version_count], [2, 3]);

      await rejectsWith(store.setAlias('m', 'champion', 3, 'x'), 'TEND_CONFLICT');
      const back = await store.unarchiveVersion('m', 3);
      assert.deepEqual([back.archived, back.status, back.archived_at, back.archived_by], [false, 'ready', null, null]);
      assert.equal((await store.latestVersion('m')).version, 3);
      await store.setAlias('m', 'champion', 3, 'x');
    });

    test('latest with every version archived is a 404 that says why', async () => {
      await store.createVersion(newVersion('m'));
      await store.archiveVersion('m', 1, 'x');
      await assert.rejects(store.latestVersion('m'), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'TEND_VERSION_NOT_FOUND');
        assert.match(err.message, /every version is archived/);
        return true;
      });
      assert.equal((await store.getModel('m')).latest_version, null);
    });

    test('archive and delete are refused while an alias or a route points at the version', async () => {
      await store.createVersion(newVersion('m', { aliases: ['champion', 'stable'] }));
      await store.createVersion(newVersion('m'));
      await store.createVersion(newVersion('m'));
      assert.deepEqual(await store.versionReferences('m', 1), ["alias 'champion'", "alias 'stable'"]);
      await conflictNaming(store.archiveVersion('m', 1, 'x'), /alias 'champion', alias 'stable' point at it/);
      await conflictNaming(store.deleteVersion('m', 1), /cannot delete version 1 of model 'm': alias 'champion'/);

      await store.putDeployment('m', { champion: 'champion', canary: { version: 2, percent: 10 } }, { actor: 'x', action: 'canary' });
      assert.deepEqual(await store.versionReferences('m', 2), ["deployment 'm' canary"]);
      assert.deepEqual(await store.versionReferences('m', 1), ["alias 'champion'", "alias 'stable'", "deployment 'm' champion (via 'champion')"]);
      await conflictNaming(store.archiveVersion('m', 2, 'x'), /deployment 'm' canary points at it/);
      await conflictNaming(store.deleteVersion('m', 2), /deployment 'm' canary/);
      assert.deepEqual(await store.versionReferences('m', 3), []);

      // 'latest' is a reference to whichever version it means now.
      await store.putDeployment('m', { champion: 'latest' }, { actor: 'x', action: 'put' });
      assert.deepEqual(await store.versionReferences('m', 3), ["deployment 'm' champion (via 'latest')"]);
      await conflictNaming(store.archiveVersion('m', 3, 'x'), /via 'latest'/);
      assert.equal((await store.getVersion('m', 3)).archived, false); // nothing changed

      await rejectsWith(store.versionReferences('m', 9), 'TEND_VERSION_NOT_FOUND');
      await rejectsWith(store.versionReferences('nope', 1), 'TEND_MODEL_NOT_FOUND');
    });

    test('deleting a version removes its row; numbers are never reused', async () => {
      await store.createVersion(newVersion('m', { sha256: SHA_A }));
      await store.createVersion(newVersion('m', { sha256: SHA_B, parent_version: 1 }));
      const removed = await store.deleteVersion('m', 2);
      assert.equal(removed.sha256, SHA_B);
      await rejectsWith(store.getVersion('m', 2), 'TEND_VERSION_NOT_FOUND');
      await rejectsWith(store.deleteVersion('m', 2), 'TEND_VERSION_NOT_FOUND');
      assert.equal((await store.createVersion(newVersion('m'))).version, 3);
      // An archived version can be deleted; the model's history survives.
      await store.archiveVersion('m', 1, 'x');
      await store.deleteVersion('m', 1);
      assert.deepEqual((await store.listVersions('m')).map((v) => v.version), [3]);
      await rejectsWith(store.deleteVersion('nope', 1), 'TEND_MODEL_NOT_FOUND');
      await rejectsWith(store.deleteVersion('m', 0), 'TEND_INVALID_ARGUMENT');
      await rejectsWith(store.archiveVersion('m', 7, 'x'), 'TEND_VERSION_NOT_FOUND');
    });

    test('deleting a model: refused while referenced, then gone whole; its numbers continue', async () => {
      await store.createVersion(newVersion('m', { aliases: ['champion'] }));
      await store.createVersion(newVersion('m'));
      await store.createVersion(newVersion('other'));
      await conflictNaming(store.deleteModel('m', 'x'), /cannot delete model 'm': alias 'champion' \(version 1\)/);
      await store.putDeployment('m', { champion: 2 }, { actor: 'x', action: 'put' });
      await store.removeAlias('m', 'champion', 'x');
      await conflictNaming(store.deleteModel('m', 'x'), /deployment 'm'/);
      await store.deleteDeployment('m', { actor: 'x', action: 'delete' });

      const deleted = await store.deleteModel('m', 'alice');
      assert.equal(deleted.version_count, 2);
      await rejectsWith(store.getModel('m'), 'TEND_MODEL_NOT_FOUND');
      assert.deepEqual((await store.listModels()).map((m) => m.name), ['other']);
      await rejectsWith(store.deleteModel('m', 'x'), 'TEND_MODEL_NOT_FOUND');

      const again = await store.createVersion(newVersion('m'));
      assert.equal(again.version, 3);
      assert.deepEqual(await store.aliasHistory('m', 'champion'), []);
      assert.deepEqual(await store.deploymentHistory('m'), []);
      // Deleted twice: the high-water mark still only grows.
      await store.deleteModel('m', 'x');
      assert.equal((await store.createVersion(newVersion('m'))).version, 4);
    });

    test('a snapshot imports back under another name with numbers, aliases and history kept', async () => {
      await store.createVersion(newVersion('m', { aliases: ['champion'], tags: { t: '1' }, metrics: { acc: 0.9 }, description: 'd' }));
      await store.createVersion(newVersion('m', { sha256: SHA_B, parent_version: 1, run_id: 'r' }));
      await store.createVersion(newVersion('m'));
      await store.setAlias('m', 'champion', 2, 'bob');
      await store.setAlias('m', 'gone', 1, 'bob');
      await store.removeAlias('m', 'gone', 'bob');
      await store.deleteVersion('m', 3);
      await store.archiveVersion('m', 1, 'carol');
      await store.updateModel('m', { tags: { owner: 'ml' } });

      const snap = await store.snapshotModel('m');
      assert.equal(snap.next_version, 4);
      assert.deepEqual(snap.versions.map((v) => v.version), [1, 2]);
      assert.deepEqual(snap.aliases, { champion: 2 });
      assert.deepEqual(snap.alias_history.map((h) => [h.alias, h.from_version, h.to_version]), [
        ['champion', null, 1],
        ['champion', 1, 2],
        ['gone', null, 1],
        ['gone', 1, null],
      ]);

      const { name: _n, versions, ...rest } = snap;
      const imported = await store.importModel({ ...rest, name: 'copy', versions, actor: 'importer' });
      assert.deepEqual(imported.aliases, { champion: 2 });
      assert.deepEqual(imported.tags, { owner: 'ml' });
      assert.equal(imported.description, 'd');
      const strip = (list: { name: string }[]) => list.map(({ name: _x, ...v }) => v);
      assert.deepEqual(strip(await store.listVersions('copy')), strip(await store.listVersions('m')));
      assert.deepEqual(await store.aliasHistory('copy', 'gone'), await store.aliasHistory('m', 'gone'));
      assert.equal((await store.createVersion(newVersion('copy'))).version, 4);

      await conflictNaming(store.importModel({ ...rest, name: 'm', versions, actor: 'x' }), /already exists.*--as/);
      await rejectsWith(store.importModel({ ...rest, name: 'bad name', versions, actor: 'x' }), 'TEND_INVALID_ARGUMENT');
      await rejectsWith(store.importModel({ ...rest, aliases: { champion: 9 }, name: 'c2', versions, actor: 'x' }), 'TEND_INVALID_ARGUMENT');
      await rejectsWith(store.importModel({ ...rest, aliases: { champion: 1 }, name: 'c3', versions, actor: 'x' }), 'TEND_INVALID_ARGUMENT');
      await rejectsWith(store.getModel('c2'), 'TEND_MODEL_NOT_FOUND');
      await rejectsWith(store.snapshotModel('nope'), 'TEND_MODEL_NOT_FOUND');
    });

    test('blob leases: seen by the collector until released or expired', async () => {
      await store.createVersion(newVersion('m', { sha256: SHA_A }));
      const lease = await store.leaseBlob(SHA_B, 60_000);
      const short = await store.leaseBlob('c'.repeat(64), 1);
      await new Promise((r) => setTimeout(r, 5));
      const live = await store.withLiveBlobs(async (l) => ({ referenced: [...l.referenced], leased: [...l.leased] }));
      assert.deepEqual(live, { referenced: [SHA_A], leased: [SHA_B] });
      await store.releaseBlobLease(lease);
      await store.releaseBlobLease(short); // already dropped as expired: no error
      assert.deepEqual(await store.withLiveBlobs(async (l) => [...l.leased]), []);
      await rejectsWith(store.leaseBlob('xyz', 1000), 'TEND_INVALID_ARGUMENT');
      await rejectsWith(store.leaseBlob(SHA_A, 0), 'TEND_INVALID_ARGUMENT');
    });

    test('a lease asked for during a collection is granted only after it', async () => {
      const order: string[] = [];
      let release = (): void => undefined;
      const gate = new Promise<void>((r) => (release = r));
      let started = (): void => undefined;
      const running = new Promise<void>((r) => (started = r));
      const collection = store.withLiveBlobs(async () => {
        started();
        await gate;
        order.push('collection done');
      });
      await running;
      const lease = store.leaseBlob(SHA_A, 60_000).then(() => order.push('lease granted'));
      await new Promise((r) => setTimeout(r, 20));
      release();
      await Promise.all([collection, lease]);
      assert.deepEqual(order, ['collection done', 'lease granted']);
    });
  });
}
