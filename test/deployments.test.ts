/**
 * Deployments over HTTP under traffic: canary split by request id, sticky experiments, shadow traffic
 * that never reaches the caller, promote / rollback, routes written by another process, the canary
 * guard, archived versions. Versions 1 and 2 of `digits` are the same network (so shadow outputs
 * agree). Alias moves, bad routes, the OpenAPI document and the refusals of each route are route
 * tests in src/server/http/deployment-routes.test.ts (inject).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { GraphBuilder, writeModel } from '../src/onnx/index.js';
import { Registry } from '../src/registry/index.js';
import {
  FIXTURE_MODELS,
  getJson,
  postJson,
  seededRandom,
  startTestServer,
  tempDir,
  type TestServer,
} from './helpers.js';

const DIGITS = join(FIXTURE_MODELS, 'digits_mlp.onnx');

let srv: TestServer;
let home: string;

async function put(path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${srv.url}${path}`, {
    method: 'PUT',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function digitsBody(id?: string): Record<string, unknown> {
  const r = seededRandom(1);
  return {
    ...(id ? { id } : {}),
    inputs: [
      { name: 'pixels', datatype: 'FP32', shape: [1, 64], data: Array.from({ length: 64 }, () => r()) },
    ],
  };
}

async function infer(
  id?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; version: string }> {
  const res = await fetch(`${srv.url}/v2/models/digits/infer`, {
    method: 'POST',
    body: JSON.stringify(digitsBody(id)),
    headers: { 'content-type': 'application/json', ...headers },
  });
  const body = (await res.json()) as Record<string, unknown>;
  return { status: res.status, version: String(body['model_version']) };
}

/**
 * A lookup table y = table[x] for x in 0..9. `clamped` clips x into range first and never fails;
 * the other fails on any x outside 0..9 (onnxruntime refuses an out-of-range Gather index).
 */
function lookupModel(clamped: boolean): Uint8Array {
  const g = new GraphBuilder('lookup')
    .input('x', 'INT64', ['batch', 1])
    .output('y', 'FP32', ['batch', 1])
    .initializer(
      'table',
      Float32Array.from({ length: 10 }, (_, i) => i / 10),
      [10],
    );
  if (clamped) {
    g.initializer('lo', new BigInt64Array([0n]), [])
      .initializer('hi', new BigInt64Array([9n]), [])
      .node('Clip', ['x', 'lo', 'hi'], ['xc'])
      .node('Gather', ['table', 'xc'], ['y'], { axis: { int: 0 } });
  } else {
    g.node('Gather', ['table', 'x'], ['y'], { axis: { int: 0 } });
  }
  return writeModel(g.build());
}

before(async () => {
  home = tempDir('deploy-home');
  const registry = await Registry.open(home);
  const lookupDir = tempDir('lookup');
  writeFileSync(join(lookupDir, 'safe.onnx'), lookupModel(true));
  writeFileSync(join(lookupDir, 'fragile.onnx'), lookupModel(false));
  await registry.models.push(join(lookupDir, 'safe.onnx'), { name: 'lookup' });
  await registry.models.push(join(lookupDir, 'fragile.onnx'), { name: 'lookup' });
  rmSync(lookupDir, { recursive: true, force: true });
  await registry.models.push(DIGITS, { name: 'digits' });
  await registry.models.push(DIGITS, { name: 'digits' });
  await registry.models.push(join(FIXTURE_MODELS, 'digits_mlp.onnx'), { name: 'digits' }); // v3, never routed
  await registry.close();
  // Every mirrored request counted: the main-thread guard of shadows is off (its own tests cover it).
  srv = await startTestServer({ home, config: { shadows: { max_main_thread_share: 1 } } });
});

after(async () => {
  await srv?.close();
  rmSync(home, { recursive: true, force: true });
});

