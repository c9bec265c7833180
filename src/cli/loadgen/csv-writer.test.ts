import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TendError } from '../../core/errors.js';
import { CSV_HEADER, RequestCsvWriter } from './csv-writer.js';
import { RequestLog } from './request-log.js';

test('one row per request: level, send time, latency (empty when unanswered), status', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tend-csv-'));
  try {
    const path = join(dir, 'out.csv');
    const writer = await RequestCsvWriter.open(path);
    const closed = new RequestLog();
    closed.record(1.5, 2.25, '200', true);
    closed.record(2, 30, '503', false);
    await writer.writeLevel({ concurrency: 8 }, closed);
    const open = new RequestLog();
    open.record(0.5, 1, 'OK', true);
    open.begin(1); // never answered
    open.record(1.5, 4, 'odd, "status"', false);
    await writer.writeLevel({ requestRate: 2000 }, open);
    await writer.close();
    assert.deepEqual(readFileSync(path, 'utf8').split('\n'), [
      CSV_HEADER,
      '8,,1.500,2.250,200',
      '8,,2.000,30.000,503',
      ',2000,0.500,1.000,OK',
      ',2000,1.000,,no answer',
      ',2000,1.500,4.000,"odd, ""status"""',
      '',
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a CSV path that cannot be written is a clear --csv error', async () => {
  await assert.rejects(
    RequestCsvWriter.open(join(tmpdir(), 'no-such-dir-tend', 'out.csv')),
    (err: unknown) =>
      err instanceof TendError && err.code === 'TEND_INVALID_ARGUMENT' && /^--csv '/.test(err.message),
  );
});
