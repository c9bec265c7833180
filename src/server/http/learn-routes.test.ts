/**
 * The learn route through `inject`: samples learned on the served version and on an explicit one, bad bodies
 * and samples refused with 400 while nothing is learned, and models that cannot learn (served from a
 * repository, pushed rather than trained, unknown). Snapshots, lineage and the feedback stream stay
 * in test/learn.test.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { numberCell, readCsv } from '../../core/csv.js';
import { trainAndRegister } from '../../engine/index.js';
import { DIGITS_MLP, injectJson, openInjectApp, type InjectApp } from './inject.test-helper.js';

const IRIS = fileURLToPath(new URL('../../../fixtures/train/iris.csv', import.meta.url));
const irisCsv = readCsv(readFileSync(IRIS, 'utf8'), IRIS);
const rows = irisCsv.rows.map((_, r) => ({
  features: [0, 1, 2, 3].map((c) => numberCell(irisCsv, r, c)),
  label: irisCsv.rows[r]?.cells[4] as string,
}));

let t: InjectApp;
const learn = (path: string, body: unknown) => injectJson(t.app, 'POST', path, body);

before(async () => {
  t = await openInjectApp({
    prepare: async (registry) => {
      await trainAndRegister(registry, {
        data: IRIS,
        target: 'species',
        model: 'softmax',
        name: 'iris',
        alias: 'champion',
        seed: 1,
      });
    },
    registry: [{ name: 'pushed', model: DIGITS_MLP }],
    repository: [{ name: 'foreign', model: DIGITS_MLP }],
    // No snapshot here: a version cut mid-test would change what the later requests learn on.
    config: {
      models: {
        iris: {
          online_learning: { snapshot_every: 100_000, publish_alias: 'live', max_samples_per_request: 200 },
        },
      },
    },
  });
});

after(() => t.close());

describe('learn', () => {
  test('samples are learned on the served version and on an explicit one; class indices work as labels', async () => {
    const first = await learn('/v2/models/iris/learn', { samples: rows.slice(0, 3) });
    assert.equal(first.status, 200, first.text);
    assert.equal(first.body['base_version'], 1);
    assert.equal(first.body['learned'], 3);
    assert.equal(first.body['samples_seen'], 3);
    assert.deepEqual(first.body['snapshots'], []);
    const byVersion = await learn('/v2/models/iris/versions/1/learn', {
      samples: [{ features: rows[0]?.features, label: 0 }],
    });
    assert.equal(byVersion.status, 200, byVersion.text);
    assert.equal(byVersion.body['samples_seen'], 4);
  });

  test('bad samples: 400 with the reason, nothing learned, nothing registered', async () => {
    const registry = t.engine.registry;
    const versionsBefore = (await registry.models.listVersions('iris')).length;
    const seenBefore = (await learn('/v2/models/iris/learn', { samples: [rows[1]] })).body[
      'samples_seen'
    ] as number;
    const bad: [unknown, RegExp][] = [
      [{}, /'samples' must be a non-empty array/],
      [{ samples: [] }, /non-empty array/],
      [{ samples: [{ features: [1, 2, 3], label: 'setosa' }] }, /features must be an array of 4 numbers/],
      [{ samples: [{ features: [1, 2, 3, 'x'], label: 'setosa' }] }, /features\[3\] must be a finite number/],
      [{ samples: [{ features: [1, 2, 3, 4], label: 'rose' }] }, /not one of the model's classes/],
      [{ samples: [{ features: [1, 2, 3, 4], label: 7 }] }, /not one of the model's classes/],
      [{ samples: Array.from({ length: 201 }, () => rows[0]) }, /at most 200/],
      [{ samples: [rows[0]], extra: 1 }, /unknown field\(s\) 'extra'/],
      ['not json', /JSON/i],
    ];
    for (const [body, message] of bad) {
      const res = await learn('/v2/models/iris/learn', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.match(String(res.body['error']), message);
    }
    // A whole request is refused when one sample is bad: nothing of it was learned.
    const mixed = await learn('/v2/models/iris/learn', {
      samples: [rows[0], { features: [1], label: 'setosa' }],
    });
    assert.equal(mixed.status, 400);
    const after = await learn('/v2/models/iris/learn', { samples: [rows[2]] });
    assert.equal(after.body['samples_seen'], seenBefore + 1);
    assert.equal((await registry.models.listVersions('iris')).length, versionsBefore);

    const foreign = await learn('/v2/models/foreign/learn', { samples: [{ features: [1], label: 0 }] });
    assert.equal(foreign.status, 400);
    assert.match(String(foreign.body['error']), /served from a repository/);
    const unknown = await learn('/v2/models/nope/learn', { samples: [rows[0]] });
    assert.equal(unknown.status, 404);
  });

  test('a registry model tend did not train cannot learn: 400', async () => {
    const res = await learn('/v2/models/pushed/learn', { samples: [{ features: [1], label: 0 }] });
    assert.equal(res.status, 400);
    assert.match(String(res.body['error']), /pushed version 1 cannot be updated/);
  });

  test('unknown models and versions: 404 with their codes; GET is not a route', async () => {
    const model = await learn('/v2/models/nope/learn', { samples: [rows[0]] });
    assert.equal(model.body['code'], 'TEND_MODEL_NOT_FOUND');
    const version = await learn('/v2/models/iris/versions/9/learn', { samples: [rows[0]] });
    assert.equal(version.status, 404, version.text);
    assert.equal(version.body['code'], 'TEND_VERSION_NOT_FOUND');
    const get = await injectJson(t.app, 'GET', '/v2/models/iris/learn');
    assert.deepEqual(
      [get.status, get.body],
      [404, { error: 'no route for GET /v2/models/iris/learn', code: 'TEND_NOT_FOUND' }],
    );
  });
});