describe('deployments', () => {
  test('a canary at 10% takes 10% ± 1 pt of 10 000 requests, by request id, deterministically', async () => {
    const res = await put('/api/v1/deployments/digits', { champion: 1, canary: { version: 2, percent: 10 } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body['endpoint'], 'digits');
    let canary = 0;
    const n = 10_000;
    for (let start = 0; start < n; start += 100) {
      const batch = await Promise.all(Array.from({ length: 100 }, (_, i) => infer(`req-${start + i}`)));
      for (const r of batch) {
        assert.equal(r.status, 200);
        if (r.version === '2') canary++;
      }
    }
    assert.ok(Math.abs(canary / n - 0.1) <= 0.01, `canary share ${canary / n}`);
    const again = await Promise.all(['req-1', 'req-2', 'req-3', 'req-4'].map((id) => infer(id)));
    const repeat = await Promise.all(['req-1', 'req-2', 'req-3', 'req-4'].map((id) => infer(id)));
    assert.deepEqual(
      repeat.map((r) => r.version),
      again.map((r) => r.version),
      'the same id lands on the same version',
    );
    assert.equal((await infer(undefined)).status, 200);
    // An explicit version bypasses the routes.
    const direct = await postJson(`${srv.url}/v2/models/digits/versions/3/infer`, digitsBody());
    assert.equal(direct.body['model_version'], '3');
  });

  test('promote makes the canary the champion; history records every change, newest first', async () => {
    const promoted = await fetch(`${srv.url}/api/v1/deployments/digits/promote`, {
      method: 'POST',
      headers: { 'x-tend-actor': 'alice' },
    });
    assert.equal(promoted.status, 200);
    assert.deepEqual(((await promoted.json()) as { routes: unknown }).routes, { champion: '2' });
    assert.equal((await infer('req-1')).version, '2');
    const history = (await getJson(`${srv.url}/api/v1/deployments/digits/history`)).body['history'] as {
      action: string;
      actor: string;
    }[];
    assert.deepEqual(
      history.map((h) => h.action),
      ['promote', 'put'],
    );
    assert.equal(history[0]?.actor, 'alice');
  });

  test('an experiment sticky by header keeps a user on one variant; rollback returns to the champion', async () => {
    const res = await put('/api/v1/deployments/digits', {
      champion: 2,
      experiment: {
        variants: [
          { version: 1, weight: 1 },
          { version: 2, weight: 1 },
        ],
        sticky_by: 'X-User',
      },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const seen = new Map<string, Set<string>>();
    for (let i = 0; i < 40; i++) {
      const user = `user-${i % 8}`;
      const r = await infer(`id-${i}`, { 'x-user': user });
      const set = seen.get(user) ?? new Set();
      set.add(r.version);
      seen.set(user, set);
    }
    for (const [user, versions] of seen)
      assert.equal(versions.size, 1, `${user} saw ${[...versions].join(', ')}`);
    const back = await fetch(`${srv.url}/api/v1/deployments/digits/rollback`, { method: 'POST' });
    assert.equal(back.status, 200);
    assert.deepEqual(((await back.json()) as { routes: unknown }).routes, { champion: '2' });
    const nothing = await fetch(`${srv.url}/api/v1/deployments/digits/rollback`, { method: 'POST' });
    assert.equal(nothing.status, 409);
  });

  test('a shadow sees mirrored traffic, never answers the caller, and its agreement is reported', async () => {
    const res = await put('/api/v1/deployments/digits', { champion: 2, shadow: { version: 1 } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    for (let i = 0; i < 20; i++) assert.equal((await infer(`s-${i}`)).version, '2');
    let shadow: Record<string, unknown> | null = null;
    for (let tries = 0; tries < 50; tries++) {
      shadow = (await getJson(`${srv.url}/api/v1/deployments/digits`)).body['shadow'] as Record<
        string,
        unknown
      > | null;
      if (shadow && Number(shadow['count']) >= 20) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(shadow, 'shadow statistics');
    assert.equal(Number(shadow['count']), 20);
    assert.equal(shadow['agreement_rate'], 1);
    assert.equal(shadow['max_abs_diff'], 0);
    // The share mirrored and what was held back or skipped are reported, not hidden.
    assert.equal(shadow['mirrored_share'], 1);
    assert.equal(shadow['skipped'], 0);
    assert.equal(shadow['skipped_expired'], 0);
    assert.equal(shadow['skipped_busy'], 0);
    assert.equal(typeof shadow['deferred'], 'number');
    const metrics = await (await fetch(`${srv.url}/metrics`)).text();
    assert.match(metrics, /^tend_shadow_requests_total\{endpoint="digits",outcome="compared"\} 20$/m);
    assert.match(metrics, /^tend_shadow_requests_total\{endpoint="digits",outcome="skipped"\} 0$/m);
    assert.match(metrics, /^tend_shadow_deferred_total\{endpoint="digits"\} \d+$/m);
  });

  test('routes written by another process (the CLI) take effect within about a second', async () => {
    const other = await Registry.open(home);
    try {
      const current = await other.deployments.get('digits');
      await other.deployments.put(
        'digits',
        { champion: 3 },
        { action: 'put', expectedRevision: current?.revision ?? null },
      );
    } finally {
      await other.close();
    }
    let version = '';
    for (let tries = 0; tries < 100 && version !== '3'; tries++) {
      const r = await infer(`oob-${tries}`);
      assert.equal(r.status, 200);
      version = r.version;
      if (version !== '3') await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(version, '3');
  });

  test('a canary that fails on 20% of inputs is rolled back automatically; the history says why', async () => {
    const res = await put('/api/v1/deployments/lookup', {
      champion: 1,
      canary: { version: 2, percent: 50, policy: { min_requests: 40 } },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const statuses: number[] = [];
    let rolledBack = false;
    for (let i = 0; i < 2000 && !rolledBack; i++) {
      const x = i % 5 === 0 ? 12 : i % 10; // every fifth input is out of the table's range
      const r = await postJson(`${srv.url}/v2/models/lookup/infer`, {
        id: `l-${i}`,
        inputs: [{ name: 'x', datatype: 'INT64', shape: [1, 1], data: [x] }],
      });
      statuses.push(r.status);
      if (i % 20 === 19) {
        const d = (await getJson(`${srv.url}/api/v1/deployments/lookup`)).body;
        rolledBack = (d['routes'] as Record<string, unknown>)['canary'] === undefined;
      }
    }
    assert.ok(rolledBack, 'the canary was rolled back');
    assert.ok(statuses.includes(400), 'the canary failed some requests (TEND_INFERENCE_FAILED)');
    const history = (await getJson(`${srv.url}/api/v1/deployments/lookup/history`)).body['history'] as {
      action: string;
      actor: string;
      reason: string;
    }[];
    assert.equal(history[0]?.action, 'auto_rollback');
    assert.equal(history[0]?.actor, 'tend');
    assert.match(
      history[0]?.reason ?? '',
      /canary error rate [0-9.]+% \([0-9]+ of [0-9]+\) exceeds the champion's 0\.0% by more than 5\.0%/,
    );
    for (let i = 0; i < 20; i++) {
      const r = await postJson(`${srv.url}/v2/models/lookup/infer`, {
        inputs: [{ name: 'x', datatype: 'INT64', shape: [1, 1], data: [12] }],
      });
      assert.equal(r.status, 200, 'the champion answers every input after the rollback');
      assert.equal(r.body['model_version'], '1');
    }
  });

  test('a failing shadow never reaches the caller; its errors are counted', async () => {
    const res = await put('/api/v1/deployments/lookup', { champion: 1, shadow: { version: 2 } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    for (let i = 0; i < 10; i++) {
      const r = await postJson(`${srv.url}/v2/models/lookup/infer`, {
        inputs: [{ name: 'x', datatype: 'INT64', shape: [1, 1], data: [i % 2 === 0 ? 12 : 3] }],
      });
      assert.equal(r.status, 200);
      assert.equal(r.body['model_version'], '1');
    }
    let shadow: Record<string, unknown> | null = null;
    for (let tries = 0; tries < 50; tries++) {
      shadow = (await getJson(`${srv.url}/api/v1/deployments/lookup`)).body['shadow'] as Record<
        string,
        unknown
      > | null;
      if (shadow && Number(shadow['count']) + Number(shadow['shadow_errors']) >= 10) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(Number(shadow?.['shadow_errors']), 5);
    assert.match(String(shadow?.['last_error']), /out of|bounds|indices/i);
  });

  test('an archived version is not served after a reload, and cannot be archived while referenced', async () => {
    const other = await Registry.open(home);
    try {
      await assert.rejects(other.models.archiveVersion('digits', 3), /champion/);
      await other.models.archiveVersion('digits', 1);
    } finally {
      await other.close();
    }
    assert.equal((await postJson(`${srv.url}/v2/repository/models/digits/load`, '')).status, 200);
    const res = await postJson(`${srv.url}/v2/models/digits/versions/1/infer`, digitsBody());
    assert.equal(res.status, 404);
    assert.match(String(res.body['error']), /version 1 is archived/);
    assert.equal((await infer('after-archive')).status, 200);
  });
});
