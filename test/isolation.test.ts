/**
 * Issue 11, isolation, end to end with real processes: a `tend serve` started with
 * TEND_FAULT_INJECTION=1 serves a model in `process` isolation beside one in a thread. The faulty
 * model's child aborts (as a native crash in onnxruntime would) and then hangs: the other model,
 * under continuous load from a separate process, answers every request; the faulty one fails only its
 * own in-flight requests, with a clear error, and comes back. In `thread` isolation the same abort
 * takes the whole server down (SIGABRT): that is what the README says, and this shows it.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { startBackgroundLoad } from './background-load.js';
import { CLI, FIXTURE_MODELS, makeRepo, postJson, tempDir } from './helpers.js';

const DIGITS = join(FIXTURE_MODELS, 'digits_mlp.onnx');
const BODY = {
  inputs: [
    { name: 'pixels', shape: [1, 64], datatype: 'FP32', data: Array.from({ length: 64 }, (_, i) => i % 16) },
  ],
};

interface Served {
  child: ChildProcess;
  url: string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: () => string;
}

const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill('SIGKILL');
});

async function serve(faultyIsolation: 'thread' | 'process'): Promise<Served> {
  const repo = makeRepo([
    {
      name: 'faulty',
      model: DIGITS,
      config: { instance_group: [{ count: 1, isolation: faultyIsolation, hang_timeout_ms: 1500 }] },
    },
    { name: 'steady', model: DIGITS },
  ]);
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      CLI,
      'serve',
      '--repo',
      repo,
      '--home',
      tempDir('iso-home'),
      '--port',
      '0',
      '--no-grpc',
      '--log-level',
      'warn',
    ],
    {
      env: { ...process.env, TEND_FAULT_INJECTION: '1', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line: ${out}`)), 90_000);
    child.stdout?.on('data', () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m && /ready: yes/.test(out)) {
        clearTimeout(timer);
        resolve(m[1] as string);
      }
    });
    void exit.then(({ code, signal }) => reject(new Error(`serve exited (${code ?? signal}): ${out}`)));
  });
  return { child, url, exit, output: () => out };
}

/** Poll until the model answers 200 again (it restarts after the fault). */
async function recovers(url: string, model: string): Promise<number> {
  for (let attempt = 0; attempt < 600; attempt++) {
    const res = await postJson(`${url}/v2/models/${model}/infer`, BODY);
    if (res.status === 200) return attempt;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${model} did not come back`);
}

describe('process isolation', () => {
  test('abort and hang in one model: the other serves without a single failed request; the faulty one fails its own requests and comes back', async () => {
    const server = await serve('process');
    const load = startBackgroundLoad(`${server.url}/v2/models/steady/infer`, BODY, 4);
    await load.started;

    // Abort: the child dies from SIGABRT; requests in flight on it fail with a clear error.
    const inFlight = Array.from({ length: 8 }, () => postJson(`${server.url}/v2/models/faulty/infer`, BODY));
    const fault = await postJson(`${server.url}/v2/debug/models/faulty/versions/1/fault`, { mode: 'abort' });
    assert.equal(fault.status, 200, JSON.stringify(fault.body));
    const answers = await Promise.all(inFlight);
    for (const a of answers) {
      if (a.status !== 200) {
        assert.ok(a.status === 500 || a.status === 503, `${a.status} ${JSON.stringify(a.body)}`);
        assert.match(String(a.body['error']), /SIGABRT|restarting|not running|request failed/);
      }
    }
    await recovers(server.url, 'faulty');

    // Hang: the batch passes hang_timeout_ms (1.5 s), the child is killed, its request fails, it comes back.
    const hung = await postJson(`${server.url}/v2/debug/models/faulty/versions/1/fault`, { mode: 'hang' });
    assert.equal(hung.status, 200);
    const stuck = await postJson(`${server.url}/v2/models/faulty/infer`, BODY);
    assert.notEqual(stuck.status, 200);
    assert.match(String(stuck.body['error']), /longer than 1500 ms \(hang_timeout_ms\)|restarting/);
    await recovers(server.url, 'faulty');

    const result = await load.stop();
    assert.equal(result.failed, 0, JSON.stringify(result.error_samples));
    assert.ok(result.ok > 50, `steady answered ${result.ok} requests`);
    // Still one process, still ready.
    assert.equal((await fetch(`${server.url}/v2/health/ready`)).status, 200);
    server.child.kill('SIGTERM');
    assert.equal((await server.exit).code, 0, server.output());
  });

  test('without TEND_FAULT_INJECTION the fault route does not exist', async () => {
    const { startTestServer } = await import('./helpers.js');
    const plain = await startTestServer({ repos: [makeRepo([{ name: 'faulty', model: DIGITS }])] });
    try {
      const res = await postJson(`${plain.url}/v2/debug/models/faulty/versions/1/fault`, { mode: 'abort' });
      assert.equal(res.status, 404);
    } finally {
      await plain.close();
    }
  });
});

describe('thread isolation', () => {
  test('an abort in a worker thread takes the whole server down (SIGABRT), as documented', async () => {
    const server = await serve('thread');
    const fault = postJson(`${server.url}/v2/debug/models/faulty/versions/1/fault`, { mode: 'abort' }).catch(
      (err: unknown) => err as Error,
    );
    const { signal } = await server.exit;
    assert.equal(signal, 'SIGABRT', server.output());
    await fault;
  });
});
