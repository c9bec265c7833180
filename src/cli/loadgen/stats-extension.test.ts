import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { emptyStatistics, VersionStatistics } from '../../monitor/statistics.js';
import { fetchStatistics, parseStatistics, serverSideTimes } from './stats-extension.js';

test('server-side times are the growth of each duration over the growth of its count, in µs', () => {
  const stats = new VersionStatistics(() => 0);
  stats.requestSucceeded(1, 900_000, {
    queueNs: 500_000,
    computeInputNs: 0,
    computeInferNs: 0,
    computeOutputNs: 0,
  });
  const before = parseStatistics({ model_stats: [stats.snapshot('m', '1')] });
  // Two more requests: queue 100 µs and 300 µs, infer 2 ms each, one batch of both.
  for (const queueNs of [100_000, 300_000]) {
    stats.requestSucceeded(1, 3_000_000, {
      queueNs,
      computeInputNs: 10_000,
      computeInferNs: 2_000_000,
      computeOutputNs: 20_000,
    });
  }
  stats.batchExecuted(2, { computeInputNs: 10_000, computeInferNs: 2_000_000, computeOutputNs: 20_000 });
  stats.requestFailed(1_000);
  const after = parseStatistics({ model_stats: [stats.snapshot('m', '1')] });
  assert.deepEqual(serverSideTimes(before, after), {
    requests: 2,
    failed_requests: 1,
    executions: 1,
    request_us: 3000,
    queue_us: 200,
    compute_input_us: 10,
    compute_infer_us: 2000,
    compute_output_us: 20,
  });
});

test('no requests counted gives zeros; a missing snapshot gives null', () => {
  const quiet = parseStatistics({ model_stats: [emptyStatistics('m', '1')] });
  assert.equal(serverSideTimes(quiet, quiet)?.queue_us, 0);
  assert.equal(serverSideTimes(null, quiet), null);
  assert.equal(parseStatistics({}), null);
  assert.equal(parseStatistics({ model_stats: [{ inference_stats: { success: 3 } }] }), null);
  assert.equal(parseStatistics(null), null);
});

test('fetchStatistics reads /v2/models/{name}/versions/{v}/stats and gives null when refused', async () => {
  const paths: string[] = [];
  const server = http.createServer((req, res) => {
    paths.push(req.url ?? '');
    if (req.url?.includes('/versions/1/')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ model_stats: [emptyStatistics('a b', '1')] }));
    } else res.writeHead(404).end('{"error":"no"}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    assert.equal((await fetchStatistics(base, 'a b', '1'))?.success.count, 0);
    assert.equal(await fetchStatistics(base, 'a b', '2'), null);
    assert.deepEqual(paths, ['/v2/models/a%20b/versions/1/stats', '/v2/models/a%20b/versions/2/stats']);
  } finally {
    server.close();
  }
  assert.equal(await fetchStatistics(base, 'm', '1'), null, 'a closed port gives null');
});
