/**
 * `tend bench` end to end against an in-process fake server: HTTP for metadata, the check request
 * and the statistics extension; gRPC ModelInfer answered slowly on purpose. The acceptance of the
 * open loop: the send times in the CSV hold the asked rate within 2% although every answer takes
 * 100 ms, so the sends cannot have waited for the answers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { inferenceServiceDefinition, type ModelInferRequestMessage } from '../../server/grpc/definition.js';
import type { LevelSummary } from '../loadgen/level-summary.js';
import { benchCommand } from './bench.js';
import type { BenchOptions } from './bench-options.js';

const ANSWER_DELAY_MS = 100;
const QUEUE_NS = 250_000;

interface FakeServer {
  url: string;
  grpcAddress: string;
  /** The last ModelInfer request the server received. */
  last: () => Promise<ModelInferRequestMessage | undefined>;
  close: () => Promise<void>;
}

/**
 * The fake server runs in a child process (plain JavaScript below), as `tend serve` would: the
 * load generator then has this process's CPU share to itself. Its gRPC side speaks the wire
 * protocol on `node:http2` directly; grpc-js's server costs several times the CPU per call, which
 * on two shared cores would measure the machine rather than the schedule.
 */
const FAKE_SERVER = `
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
const [delayMs, queueNs] = [Number(process.argv[1]), Number(process.argv[2])];
let calls = 0;
let last = null;
const answer = Buffer.from([0, 0, 0, 0, 0]);
const grpc = http2.createServer();
grpc.on('stream', (stream, headers) => {
  const chunks = [];
  stream.on('data', (c) => chunks.push(c));
  stream.on('error', () => {});
  stream.on('end', () => {
    if (headers[':path'] !== '/inference.GRPCInferenceService/ModelInfer') {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12' }, { endStream: true });
      return;
    }
    last = Buffer.concat(chunks);
    setTimeout(() => {
      if (stream.destroyed) return;
      calls += 1;
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(answer);
    }, delayMs);
  });
});
const duration = (ns) => ({ count: calls, ns: calls * ns });
const zero = { count: 0, ns: 0 };
const web = http.createServer((req, res) => {
  const json = (status, body) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  req.resume();
  req.on('end', () => {
    if (req.url === '/v2/models/m') return json(200, { name: 'm', versions: ['1'], inputs: [{ name: 'pixels', datatype: 'FP32', shape: [-1, 4] }] });
    if (req.url === '/v2/models/m/infer') return json(200, { model_name: 'm', model_version: '1', outputs: [] });
    if (req.url === '/last') return json(200, { body: last === null ? null : last.toString('base64') });
    if (req.url === '/v2/models/m/versions/1/stats') {
      const inference_stats = { success: duration(delayMs * 1e6), fail: zero, queue: duration(queueNs),
        compute_input: zero, compute_infer: duration(delayMs * 1e6), compute_output: zero };
      return json(200, { model_stats: [{ name: 'm', version: '1', last_inference: 0, inference_count: calls,
        execution_count: calls, inference_stats, batch_stats: [] }] });
    }
    json(404, { error: 'not found' });
  });
});
grpc.listen(0, '127.0.0.1', () => web.listen(0, '127.0.0.1', () =>
  process.stdout.write(JSON.stringify({ http: web.address().port, grpc: grpc.address().port }) + '\\n')));
`;

async function startFakeServer(): Promise<FakeServer> {
  const child = spawn(
    process.execPath,
    ['--input-type=module', '-e', FAKE_SERVER, String(ANSWER_DELAY_MS), String(QUEUE_NS)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
  const ports = JSON.parse(line) as { http: number; grpc: number };
  const url = `http://127.0.0.1:${ports.http}`;
  const method = inferenceServiceDefinition()['ModelInfer'];
  return {
    url,
    grpcAddress: `127.0.0.1:${ports.grpc}`,
    last: async () => {
      const { body } = (await (await fetch(`${url}/last`)).json()) as { body: string | null };
      return body === null
        ? undefined
        : (method?.requestDeserialize(Buffer.from(body, 'base64').subarray(5)) as ModelInferRequestMessage);
    },
    close: async () => {
      child.kill();
      await once(child, 'exit');
    },
  };
}

/**
 * Run the command with what it prints captured. Only strings are taken: the test runner itself
 * writes its (binary) reports to this process's stdout meanwhile.
 */
async function bench(ref: string, opts: Partial<BenchOptions>): Promise<string> {
  const write = process.stdout.write.bind(process.stdout);
  let out = '';
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    if (typeof chunk !== 'string') return write(chunk, ...rest);
    out += chunk;
    return true;
  }) as typeof process.stdout.write;
  try {
    await benchCommand(ref, { duration: '10s', warmup: '1s', batch: 1, shape: [], repo: [], ...opts });
  } finally {
    process.stdout.write = write;
  }
  return out;
}

