import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseWrkOutput, writeBinaryPostScript, writePostScript } from './wrk.js';
import { tempDir } from '../src/core/test-support.test-helper.js';

const CLEAN = `Running 2s test @ http://127.0.0.1:18080/
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     5.41ms    1.79ms  14.47ms   69.93%
    Req/Sec   731.40    107.10     0.96k    65.00%
  Latency Distribution
     50%  852.00us
     75%    6.52ms
     90%    1.20s
     99%    2.00m
  1456 requests in 2.00s, 2.98MB read
Requests/sec:    727.79
Transfer/sec:      1.49MB
`;

test('parseWrkOutput reads throughput, totals and the latency distribution', () => {
  const r = parseWrkOutput(CLEAN, 4);
  assert.equal(r.connections, 4);
  assert.equal(r.requests, 1456);
  assert.equal(r.durationSeconds, 2);
  assert.equal(r.requestsPerSecond, 727.79);
  assert.ok(Math.abs(r.latencyMs.p50 - 0.852) < 1e-9);
  assert.equal(r.latencyMs.p75, 6.52);
  assert.equal(r.latencyMs.p90, 1200);
  assert.equal(r.latencyMs.p99, 120_000);
  assert.equal(r.non2xx, 0);
  assert.equal(r.socketErrors, 0);
});

test('parseWrkOutput counts failed answers and socket errors', () => {
  const text = CLEAN.replace(
    'Requests/sec',
    '  Socket errors: connect 1, read 2, write 3, timeout 4\n  Non-2xx or 3xx responses: 46\nRequests/sec',
  );
  const r = parseWrkOutput(text, 4);
  assert.equal(r.non2xx, 46);
  assert.equal(r.socketErrors, 10);
});

test('parseWrkOutput rejects output without a report', () => {
  assert.throws(
    () => parseWrkOutput('unable to connect to 127.0.0.1:1 Connection refused', 1),
    /unexpected output/,
  );
  assert.throws(
    () => parseWrkOutput(CLEAN.replace(/Latency Distribution[\s\S]*?99%.*\n/, ''), 1),
    /no 50% latency/,
  );
});

test('writePostScript writes the body and a Lua script that reads it', () => {
  const dir = tempDir('wrk-test');
  try {
    const script = writePostScript(dir, 'digits', '{"inputs":[]}');
    const lua = readFileSync(script, 'utf8');
    assert.match(lua, /wrk\.method = "POST"/);
    assert.ok(lua.includes(JSON.stringify(join(dir, 'digits.body.json'))));
    assert.equal(readFileSync(join(dir, 'digits.body.json'), 'utf8'), '{"inputs":[]}');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('writeBinaryPostScript writes the raw body and the binary extension headers', () => {
  const dir = tempDir('wrk-test');
  try {
    const body = Buffer.concat([Buffer.from('{"inputs":[]}'), Buffer.of(0, 255, 10, 34)]);
    const script = writeBinaryPostScript(dir, 'cnn', body, 13);
    const lua = readFileSync(script, 'utf8');
    assert.match(lua, /wrk\.headers\["Content-Type"\] = "application\/octet-stream"/);
    assert.match(lua, /wrk\.headers\["Inference-Header-Content-Length"\] = "13"/);
    assert.match(lua, /io\.open\(".*cnn\.body\.bin", "rb"\)/);
    assert.deepEqual(readFileSync(join(dir, 'cnn.body.bin')), body);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
