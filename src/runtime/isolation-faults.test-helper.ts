/**
 * A stand-in server for the fault tests that must take a whole process down (run with
 * `node --import tsx`, TEND_FAULT_INJECTION=1). It loads models, prints one JSON line with the
 * process ids of its model children, injects the fault named by argv[2], and then idles.
 *   thread-abort: a thread model aborts (the whole process dies with SIGABRT); a process model is loaded too.
 *   process-hang: a process model hangs with a deadline far away, so only the orphan watchdog can end it.
 */
import { Runtime, crashWorkerForTest, liveProcessIds } from './index.js';
import { digits } from './runtime-fixtures.test-helper.js';

const scenario = process.argv[2];
const runtime = new Runtime();
const child = await runtime.load(
  digits('child:1', [{ count: 1, isolation: 'process', hangTimeoutMs: 600_000 }]),
);
process.stdout.write(`${JSON.stringify({ pids: liveProcessIds() })}\n`);
setInterval(() => undefined, 1000);

if (scenario === 'thread-abort') {
  const threaded = await runtime.load(digits('threaded:1'));
  crashWorkerForTest(threaded, 'abort');
} else if (scenario === 'process-hang') {
  crashWorkerForTest(child, 'hang');
} else {
  process.stderr.write(`unknown scenario '${scenario}'\n`);
  process.exit(2);
}