function readCsv(path: string): { sendMs: number; latencyMs: number; status: string; rate: string }[] {
  const [header, ...lines] = readFileSync(path, 'utf8').trimEnd().split('\n');
  assert.equal(header, 'concurrency,request_rate,send_ms,latency_ms,status');
  return lines.map((line) => {
    const [, rate = '', send = '', latency = '', status = ''] = line.split(',');
    return { sendMs: Number(send), latencyMs: latency === '' ? Number.NaN : Number(latency), status, rate };
  });
}

/**
 * One run of the open-loop check; null when the send rate held 2%, else what it was. Everything but
 * the rate is asserted here: only the rate depends on the process getting the CPU when it asks.
 */
async function openLoopAttempt(): Promise<string | null> {
  const server = await startFakeServer();
  const dir = mkdtempSync(join(tmpdir(), 'tend-bench-'));
  try {
    const csv = join(dir, 'out.csv');
    const printed = await bench('m', {
      url: server.url,
      protocol: 'grpc',
      grpcAddress: server.grpcAddress,
      requestRate: '2000',
      duration: '2s',
      warmup: '200ms',
      csv,
      json: true,
    });
    const report = JSON.parse(printed) as { protocol: string; levels: LevelSummary[] };
    assert.equal(report.protocol, 'grpc');
    const level = report.levels[0] as LevelSummary;

    const rows = readCsv(csv);
    assert.equal(rows.length, 4000, 'one row per request due in the 2 s window');
    assert.ok(rows.every((r) => r.rate === '2000' && r.status === 'OK'));
    const sends = rows.map((r) => r.sendMs);
    const span = Math.max(...sends) - Math.min(...sends);
    const rate = ((rows.length - 1) * 1000) / span;
    const held = Math.abs(rate / 2000 - 1) <= 0.02;
    // Every answer took the handler's 100 ms, yet the sends went on: about rate × delay were in flight.
    assert.ok(rows.every((r) => r.latencyMs >= ANSWER_DELAY_MS - 1));
    assert.ok((level.peak_in_flight ?? 0) >= 150, `peak in flight ${level.peak_in_flight}`);
    assert.ok(Math.abs(level.send_rate_rps - rate) < 1, 'the JSON rate is the CSV rate');

    assert.equal(level.requests, 4000);
    assert.equal(level.errors, 0);
    assert.deepEqual(level.errors_by_status, {});
    assert.ok(level.latency_ms.p50 >= ANSWER_DELAY_MS - 1 && level.latency_ms.p50 <= level.latency_ms.p99);
    // Statistics extension: warm-up (400) and window (4000) calls, averages per request.
    assert.equal(level.server?.requests, 4400);
    assert.equal(level.server?.queue_us, QUEUE_NS / 1000);
    assert.equal(level.server?.compute_infer_us, ANSWER_DELAY_MS * 1000);
    // The request carried the model and a generated input of the metadata's shape.
    assert.equal((await server.last())?.model_name, 'm');
    assert.deepEqual(
      (await server.last())?.inputs.map((i) => [i.name, i.datatype, i.shape.map(Number)]),
      [['pixels', 'FP32', [1, 4]]],
    );
    return held
      ? null
      : `${rate.toFixed(1)}/s (schedule lag p99 ${level.schedule_lag_ms?.p99.toFixed(1)} ms)`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await server.close();
  }
}

test('bench --protocol grpc --request-rate 2000 holds the send rate within 2% while answers take 100 ms', async () => {
  // A process starved of CPU (the suite runs files side by side on a small machine) sends late
  // whatever its design: up to three runs, each held to the full 2%. A closed loop would send at
  // most in-flight / 100 ms, far off in every run.
  const misses: string[] = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    const miss = await openLoopAttempt();
    if (miss === null) return;
    misses.push(miss);
  }
  assert.fail(`the send rate from the CSV missed 2000/s ± 2% in 3 runs: ${misses.join('; ')}`);
});

test('bench prints a table with the server-side times in human mode', async () => {
  const server = await startFakeServer();
  try {
    const printed = await bench('m', {
      url: server.url,
      protocol: 'grpc',
      grpcAddress: server.grpcAddress,
      concurrency: '4',
      duration: '300ms',
      warmup: '0s',
    });
    assert.match(printed, /^m over gRPC at 127\.0\.0\.1:\d+ \(version 1\)/);
    assert.match(
      printed,
      /^CONCURRENCY\s+SENT\/S\s+OK\/S\s+P50 MS\s+P90 MS\s+P95 MS\s+P99 MS\s+ERRORS\s+QUEUE µS\s+INFER µS$/m,
    );
    assert.match(printed, /^4\s+\d+\s+\d+\s+1\d\d\.\d\d\s.*\s0\s+250\s+100000$/m);
  } finally {
    await server.close();
  }
});
