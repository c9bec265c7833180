import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { TendError } from '../../core/errors.js';
import { parseDuration } from '../../core/duration.js';
import { parseConcurrencyList, runLoad, runSweep, summarizeLatencies } from './http-load.js';

const BODY = JSON.stringify({ inputs: [{ name: 'x', shape: [1, 2], datatype: 'FP32', data: [1, 2] }] });

interface FakeServer {
  url: string;
  /** Requests the server has answered. */
  answered: () => number;
  close: () => Promise<void>;
}

/** A server that checks the body and headers and fails every `failEvery`-th request with a 500. */
async function startServer(failEvery = 0): Promise<FakeServer> {
  let count = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      count += 1;
      const body = Buffer.concat(chunks).toString('utf8');
      if (
        body !== BODY ||
        req.headers['content-type'] !== 'application/json' ||
        req.headers['x-trace'] !== 'yes'
      ) {
        res.writeHead(400).end('bad request');
      } else if (failEvery > 0 && count % failEvery === 0) {
        res
          .writeHead(500, { 'content-type': 'application/json' })
          .end('{"error":"boom","code":"TEND_INTERNAL"}');
      } else {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"outputs":[]}');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v2/models/m/infer`,
    answered: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const headers = { 'x-trace': 'yes' };

test('runLoad counts every answer in the window and orders its percentiles', async () => {
  const server = await startServer();
  try {
    const ticks: number[] = [];
    const result = await runLoad({
      url: server.url,
      body: BODY,
      headers,
      concurrency: 4,
      durationMs: 400,
      itemsPerRequest: 3,
      onTick: (done) => ticks.push(done),
    });
    assert.equal(result.concurrency, 4);
    assert.equal(result.errors, 0, result.error_samples.join('\n'));
    assert.ok(result.requests > 0);
    // Requests still in flight when the window closed are answered but not counted.
    const uncounted = server.answered() - result.requests;
    assert.ok(
      uncounted >= 0 && uncounted <= 4,
      `server answered ${server.answered()}, counted ${result.requests}`,
    );
    assert.ok(result.duration_seconds > 0);
    assert.ok(Math.abs(result.throughput_rps - result.requests / result.duration_seconds) < 1e-6);
    assert.ok(Math.abs(result.throughput_items_per_second - 3 * result.throughput_rps) < 1e-6);
    const l = result.latency_ms;
    assert.ok(l.p50 > 0 && l.p50 <= l.p90 && l.p90 <= l.p95 && l.p95 <= l.p99 && l.p99 <= l.max);
    assert.ok(l.mean > 0 && l.mean <= l.max);
    assert.equal(ticks.at(-1), result.requests);
  } finally {
    await server.close();
  }
});

test('runLoad leaves the warm-up out of the measured window', async () => {
  const server = await startServer();
  try {
    const result = await runLoad({
      url: server.url,
      body: Buffer.from(BODY),
      headers,
      concurrency: 2,
      durationMs: 200,
      warmupMs: 200,
    });
    assert.equal(result.errors, 0);
    assert.ok(result.requests > 0);
    assert.ok(server.answered() > result.requests + 2, 'warm-up requests must not be counted');
  } finally {
    await server.close();
  }
});

test('runLoad counts non-2xx answers as errors and keeps a few samples', async () => {
  const server = await startServer(2);
  try {
    const result = await runLoad({ url: server.url, body: BODY, headers, concurrency: 2, durationMs: 300 });
    assert.ok(result.errors > 0);
    assert.ok(result.errors < result.requests);
    assert.ok(result.error_samples.length > 0 && result.error_samples.length <= 5);
    assert.match(result.error_samples[0] ?? '', /^HTTP 500: .*boom/);
    const succeeded = result.requests - result.errors;
    assert.ok(Math.abs(result.throughput_rps * result.duration_seconds - succeeded) < 1e-6);
  } finally {
    await server.close();
  }
});

test('runLoad reports socket failures as errors', async () => {
  const server = await startServer();
  const url = server.url;
  await server.close(); // nothing listens on the port any more
  const result = await runLoad({ url, body: BODY, concurrency: 1, durationMs: 100 });
  assert.ok(result.errors > 0);
  assert.equal(result.errors, result.requests);
  assert.equal(result.throughput_rps, 0);
  assert.match(result.error_samples[0] ?? '', /^request error: /);
  assert.deepEqual(result.latency_ms, { p50: 0, p90: 0, p95: 0, p99: 0, mean: 0, max: 0 });
});

test('runLoad with an aborted signal measures nothing', async () => {
  const server = await startServer();
  try {
    const result = await runLoad({
      url: server.url,
      body: BODY,
      headers,
      concurrency: 2,
      durationMs: 5000,
      signal: AbortSignal.abort(),
    });
    assert.equal(result.requests, 0);
    assert.equal(result.duration_seconds, 0);
    assert.equal(result.throughput_rps, 0);
  } finally {
    await server.close();
  }
});

test('runSweep runs one level per concurrency, in order', async () => {
  const server = await startServer();
  try {
    const results = await runSweep({
      url: server.url,
      body: BODY,
      headers,
      concurrencies: [1, 3],
      durationMs: 150,
    });
    assert.deepEqual(
      results.map((r) => r.concurrency),
      [1, 3],
    );
    assert.ok(results.every((r) => r.requests > 0 && r.errors === 0));
  } finally {
    await server.close();
  }
});

function assertInvalidArgument(fn: () => unknown): void {
  assert.throws(fn, (err: unknown) => err instanceof TendError && err.code === 'TEND_INVALID_ARGUMENT');
}

async function assertRejectsInvalidArgument(promise: Promise<unknown>): Promise<void> {
  await assert.rejects(
    promise,
    (err: unknown) => err instanceof TendError && err.code === 'TEND_INVALID_ARGUMENT',
  );
}

test('runLoad and runSweep reject bad options', async () => {
  const base = { url: 'http://127.0.0.1:9/x', body: BODY, durationMs: 100 };
  await assertRejectsInvalidArgument(runLoad({ ...base, concurrency: 0 }));
  await assertRejectsInvalidArgument(runLoad({ ...base, concurrency: 1.5 }));
  await assertRejectsInvalidArgument(runLoad({ ...base, concurrency: 1, durationMs: 0 }));
  await assertRejectsInvalidArgument(runLoad({ ...base, concurrency: 1, warmupMs: -1 }));
  await assertRejectsInvalidArgument(runLoad({ ...base, concurrency: 1, url: 'not a url' }));
  await assertRejectsInvalidArgument(runLoad({ ...base, concurrency: 1, url: 'ftp://127.0.0.1/x' }));
  await assertRejectsInvalidArgument(runSweep({ ...base, concurrencies: [] }));
});

test('summarizeLatencies uses nearest-rank percentiles', () => {
  const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted on purpose
  assert.deepEqual(summarizeLatencies(values), { p50: 50, p90: 90, p95: 95, p99: 99, mean: 50.5, max: 100 });
  assert.deepEqual(summarizeLatencies([7]), { p50: 7, p90: 7, p95: 7, p99: 7, mean: 7, max: 7 });
});

test('bench --duration reads the duration grammar and bare seconds, and must be positive', () => {
  const flag = (text: string) => parseDuration(text, { what: '--duration', plainSeconds: true, minMs: 1 });
  assert.equal(flag('10s'), 10_000);
  assert.equal(flag('500ms'), 500);
  assert.equal(flag('2m'), 120_000);
  assert.equal(flag('10'), 10_000);
  assert.equal(flag('1.5s'), 1500);
  assert.equal(flag('1m30s'), 90_000);
  assert.equal(flag('2h'), 7_200_000);
  for (const bad of ['', 's', '-1s', '0', '0ms', '1e3', 'ten']) assertInvalidArgument(() => flag(bad));
});

test('parseConcurrencyList reads positive integers', () => {
  assert.deepEqual(parseConcurrencyList('1,8,32'), [1, 8, 32]);
  assert.deepEqual(parseConcurrencyList(' 4 '), [4]);
  assert.deepEqual(parseConcurrencyList('1, 2'), [1, 2]);
  for (const bad of ['', '0', '1,,2', '1,-2', '2.5', 'a', '1,8,'])
    assertInvalidArgument(() => parseConcurrencyList(bad));
});
