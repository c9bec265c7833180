import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { once } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { isSourceModule, siblingModule, startWorkerFrom, workerExecArgv } from './worker-script.js';
import { tempDir } from './test-support.test-helper.js';

function reply(worker: Worker): Promise<unknown> {
  return once(worker, 'message').then(([message]) => message as unknown);
}

test('siblingModule keeps the caller’s extension: .ts from source, .js from dist', () => {
  assert.equal(
    siblingModule('file:///app/src/runtime/model-worker.ts', 'worker').href,
    'file:///app/src/runtime/worker.ts',
  );
  assert.equal(
    siblingModule('file:///app/dist/runtime/model-worker.js', 'worker').href,
    'file:///app/dist/runtime/worker.js',
  );
  assert.equal(isSourceModule(import.meta.url), true);
  assert.equal(isSourceModule(new URL('file:///app/dist/a.js')), false);
});

test('a TypeScript entry is bundled (with its externals left to node_modules) and runs without tsx', async (t) => {
  const dir = tempDir('worker-script');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // The entry sits outside the project: zod resolves only because it stays external.
  writeFileSync(join(dir, 'helper.ts'), 'export const double = (x: number): number => 2 * x;\n');
  writeFileSync(
    join(dir, 'echo-worker.ts'),
    [
      "import { parentPort, workerData } from 'node:worker_threads';",
      "import { z } from 'zod';",
      "import { double } from './helper.ts';",
      'const n: number = z.number().parse(workerData.n);',
      "parentPort!.postMessage({ doubled: double(n), tsx: process.execArgv.join(' ').includes('tsx') });",
    ].join('\n'),
  );
  const worker = startWorkerFrom(pathToFileURL(join(dir, 'echo-worker.ts')), { workerData: { n: 21 } }, [
    'zod',
  ]);
  // Listen for the exit before the reply: a worker that replies and exits at once may be gone already.
  const exited = once(worker, 'exit');
  assert.deepEqual(await reply(worker), { doubled: 42, tsx: false });
  await exited;
});

test('a JavaScript entry starts as it is', async (t) => {
  const dir = tempDir('worker-script');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'plain.js'),
    "import { parentPort, workerData } from 'node:worker_threads';\nparentPort.postMessage(workerData + 1);\n",
  );
  const worker = startWorkerFrom(pathToFileURL(join(dir, 'plain.js')), { workerData: 1 }, []);
  const exited = once(worker, 'exit');
  assert.equal(await reply(worker), 2);
  await exited;
});

test('a worker thread does not inherit --input-type (a `node --input-type=module -e` host)', () => {
  assert.deepEqual(workerExecArgv(['--input-type=module', '-e', 'x', '--no-warnings']), [
    '-e',
    'x',
    '--no-warnings',
  ]);
  assert.deepEqual(workerExecArgv(['--input-type', 'module', '--max-old-space-size=512']), [
    '--max-old-space-size=512',
  ]);
  assert.deepEqual(workerExecArgv([]), []);
});
