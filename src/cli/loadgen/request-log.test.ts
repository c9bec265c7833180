import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NO_ANSWER, RequestLog, summarizeLatencies } from './request-log.js';

test('the log grows past its first capacity and keeps every entry', () => {
  const log = new RequestLog();
  for (let i = 0; i < 10_000; i++) log.record(i, i % 100, i % 10 === 0 ? '503' : '200', i % 10 !== 0);
  assert.equal(log.length, 10_000);
  assert.deepEqual(log.entry(9999), { sendMs: 9999, latencyMs: 99, status: '200', ok: true });
  assert.equal(log.sendTimes().length, 10_000);
  assert.equal(log.succeeded(), 9000);
  assert.deepEqual(log.errorsByStatus(), { '503': 1000 });
  // Percentiles over the successful ones only (latencies 1..99 without the multiples of 10).
  assert.equal(log.latencySummary().max, 99);
});

test('an entry begun and never finished counts as unanswered', () => {
  const log = new RequestLog();
  const i = log.begin(5);
  log.begin(6);
  log.finish(i, 3, 'OK', true);
  assert.deepEqual(log.entry(1), { sendMs: 6, latencyMs: Number.NaN, status: NO_ANSWER, ok: false });
  assert.deepEqual(log.errorsByStatus(), { [NO_ANSWER]: 1 });
  assert.deepEqual(log.latencySummary(), { p50: 3, p90: 3, p95: 3, p99: 3, mean: 3, max: 3 });
});

test('summarizeLatencies uses nearest-rank percentiles and is all zero when empty', () => {
  const values = Array.from({ length: 100 }, (_, i) => 100 - i);
  assert.deepEqual(summarizeLatencies(values), { p50: 50, p90: 90, p95: 95, p99: 99, mean: 50.5, max: 100 });
  assert.deepEqual(summarizeLatencies([]), { p50: 0, p90: 0, p95: 0, p99: 0, mean: 0, max: 0 });
});
