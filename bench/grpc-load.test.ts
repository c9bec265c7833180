import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFakeGrpcServer, type FakeGrpcServer } from './fake-servers.test-helper.js';
import { encodeModelInferRequest } from './grpc-infer.js';
import { generateGrpcLoad, percentile, runGrpcLoad, slotsPerChannel } from './grpc-load.js';
import { tempDir } from '../src/core/test-support.test-helper.js';

let server: FakeGrpcServer;
let dir: string;
let goodRequest: string;
let badRequest: string;

const input = { name: 'x', datatype: 'FP32' as const, shape: [1, 2], data: Float32Array.of(1, 2) };

before(async () => {
  server = await startFakeGrpcServer([
    { name: 'y', datatype: 'FP32', shape: [1, 1], data: Float32Array.of(3) },
  ]);
  dir = tempDir('grpc-load');
  goodRequest = join(dir, 'good.bin');
  badRequest = join(dir, 'bad.bin');
  writeFileSync(goodRequest, encodeModelInferRequest('m', [input]));
  writeFileSync(badRequest, encodeModelInferRequest('bad', [input]));
});

after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

test('percentile takes the nearest rank of sorted values', () => {
  const sorted = Float64Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(sorted, 50), 50);
  assert.equal(percentile(sorted, 99), 99);
  assert.equal(percentile(sorted, 100), 100);
  assert.equal(percentile([7], 99), 7);
  assert.ok(Number.isNaN(percentile([], 50)));
});

test('slotsPerChannel splits the calls in flight evenly', () => {
  assert.deepEqual(slotsPerChannel(16, 1), [16]);
  assert.deepEqual(slotsPerChannel(16, 2), [8, 8]);
  assert.deepEqual(slotsPerChannel(5, 2), [3, 2]);
});

test('generateGrpcLoad counts completed calls in the window and their latencies', async () => {
  const before = server.calls();
  const r = await generateGrpcLoad({
    address: server.address,
    requestPath: goodRequest,
    concurrency: 4,
    channels: 2,
    warmupSeconds: 0.05,
    durationSeconds: 0.2,
  });
  assert.equal(r.errors, 0);
  assert.equal(r.firstError, null);
  assert.ok(r.calls > 0);
  // Warm-up and drained calls reach the server but are not counted.
  assert.ok(server.calls() - before >= r.calls);
  assert.equal(r.requestsPerSecond, r.calls / 0.2);
  assert.ok(r.latencyMs.p50 > 0 && r.latencyMs.p99 >= r.latencyMs.p50);
  assert.ok(r.clientCpuCores >= 0);
  assert.equal(r.channels, 2);
});

test('generateGrpcLoad counts failed calls and keeps the first error', async () => {
  const r = await generateGrpcLoad({
    address: server.address,
    requestPath: badRequest,
    concurrency: 2,
    channels: 1,
    warmupSeconds: 0,
    durationSeconds: 0.1,
  });
  assert.equal(r.calls, 0);
  assert.ok(r.errors > 0);
  assert.match(r.firstError ?? '', /^3 no such model/);
});

test('generateGrpcLoad refuses more channels than calls', async () => {
  await assert.rejects(
    generateGrpcLoad({
      address: server.address,
      requestPath: goodRequest,
      concurrency: 1,
      channels: 2,
      warmupSeconds: 0,
      durationSeconds: 0.1,
    }),
    /channels \(2\) ≤ concurrency \(1\)/,
  );
});

test('runGrpcLoad runs the generator in a child process and reads its result', async () => {
  // A second of load: on a busy machine the child may need most of 0.2 s just to start and answer nothing.
  const r = await runGrpcLoad({
    address: server.address,
    requestPath: goodRequest,
    concurrency: 2,
    channels: 1,
    warmupSeconds: 0,
    durationSeconds: 1,
  });
  assert.equal(r.errors, 0);
  assert.ok(r.calls > 0);
  await assert.rejects(
    runGrpcLoad({
      address: server.address,
      requestPath: join(dir, 'missing.bin'),
      concurrency: 1,
      channels: 1,
      warmupSeconds: 0,
      durationSeconds: 0.1,
    }),
    /grpc load generator exited with 1: .*missing\.bin/,
  );
});
