/**
 * The faults process isolation exists for (abort, hang, memory growth), and what the same faults
 * do to thread isolation. The whole-process cases run a stand-in server (isolation-faults.test-helper.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { silentLogger, type Logger } from '../core/logger.js';
import { injectFault } from './fault-injection.js';
import { Runtime, crashWorkerForTest, liveProcessIds, type LoadedModel } from './index.js';
import { digits, eventually, pixels, processExists, runWhenReady } from './runtime-fixtures.test-helper.js';
import { hasCode } from '../core/test-support.test-helper.js';

process.env.TEND_FAULT_INJECTION = '1';

const HELPER = fileURLToPath(new URL('./isolation-faults.test-helper.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** Run batches on every model back to back until `until` settles; any failed run fails the test. */
async function keepServing(models: LoadedModel[], until: Promise<unknown>): Promise<number> {
  let done = false;
  void until.then(
    () => (done = true),
    () => (done = true),
  );
  let served = 0;
  await Promise.all(
    models.map(async (model) => {
      while (!done) {
        assert.deepEqual((await model.run(pixels())).outputs[0]!.shape, [2, 10]);
        served += 1;
      }
    }),
  );
  return served;
}

function warningsLogger(): { logger: Logger; warnings: string[] } {
  const warnings: string[] = [];
  const logger = {
    ...silentLogger,
    child: () => logger,
    warn: (obj: unknown, msg?: string) => warnings.push(`${msg ?? ''} ${JSON.stringify(obj)}`),
  } as unknown as Logger;
  return { logger, warnings };
}

test('abort in a process instance fails only its in-flight run; other models (process and thread) never fail; it comes back', async () => {
  const runtime = new Runtime();
  try {
    const faulty = await runtime.load(digits('faulty:1', [{ count: 1, isolation: 'process' }]));
    const isolated = await runtime.load(digits('neighbour-process:1', [{ count: 1, isolation: 'process' }]));
    const threaded = await runtime.load(digits('neighbour-thread:1'));
    const recovered = (async () => {
      crashWorkerForTest(faulty, 'abort');
      await assert.rejects(
        faulty.run(pixels()),
        hasCode(
          'TEND_WORKER_FAILED',
          /^model 'faulty:1' instance 0 \(process \d+\) died from signal SIGABRT; request failed$/,
        ),
      );
      return runWhenReady(faulty, pixels);
    })();
    const served = await keepServing([isolated, threaded], recovered);
    assert.deepEqual((await recovered).outputs[0]!.shape, [2, 10]);
    assert.ok(served > 0);
  } finally {
    await runtime.close();
  }
  assert.deepEqual(liveProcessIds(), []);
});

test('a hung process instance is killed at hang_timeout_ms with a clear error, and recovers; its neighbour never fails', async () => {
  const { logger, warnings } = warningsLogger();
  const runtime = new Runtime({ logger });
  try {
    const hung = await runtime.load(
      digits('hung:1', [{ count: 1, isolation: 'process', hangTimeoutMs: 500 }]),
    );
    const neighbour = await runtime.load(digits('neighbour:1', [{ count: 1, isolation: 'process' }]));
    const recovered = (async () => {
      crashWorkerForTest(hung, 'hang');
      await assert.rejects(
        hung.run(pixels()),
        hasCode(
          'TEND_WORKER_FAILED',
          /^model 'hung:1' instance 0 was killed: one batch ran longer than 500 ms \(hang_timeout_ms\); request failed$/,
        ),
      );
      return runWhenReady(hung, pixels);
    })();
    await keepServing([neighbour], recovered);
    assert.deepEqual((await recovered).outputs[0]!.shape, [2, 10]);
    assert.ok(
      warnings.some((w) => w.includes('hang_timeout_ms')),
      warnings.join('\n'),
    );
  } finally {
    await runtime.close();
  }
});

test('unloading a hung process instance ends it at the hang deadline, failing what was queued', async () => {
  const runtime = new Runtime();
  const idle = await runtime.load(
    digits('idle-hung:1', [{ count: 1, isolation: 'process', hangTimeoutMs: 300 }]),
  );
  const busy = await runtime.load(
    digits('busy-hung:1', [{ count: 1, isolation: 'process', hangTimeoutMs: 300 }]),
  );
  const pids = liveProcessIds();
  crashWorkerForTest(idle, 'hang');
  crashWorkerForTest(busy, 'hang');
  const queued = assert.rejects(
    busy.run(pixels()),
    hasCode('TEND_WORKER_FAILED', /was killed: one batch ran longer than 300 ms/),
  );
  await Promise.all([idle.unload(), busy.unload(), queued]);
  assert.deepEqual(pids.filter(processExists), []);
  await runtime.close();
});

test('a process instance over memory_limit_mb is killed with a clear error and a warning, and recovers', async () => {
  const { logger, warnings } = warningsLogger();
  const runtime = new Runtime({ logger });
  try {
    const model = await runtime.load(
      digits('greedy:1', [{ count: 1, isolation: 'process', memoryLimitMb: 250 }]),
    );
    crashWorkerForTest(model, 'grow');
    // Back to back, a batch is always in flight when the watchdog strikes.
    let failure: unknown;
    while (failure === undefined) await model.run(pixels()).catch((err: unknown) => (failure = err));
    assert.ok(
      hasCode(
        'TEND_WORKER_FAILED',
        /^model 'greedy:1' instance 0 was killed: resident memory \d+ MB passed memory_limit_mb 250; request failed$/,
      )(failure),
    );
    assert.ok(
      warnings.some((w) => /resident memory \d+ MB passed memory_limit_mb 250/.test(w)),
      warnings.join('\n'),
    );
    assert.deepEqual((await runWhenReady(model, pixels)).outputs[0]!.shape, [2, 10]);
  } finally {
    await runtime.close();
  }
});

