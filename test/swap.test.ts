/**
 * Zero-downtime swaps under continuous load from a separate process: 20 swaps of three kinds
 * (alias moves behind the endpoint's champion route, canary route changes, full reloads that start
 * new workers and drain the old ones). Not one request may fail; the rate reached is reported, not
 * asserted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startBackgroundLoad } from './background-load.js';
import { FIXTURE_MODELS, postJson, seededRandom, startTestServer } from './helpers.js';

const DIGITS = join(FIXTURE_MODELS, 'digits_mlp.onnx');

async function put(url: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: 'PUT',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

test('20 swaps while another process sends continuous load: no request fails', async () => {
  const srv = await startTestServer();
  try {
    for (let i = 0; i < 3; i++) await srv.engine.registry.models.push(DIGITS, { name: 'sw' });
    await srv.engine.registry.models.setAlias('sw', 'live', 1);
    const first = await put(`${srv.url}/api/v1/deployments/sw`, { champion: 'live' });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const r = seededRandom(5);
    const body = {
      inputs: [
        {
          name: 'pixels',
          datatype: 'FP32',
          shape: [1, 64],
          data: Array.from({ length: 64 }, () => Math.fround(r())),
        },
      ],
    };
    const load = startBackgroundLoad(`${srv.url}/v2/models/sw/infer`, body, 4);
    const kinds: string[] = [];
    try {
      await load.started;
      let live = 1;
      let canary = 0;
      const other = (...not: number[]): number => [1, 2, 3].find((v) => !not.includes(v)) as number;
      for (let i = 0; i < 20; i++) {
        let res: { status: number; body: Record<string, unknown> };
        if (i % 3 === 0) {
          live = other(live, canary);
          res = await put(`${srv.url}/api/v1/models/sw/aliases/live`, { version: live });
          kinds.push('alias');
        } else if (i % 3 === 1) {
          canary = other(live, canary);
          res = await put(`${srv.url}/api/v1/deployments/sw`, {
            champion: 'live',
            canary: { version: canary, percent: 30 },
          });
          kinds.push('route');
        } else {
          res = await postJson(`${srv.url}/v2/repository/models/sw/load`, {});
          kinds.push('reload');
        }
        assert.equal(res.status, 200, `swap ${i} (${kinds.at(-1)}): ${JSON.stringify(res.body)}`);
        await new Promise((resolve) => setTimeout(resolve, 150)); // let the load run on the new state
      }
    } finally {
      const result = await load.stop();
      const total = result.ok + result.failed;
      console.log(
        `swap test: ${kinds.length} swaps (${kinds.filter((k) => k === 'alias').length} alias moves, ${kinds.filter((k) => k === 'route').length} route changes, ` +
          `${kinds.filter((k) => k === 'reload').length} reloads), ${total} requests at ${result.rate_per_s}/s, ${result.failed} failed, by version ${JSON.stringify(result.by_version)}`,
      );
      assert.equal(result.failed, 0, `failed requests: ${result.error_samples.join(' | ')}`);
      assert.ok(result.ok > 0);
      assert.ok(Object.keys(result.by_version).length >= 2, 'the swaps moved traffic between versions');
    }
  } finally {
    await srv.close();
  }
});
