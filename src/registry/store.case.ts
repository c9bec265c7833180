/**
 * The contract every ModelStore keeps, as one suite each implementation runs
 * (`runStoreSuite('sqlite', ...)` in sqlite-store.test.ts; a PostgreSQL store runs the same).
 */
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ErrorCode } from '../core/errors.js';
import type { RegistryStores } from './registry-stores.js';
import type { NewVersion } from './store.js';
import { hasCode } from '../core/test-support.test-helper.js';

export interface StoreFixture {
  stores: RegistryStores;
  cleanup(): Promise<void>;
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** A valid NewVersion for `name`, with any field overridden. */
export function newVersion(name: string, over: Partial<NewVersion> = {}): NewVersion {
  return {
    name,
    sha256: 'a'.repeat(64),
    size_bytes: 1234,
    signature: {
      inputs: [{ name: 'x', datatype: 'FP32', onnx_type: 'tensor(float)', shape: ['batch', 4] }],
      outputs: [{ name: 'y', datatype: 'FP32', onnx_type: 'tensor(float)', shape: ['batch', 2] }],
    },
    model_info: {
      ir_version: 8,
      opset_import: [{ domain: '', version: 17 }],
      producer_name: 'test',
      producer_version: '1',
      graph_name: 'g',
      doc_string: '',
      metadata: {},
    },
    source: '/tmp/model.onnx',
    created_by: 'alice',
    metrics: {},
    tags: {},
    parent_version: null,
    run_id: null,
    actor: 'alice',
    ...over,
  };
}

/** Assert that a promise rejects with a TendError of this code. */
export async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(promise, hasCode(code));
}

