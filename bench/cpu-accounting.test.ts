import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { measureUndisturbed, processCpuSeconds, startCpuAccounting } from './cpu-accounting.js';

const linux = process.platform === 'linux';

test('processCpuSeconds reads a live process and is null for a missing one', () => {
  const own = processCpuSeconds(process.pid);
  if (linux) assert.ok(own !== null && own > 0);
  assert.equal(processCpuSeconds(2 ** 30), null);
});

test('startCpuAccounting counts a finished child as the client', { skip: !linux }, () => {
  const stop = startCpuAccounting(process.pid);
  // A child that spins until it has used 0.3 s of CPU (however long a busy machine makes that take),
  // then is reaped: the accounting must find at least that much client CPU time.
  spawnSync(process.execPath, [
    '-e',
    'const u = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1e6; }; while (u() < 0.3);',
  ]);
  const shares = stop();
  assert.ok(shares !== null);
  const clientSeconds = shares.clientCores * shares.wallSeconds;
  assert.ok(clientSeconds >= 0.29, `client CPU ${clientSeconds.toFixed(3)} s`);
  assert.ok(shares.otherCores >= 0);
  assert.ok(shares.wallSeconds >= 0.3);
});

test('measureUndisturbed repeats a disturbed run up to its attempts and says so', async () => {
  const lines: string[] = [];
  let calls = 0;
  const always = await measureUndisturbed(
    'x',
    { serverPid: process.pid, otherCoresLimit: -1, maxAttempts: 3, log: (l) => lines.push(l) },
    async () => ++calls,
  );
  if (linux) {
    assert.deepEqual([always.value, always.attempts, always.disturbed, calls], [3, 3, true, 3]);
    assert.equal(lines.length, 2);
    assert.match(lines[0] ?? '', /x: other processes used .* cores meanwhile — measuring again/);
  }
  const never = await measureUndisturbed(
    'y',
    { serverPid: process.pid, otherCoresLimit: Infinity, maxAttempts: 3, log: (l) => lines.push(l) },
    async () => 'ok',
  );
  assert.deepEqual([never.value, never.attempts, never.disturbed], ['ok', 1, false]);
});
