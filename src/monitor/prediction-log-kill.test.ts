import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { openMonitorDb } from './monitor-db.js';
import { tempDbPath } from './prediction-log.test-helper.js';

const CHILD = fileURLToPath(new URL('./prediction-log-kill.test-helper.ts', import.meta.url));

test('committed rows survive kill -9 of the process while it keeps writing', async (t) => {
  const path = tempDbPath(t);
  const flushedRows = 3000;
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, path, String(flushedRows)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('\n')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before flushing: ${output}`)));
  });
  assert.equal(output.trim(), `flushed ${flushedRows}`);
  // Let the child write more batches, so that the kill lands among commits.
  await new Promise((resolve) => setTimeout(resolve, 150));
  child.kill('SIGKILL');
  const [, signal] = await exited;
  assert.equal(signal, 'SIGKILL');

  const db = openMonitorDb(path);
  t.after(() => db.close());
  assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
  const rows = db.prepare('SELECT count(*) FROM predictions').pluck().get() as number;
  assert.ok(rows >= flushedRows, `${rows} rows after the kill, ${flushedRows} were flushed`);
  const firstFlushed = db
    .prepare("SELECT count(*) FROM predictions WHERE request_id IN ('r0', 'r2999')")
    .pluck()
    .get();
  assert.equal(firstFlushed, 2);
  t.diagnostic(`rows present after kill -9: ${rows} (${rows - flushedRows} committed after "flushed")`);
});