/** Run the shared ModelStore suite against one implementation; each test gets fresh stores. */
export function runStoreSuite(name: string, makeStore: () => Promise<StoreFixture>): void {
  describe(`ModelStore contract: ${name}`, () => {
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

    test('the first version creates the model', async () => {
      assert.deepEqual(await stores.models.listModels(), []);
      const v = await stores.models.createVersion(
        newVersion('digits', { description: 'handwritten digits' }),
      );
      assert.equal(v.version, 1);
      assert.equal(v.status, 'ready');
      assert.match(v.created_at, ISO_UTC);
      const model = await stores.models.getModel('digits');
      assert.equal(model.name, 'digits');
      assert.equal(model.description, 'handwritten digits');
      assert.deepEqual(model.tags, {});
      assert.equal(model.latest_version, 1);
      assert.equal(model.version_count, 1);
      assert.deepEqual(model.aliases, {});
      assert.match(model.created_at, ISO_UTC);
      assert.ok(model.updated_at >= model.created_at);
      assert.deepEqual(
        (await stores.models.listModels()).map((m) => m.name),
        ['digits'],
      );
    });

    test('version numbers grow per model and models list by name', async () => {
      for (let i = 0; i < 3; i++) await stores.models.createVersion(newVersion('b'));
      await stores.models.createVersion(newVersion('a'));
      assert.deepEqual(
        (await stores.models.listVersions('b')).map((v) => v.version),
        [1, 2, 3],
      );
      assert.deepEqual(
        (await stores.models.listVersions('a')).map((v) => v.version),
        [1],
      );
      assert.equal((await stores.models.latestVersion('b')).version, 3);
      assert.equal((await stores.models.getVersion('b', 2)).version, 2);
      const models = await stores.models.listModels();
      assert.deepEqual(
        models.map((m) => [m.name, m.latest_version, m.version_count]),
        [
          ['a', 1, 1],
          ['b', 3, 3],
        ],
      );
    });

    test('a later version keeps the description unless it gives a new one', async () => {
      await stores.models.createVersion(newVersion('m', { description: 'first' }));
      await stores.models.createVersion(newVersion('m'));
      assert.equal((await stores.models.getModel('m')).description, 'first');
      await stores.models.createVersion(newVersion('m', { description: 'second' }));
      assert.equal((await stores.models.getModel('m')).description, 'second');
    });

    test('JSON fields, numbers and nulls round trip', async () => {
      const input = newVersion('m', {
        sha256: 'b'.repeat(64),
        size_bytes: 5_000_000_123, // beyond 32 bits
        signature: {
          inputs: [
            { name: 'ids', datatype: 'INT64', onnx_type: 'tensor(int64)', shape: ['batch', '', 128] },
            { name: 'odd', datatype: null, onnx_type: 'seq(tensor(float))', shape: null },
          ],
          outputs: [{ name: 'émbedding', datatype: 'FP32', onnx_type: 'tensor(float)', shape: [-1, 384] }],
        },
        model_info: {
          ir_version: 9,
          opset_import: [
            { domain: '', version: 17 },
            { domain: 'com.microsoft', version: 1 },
          ],
          producer_name: 'pytorch',
          producer_version: '2.4',
          graph_name: 'main_graph',
          doc_string: 'line one\nline "two"',
          metadata: { license: 'MIT', note: '✓ unicode' },
        },
        source: 'train:run-42',
        created_by: 'bob',
        metrics: {
          accuracy: 0.97,
          confusion: [
            [1, 2],
            [3, 4],
          ],
          nested: { ok: true, none: null },
        },
        tags: { team: 'vision', stage: 'dev' },
        run_id: 'run-42',
      });
      await stores.models.createVersion(input);
      const child = await stores.models.createVersion(newVersion('m', { parent_version: 1 }));
      const v = await stores.models.getVersion('m', 1);
      assert.equal(v.sha256, input.sha256);
      assert.equal(v.size_bytes, 5_000_000_123);
      assert.deepEqual(v.signature, input.signature);
      assert.deepEqual(v.model_info, input.model_info);
      assert.deepEqual(v.metrics, input.metrics);
      assert.deepEqual(v.tags, input.tags);
      assert.equal(v.source, 'train:run-42');
      assert.equal(v.created_by, 'bob');
      assert.equal(v.run_id, 'run-42');
      assert.equal(v.parent_version, null);
      assert.deepEqual(v.aliases, []);
      assert.deepEqual([v.archived, v.archived_at, v.archived_by], [false, null, null]);
      assert.equal(child.parent_version, 1);
      assert.equal(child.run_id, null);
      assert.deepEqual(Object.keys(v).sort(), [
        'aliases',
        'archived',
        'archived_at',
        'archived_by',
        'created_at',
        'created_by',
        'metrics',
        'model_info',
        'name',
        'parent_version',
        'run_id',
        'sha256',
        'signature',
        'size_bytes',
        'source',
        'status',
        'tags',
        'version',
      ]);
    });

    test('aliases move with their history: from, to, actor, time', async () => {
      await stores.models.createVersion(newVersion('m', { aliases: ['champion'], actor: 'ci' }));
      await stores.models.createVersion(newVersion('m'));
      await stores.models.createVersion(
        newVersion('m', { aliases: ['challenger', 'champion', 'champion'], actor: 'ci' }),
      );
      assert.deepEqual(await stores.models.listAliases('m'), { challenger: 3, champion: 3 });

      assert.deepEqual(await stores.models.setAlias('m', 'champion', 2, 'alice'), { from: 3, to: 2 });
      assert.deepEqual(await stores.models.setAlias('m', 'champion', 2, 'alice'), { from: 2, to: 2 }); // no move, no history
      assert.deepEqual(await stores.models.setAlias('m', 'stable', 1, 'bob'), { from: null, to: 1 });
      assert.equal(await stores.models.getAlias('m', 'champion'), 2);
      assert.deepEqual((await stores.models.getVersion('m', 3)).aliases, ['challenger']);
      assert.deepEqual((await stores.models.getVersion('m', 2)).aliases, ['champion']);
      assert.deepEqual((await stores.models.getModel('m')).aliases, {
        challenger: 3,
        champion: 2,
        stable: 1,
      });

      await stores.models.removeAlias('m', 'champion', 'carol');
      assert.deepEqual(await stores.models.listAliases('m'), { challenger: 3, stable: 1 });
      await rejectsWith(stores.models.getAlias('m', 'champion'), 'TEND_ALIAS_NOT_FOUND');

      const history = await stores.models.aliasHistory('m', 'champion');
      assert.deepEqual(
        history.map((h) => [h.alias, h.from_version, h.to_version, h.actor]),
        [
          ['champion', null, 1, 'ci'],
          ['champion', 1, 3, 'ci'],
          ['champion', 3, 2, 'alice'],
          ['champion', 2, null, 'carol'],
        ],
      );
      for (const h of history) assert.match(h.at, ISO_UTC);
      assert.deepEqual(await stores.models.aliasHistory('m', 'never-set'), []);

      // A removed alias can come back; its history continues.
      await stores.models.setAlias('m', 'champion', 3, 'dave');
      assert.equal((await stores.models.aliasHistory('m', 'champion')).length, 5);
    });

    test('updateModel changes description and tags', async () => {
      await stores.models.createVersion(newVersion('m'));
      const updated = await stores.models.updateModel('m', { description: 'd', tags: { owner: 'ml' } });
      assert.equal(updated.description, 'd');
      assert.deepEqual(updated.tags, { owner: 'ml' });
      assert.deepEqual((await stores.models.updateModel('m', {})).tags, { owner: 'ml' });
      await rejectsWith(stores.models.updateModel('nope', { description: 'x' }), 'TEND_MODEL_NOT_FOUND');
      await rejectsWith(stores.models.updateModel('m', { tags: { '': 'x' } }), 'TEND_INVALID_ARGUMENT');
    });

    test('invalid names and arguments are TEND_INVALID_ARGUMENT, and nothing is written', async () => {
      const badNames = ['', '.hidden', '-dash', 'a..b', 'a/b', 'a b', 'x'.repeat(129), 'ü'];
      for (const bad of badNames)
        await rejectsWith(stores.models.createVersion(newVersion(bad)), 'TEND_INVALID_ARGUMENT');
      for (const good of ['a', '_x', 'A_b.c-1', '3', 'x'.repeat(128)])
        await stores.models.createVersion(newVersion(good));
      assert.equal((await stores.models.listModels()).length, 5);

      const badAliases = [
        '1',
        '42',
        '1e3',
        'latest',
        'Latest',
        '9lives',
        'Infinity',
        'NaN',
        'a b',
        '-a',
        'a'.repeat(65),
        '',
      ];
      for (const bad of badAliases) {
        await rejectsWith(stores.models.setAlias('a', bad, 1, 'x'), 'TEND_INVALID_ARGUMENT');
        await rejectsWith(
          stores.models.createVersion(newVersion('a', { aliases: [bad] })),
          'TEND_INVALID_ARGUMENT',
        );
      }
      for (const good of ['champion', 'v2', 'B', 'a_b-c', 'e5', 'a'.repeat(64)])
        await stores.models.setAlias('a', good, 1, 'x');
      assert.deepEqual(
        (await stores.models.listVersions('a')).map((v) => v.version),
        [1],
      );

      await rejectsWith(stores.models.setAlias('a', 'champion', 0, 'x'), 'TEND_INVALID_ARGUMENT');
      await rejectsWith(stores.models.setAlias('a', 'champion', 1.5, 'x'), 'TEND_INVALID_ARGUMENT');
      await rejectsWith(
        stores.models.createVersion(newVersion('a', { parent_version: -1 })),
        'TEND_INVALID_ARGUMENT',
      );
      await rejectsWith(
        stores.models.createVersion(newVersion('a', { tags: { k: 1 } as unknown as Record<string, string> })),
        'TEND_INVALID_ARGUMENT',
      );
    });

    test('unknown models, versions and aliases are 404 codes', async () => {
      await rejectsWith(stores.models.getModel('nope'), 'TEND_MODEL_NOT_FOUND');
      await rejectsWith(stores.models.listVersions('nope'), 'TEND_MODEL_NOT_FOUND');
      await rejectsWith(stores.models.getVersion('nope', 1), 'TEND_MODEL_NOT_FOUND');
      await rejectsWith(stores.models.latestVersion('nope'), 'TEND_MODEL_NOT_FOUND');
      await rejectsWith(stores.models.setAlias('nope', 'champion', 1, 'x'), 'TEND_MODEL_NOT_FOUND');
      await rejectsWith(stores.models.removeAlias('nope', 'champion', 'x'), 'TEND_MODEL_NOT_FOUND');
      await rejectsWith(stores.models.getAlias('nope', 'champion'), 'TEND_MODEL_NOT_FOUND');
      await rejectsWith(stores.models.listAliases('nope'), 'TEND_MODEL_NOT_FOUND');
      await rejectsWith(stores.models.aliasHistory('nope', 'champion'), 'TEND_MODEL_NOT_FOUND');

      await stores.models.createVersion(newVersion('m'));
      await rejectsWith(stores.models.getVersion('m', 2), 'TEND_VERSION_NOT_FOUND');
      await rejectsWith(stores.models.setAlias('m', 'champion', 7, 'x'), 'TEND_VERSION_NOT_FOUND');
      await rejectsWith(stores.models.removeAlias('m', 'champion', 'x'), 'TEND_ALIAS_NOT_FOUND');
      await rejectsWith(stores.models.getAlias('m', 'champion'), 'TEND_ALIAS_NOT_FOUND');
      assert.deepEqual(await stores.models.aliasHistory('m', 'champion'), []);
    });

    test('a failed version is rolled back whole: no model, no number used', async () => {
      await rejectsWith(
        stores.models.createVersion(newVersion('fresh', { parent_version: 1 })),
        'TEND_VERSION_NOT_FOUND',
      );
      await rejectsWith(stores.models.getModel('fresh'), 'TEND_MODEL_NOT_FOUND');
      await stores.models.createVersion(newVersion('m'));
      await rejectsWith(
        stores.models.createVersion(newVersion('m', { parent_version: 5 })),
        'TEND_VERSION_NOT_FOUND',
      );
      assert.equal((await stores.models.createVersion(newVersion('m'))).version, 2);
    });

    test('concurrent versions of one model get distinct numbers', async () => {
      const made = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          stores.models.createVersion(newVersion('race', { aliases: ['champion'], actor: `w${i}` })),
        ),
      );
      assert.deepEqual(
        made.map((v) => v.version).sort((a, b) => a - b),
        [1, 2, 3, 4, 5, 6, 7, 8],
      );
      assert.equal((await stores.models.getModel('race')).version_count, 8);
      // Every alias move is in the history, each starting where the previous one ended.
      const history = await stores.models.aliasHistory('race', 'champion');
      assert.equal(history.length, 8);
      for (let i = 1; i < history.length; i++)
        assert.equal(history[i]?.from_version, history[i - 1]?.to_version);
      assert.equal(await stores.models.getAlias('race', 'champion'), history.at(-1)?.to_version);
    });
  });
}
