/**
 * Graceful shutdown of a real `tend serve` process: SIGTERM (and SIGINT) turn readiness to 503,
 * refuse new work, let queued and in-flight requests finish, flush the prediction log and exit 0;
 * a second signal exits at once; a deadline bounds the wait.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CLI, FIXTURE_MODELS, makeRepo, tempDir } from './helpers.js';

const FEATURES = Array.from({ length: 64 }, (_, i) => i % 17);

interface Served {
  child: ChildProcessWithoutNullStreams;
  url: string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: () => string;
}

/** A server whose batcher holds each request for `queueDelayMs` so that a signal finds work queued. */
async function serve(home: string, queueDelayMs: number, extra: string[] = []): Promise<Served> {
  const repo = makeRepo([
    {
      name: 'digits',
      model: join(FIXTURE_MODELS, 'digits_mlp.onnx'),
      config: {
        dynamic_batching: { max_queue_delay_microseconds: queueDelayMs * 1000, preferred_batch_size: [64] },
      },
    },
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
      home,
      '--port',
      '0',
      '--no-grpc',
      '--log-level',
      'silent',
      ...extra,
    ],
    {
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line: ${out}`)), 60_000);
    child.stdout.on('data', () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m && /ready: yes/.test(out)) {
        clearTimeout(timer);
        resolve(m[1] as string);
      }
    });
    void exit.then(({ code }) => reject(new Error(`serve exited ${code}: ${out}`)));
  });
  return { child, url, exit, output: () => out };
}

function infer(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return fetch(`${url}/v2/models/digits/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: [{ name: 'pixels', shape: [1, 64], datatype: 'FP32', data: FEATURES }] }),
  }).then(async (res) => ({ status: res.status, body: (await res.json()) as Record<string, unknown> }));
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function loggedRows(home: string): number {
  const file = readdirSync(home, { recursive: true, encoding: 'utf8' }).find((f) => f.endsWith('monitor.db'));
  assert.ok(file !== undefined && existsSync(join(home, file)), 'the prediction log exists');
  const db = new Database(join(home, file), { readonly: true });
  try {
    return (db.prepare("select count(*) as n from predictions where model = 'digits'").get() as { n: number })
      .n;
  } finally {
    db.close();
  }
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`${signal}: readiness 503, new work refused, queued requests answered, log flushed, exit 0`, async () => {
    const home = tempDir('shutdown');
    const server = await serve(home, 1500);
    const ready = await fetch(`${server.url}/v2/health/ready`);
    assert.equal(ready.status, 200);
    // 12 requests wait in the batcher's queue (1.5 s delay, preferred batch 64) when the signal comes.
    const queued = Array.from({ length: 12 }, () => infer(server.url));
    await pause(300);
    server.child.kill(signal);
    await pause(150);
    const notReady = await fetch(`${server.url}/v2/health/ready`);
    assert.equal(notReady.status, 503);
    assert.match(((await notReady.json()) as { error: string }).error, /shutting down/);
    const refused = await infer(server.url);
    assert.equal(refused.status, 503);
    assert.equal(refused.body['code'], 'TEND_UNAVAILABLE');
    assert.match(String(refused.body['error']), /shutting down/);

    const answers = await Promise.all(queued);
    for (const a of answers) {
      assert.equal(a.status, 200, JSON.stringify(a.body));
      assert.ok((a.body['outputs'] as unknown[]).length >= 1);
    }
    const { code } = await server.exit;
    assert.equal(code, 0, server.output());
    assert.match(server.output(), new RegExp(`${signal}: not ready any more`));
    // Every answered request is in the prediction log: the writer flushed before exit.
    assert.equal(loggedRows(home), 12);
  });
}

test('a second signal stops at once, dropping what is queued (exit 130)', async () => {
  const home = tempDir('shutdown2');
  const server = await serve(home, 20_000);
  const queued = Array.from({ length: 4 }, () => infer(server.url).catch((err: unknown) => err as Error));
  await pause(300);
  server.child.kill('SIGTERM');
  await pause(200);
  server.child.kill('SIGTERM');
  const { code } = await server.exit;
  assert.equal(code, 130, server.output());
  assert.match(server.output(), /SIGTERM again: stopping now/);
  for (const outcome of await Promise.all(queued))
    assert.ok(outcome instanceof Error, 'queued requests were cut off');
});

test('past --shutdown-timeout the server stops anyway with exit 1', async () => {
  const home = tempDir('shutdown3');
  const server = await serve(home, 20_000, ['--shutdown-timeout', '300ms']);
  const queued = Array.from({ length: 2 }, () => infer(server.url).catch((err: unknown) => err as Error));
  await pause(300);
  server.child.kill('SIGTERM');
  const { code } = await server.exit;
  assert.equal(code, 1, server.output());
  await Promise.all(queued);
});