test('a session that does not fit memory_limit_mb fails its load clearly, leaving no process', async () => {
  const runtime = new Runtime();
  await assert.rejects(
    runtime.load(digits('tiny:1', [{ count: 1, isolation: 'process', memoryLimitMb: 1 }])),
    hasCode(
      'TEND_MODEL_LOAD_FAILED',
      /^failed to load model 'tiny:1': instance 0 was killed: resident memory \d+ MB passed memory_limit_mb 1$/,
    ),
  );
  assert.deepEqual(liveProcessIds(), []);
  await runtime.close();
});

test('thread isolation: a hung worker is never cut short (no deadline); other models serve; only terminate ends it', async () => {
  const runtime = new Runtime();
  try {
    const hung = await runtime.load(digits('thread-hung:1'));
    const neighbour = await runtime.load(digits('neighbour:1'));
    crashWorkerForTest(hung, 'hang');
    let settled = false;
    const stuck = hung.run(pixels()).finally(() => (settled = true));
    stuck.catch(() => undefined);
    for (let i = 0; i < 50; i++) await neighbour.run(pixels());
    assert.equal(settled, false, 'the batch sent to the hung thread is still waiting');
    // terminate() can stop JavaScript spinning; a thread stuck inside native session.run would not stop.
    crashWorkerForTest(hung, 'terminate');
    await assert.rejects(stuck, hasCode('TEND_WORKER_FAILED', /^worker for thread-hung:1 exited/));
    assert.deepEqual((await runWhenReady(hung, pixels)).outputs[0]!.shape, [2, 10]);
  } finally {
    await runtime.close();
  }
});

interface Stand {
  pids: number[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill: () => void;
}

/** A stand-in that has not died by then has failed its scenario: it is killed so the test ends. */
const STAND_IN_LIMIT_MS = 60_000;

/** Start the stand-in server for `scenario`; resolves once it has printed its children's pids. */
function startStandIn(scenario: string): Promise<Stand> {
  const child = spawn(process.execPath, ['--import', 'tsx', HELPER, scenario], {
    cwd: REPO,
    env: { ...process.env, TEND_FAULT_INJECTION: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const limit = setTimeout(() => child.kill('SIGKILL'), STAND_IN_LIMIT_MS);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      clearTimeout(limit);
      resolve({ code, signal });
    }),
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n')[0];
      if (stdout.includes('\n') && line !== undefined) {
        const { pids } = JSON.parse(line) as { pids: number[] };
        resolve({ pids, exited, kill: () => child.kill('SIGKILL') });
      }
    });
    void exited.then(({ code, signal }) =>
      reject(new Error(`stand-in exited early (${code ?? signal}): ${stderr}`)),
    );
  });
}

test("thread isolation: abort in one model's worker kills the whole server process (SIGABRT); its model children exit too", async () => {
  const stand = await startStandIn('thread-abort');
  const { signal } = await stand.exited;
  assert.equal(signal, 'SIGABRT');
  assert.equal(stand.pids.length, 1);
  assert.ok(
    await eventually(() => !stand.pids.some(processExists)),
    `child ${stand.pids.join()} outlived its parent`,
  );
});

/** CPU time a process has used, in clock ticks (utime + stime from /proc). */
function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
    .replace(/^.*\) /, '')
    .split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

test(
  'a hung child whose server was killed -9 kills itself (orphan watchdog)',
  { skip: process.platform !== 'linux' },
  async () => {
    const stand = await startStandIn('process-hang');
    const pid = stand.pids[0]!;
    try {
      const before = cpuTicks(pid);
      assert.ok(await eventually(() => cpuTicks(pid) - before >= 20), 'the child is spinning');
      stand.kill();
      await stand.exited;
      assert.ok(await eventually(() => !processExists(pid)), `hung child ${pid} outlived its parent`);
    } finally {
      if (processExists(pid)) process.kill(pid, 'SIGKILL');
    }
  },
);

test('fault injection is refused without TEND_FAULT_INJECTION=1, in the server and in the children', async () => {
  const runtime = new Runtime();
  const saved = process.env.TEND_FAULT_INJECTION;
  try {
    delete process.env.TEND_FAULT_INJECTION;
    assert.equal(injectFault('exit'), false, 'the host ignores the request (this process is still here)');
    const model = await runtime.load(digits('safe:1', [{ count: 1, isolation: 'process' }]));
    assert.throws(
      () => crashWorkerForTest(model, 'abort'),
      hasCode('TEND_FORBIDDEN', /TEND_FAULT_INJECTION=1/),
    );
    // The child started without the variable: a crash message that gets through is ignored there.
    process.env.TEND_FAULT_INJECTION = '1';
    const pids = liveProcessIds();
    crashWorkerForTest(model, 'exit');
    assert.deepEqual((await model.run(pixels())).outputs[0]!.shape, [2, 10]);
    assert.deepEqual(liveProcessIds(), pids);
  } finally {
    process.env.TEND_FAULT_INJECTION = saved;
    await runtime.close();
  }
});
