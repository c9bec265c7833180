import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TendError } from '../../core/errors.js';
import { defaultGrpcAddress, parseBenchOptions, parseShapes, type BenchOptions } from './bench-options.js';

const BASE: BenchOptions = { duration: '10s', warmup: '1s', batch: 1, shape: [], repo: [] };

function rejects(opts: Partial<BenchOptions>, flag: RegExp): void {
  assert.throws(
    () => parseBenchOptions({ ...BASE, ...opts }),
    (err: unknown) =>
      err instanceof TendError && err.code === 'TEND_INVALID_ARGUMENT' && flag.test(err.message),
    JSON.stringify(opts),
  );
}

test('defaults: HTTP JSON, closed loop at 1, 8 and 32 clients', () => {
  const plan = parseBenchOptions(BASE);
  assert.equal(plan.protocol, 'http');
  assert.equal(plan.binary, false);
  assert.equal(plan.url, null);
  assert.deepEqual(plan.levels, [{ concurrency: 1 }, { concurrency: 8 }, { concurrency: 32 }]);
  assert.equal(plan.durationMs, 10_000);
  assert.equal(plan.warmupMs, 1000);
});

test('the acceptance command line: gRPC, open loop at 2000/s for 10 s', () => {
  const plan = parseBenchOptions({ ...BASE, protocol: 'grpc', requestRate: '2000', duration: '10s' });
  assert.equal(plan.protocol, 'grpc');
  assert.deepEqual(plan.levels, [{ requestRate: 2000 }]);
  assert.equal(plan.maxInFlight, 10_000);
  const sweep = parseBenchOptions({ ...BASE, requestRate: '100, 2.5', maxInFlight: 64, binary: true });
  assert.deepEqual(sweep.levels, [{ requestRate: 100 }, { requestRate: 2.5 }]);
  assert.equal(sweep.maxInFlight, 64);
  assert.equal(sweep.binary, true);
});

test('URLs and gRPC addresses are checked and normalized', () => {
  assert.equal(parseBenchOptions({ ...BASE, url: 'http://127.0.0.1:8000/' }).url, 'http://127.0.0.1:8000');
  const grpc = parseBenchOptions({ ...BASE, protocol: 'grpc', grpcAddress: 'localhost:8001' });
  assert.equal(grpc.grpcAddress, 'localhost:8001');
  assert.equal(defaultGrpcAddress('http://10.0.0.2:8000'), '10.0.0.2:8001');
  assert.equal(defaultGrpcAddress('http://[::1]:8000'), '[::1]:8001');
});

test('every bad flag is a TEND_INVALID_ARGUMENT naming the flag', () => {
  rejects({ protocol: 'udp' }, /^--protocol 'udp'/);
  rejects({ protocol: 'grpc', binary: true }, /^--binary .* --protocol http/);
  rejects({ grpcAddress: 'h:1' }, /^--grpc-address applies to --protocol grpc/);
  for (const bad of ['h', 'h:0', 'h:70000', ':80', 'h:8o'])
    rejects({ protocol: 'grpc', grpcAddress: bad }, /^--grpc-address '/);
  rejects({ concurrency: '8', requestRate: '100' }, /--concurrency .* --request-rate/);
  for (const bad of ['0', '-1', 'fast', '', '1,,2', '1e3', 'Infinity'])
    rejects({ requestRate: bad }, /^--request-rate '/);
  for (const bad of ['0', '2.5', 'a', '1,', '-4']) rejects({ concurrency: bad }, /^--concurrency '/);
  rejects({ maxInFlight: 10 }, /^--max-in-flight .* --request-rate/);
  rejects({ requestRate: '10', maxInFlight: 0 }, /^--max-in-flight/);
  rejects({ batch: 0 }, /^--batch/);
  rejects({ duration: '0s' }, /^--duration/);
  rejects({ duration: 'ten' }, /^--duration/);
  rejects({ warmup: '-1s' }, /^--warmup/);
  rejects({ url: 'localhost:8000' }, /^--url 'localhost:8000' must start with http/);
  rejects({ url: 'not a url' }, /^--url 'not a url' is not a URL/);
  rejects({ shape: ['x=1,0'] }, /^--shape 'x=1,0'/);
});

test('parseShapes reads NAME=D1,D2', () => {
  assert.deepEqual(
    [...parseShapes(['input_ids=1,128', 'mask=1,128'])],
    [
      ['input_ids', [1, 128]],
      ['mask', [1, 128]],
    ],
  );
  for (const bad of ['=1', 'x', 'x=', 'x=a', 'x=1.5']) rejects({ shape: [bad] }, /^--shape/);
});
