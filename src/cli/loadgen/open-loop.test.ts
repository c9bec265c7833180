import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TendError } from '../../core/errors.js';
import { fakeSender } from './fake-sender.test-helper.js';
import { sendRate } from './level-summary.js';
import { runOpenLoop } from './open-loop.js';

function rateOf(sendTimes: Float64Array): number {
  return sendRate(sendTimes);
}

test('the open loop sends on schedule at 2000 req/s whether answers take 1 ms or 300 ms', async () => {
  const rates: number[] = [];
  for (const delayMs of [1, 300]) {
    const sender = fakeSender(delayMs);
    const result = await runOpenLoop(sender, { ratePerSecond: 2000, durationMs: 1500, warmupMs: 200 });
    const sends = result.log.sendTimes();
    // Exactly the requests due in the window are logged: 1.5 s × 2000/s.
    assert.equal(result.log.length, 3000);
    assert.equal(result.droppedAtCap, 0);
    assert.equal(result.durationSeconds, 1.5);
    const rate = rateOf(sends);
    assert.ok(Math.abs(rate / 2000 - 1) <= 0.02, `send rate ${rate.toFixed(1)}/s with ${delayMs} ms answers`);
    // Every one answered, each no sooner than the sender's delay.
    assert.equal(result.log.succeeded(), 3000);
    assert.ok(result.log.latencySummary().p50 >= delayMs);
    rates.push(rate);
    if (delayMs === 300) {
      // Slow answers pile up in flight (about rate × delay) instead of slowing the sends.
      assert.ok(result.peakInFlight >= 400, `peak in flight ${result.peakInFlight}`);
    }
  }
  assert.ok(Math.abs((rates[1] as number) / (rates[0] as number) - 1) <= 0.02, `rates ${rates.join(', ')}`);
});

test('warm-up requests are sent but not logged; send times count from the start of the run', async () => {
  const sender = fakeSender(1);
  const result = await runOpenLoop(sender, { ratePerSecond: 500, durationMs: 200, warmupMs: 100 });
  assert.equal(result.log.length, 100);
  assert.equal(sender.sent, 150);
  const first = result.log.entry(0).sendMs;
  assert.ok(first >= 100, `first measured send at ${first} ms`);
});

test('the in-flight cap drops due requests instead of delaying the schedule, and says so', async () => {
  const sender = fakeSender(Infinity); // a server that never answers
  const result = await runOpenLoop(sender, {
    ratePerSecond: 1000,
    durationMs: 200,
    maxInFlight: 50,
    drainGraceMs: 100,
  });
  assert.equal(result.peakInFlight, 50);
  assert.equal(result.maxInFlight, 50);
  assert.equal(result.log.length, 50);
  assert.equal(result.droppedAtCap, 150);
  assert.deepEqual(result.log.errorsByStatus(), { 'no answer': 50 });
  assert.match(result.errorSamples[0] ?? '', /^50 requests unanswered 0.1 s after the last send/);
  assert.ok(sender.closed, 'the connections of a server that does not answer are closed');
});

test('failures are counted by status with a few samples', async () => {
  const sender = fakeSender(1, (i) =>
    i % 4 === 0
      ? { status: 'UNAVAILABLE', ok: false, detail: 'UNAVAILABLE: queue full' }
      : { status: 'OK', ok: true },
  );
  const result = await runOpenLoop(sender, { ratePerSecond: 400, durationMs: 100 });
  assert.equal(result.log.length, 40);
  assert.deepEqual(result.log.errorsByStatus(), { UNAVAILABLE: 10 });
  assert.equal(result.log.succeeded(), 30);
  assert.ok(result.errorSamples.length > 0 && result.errorSamples.length <= 5);
  assert.equal(result.errorSamples[0], 'UNAVAILABLE: queue full');
});

test('an abort stops the schedule; the window is what was due until then', async () => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 100);
  const result = await runOpenLoop(fakeSender(1), {
    ratePerSecond: 1000,
    durationMs: 10_000,
    signal: controller.signal,
  });
  assert.ok(result.log.length > 0 && result.log.length < 10_000);
  assert.equal(result.durationSeconds, result.log.length / 1000);
});

test('runOpenLoop rejects bad options', async () => {
  const bad = async (options: Parameters<typeof runOpenLoop>[1]) =>
    assert.rejects(runOpenLoop(fakeSender(1), options), (err: unknown) => {
      return err instanceof TendError && err.code === 'TEND_INVALID_ARGUMENT';
    });
  await bad({ ratePerSecond: 0, durationMs: 100 });
  await bad({ ratePerSecond: -5, durationMs: 100 });
  await bad({ ratePerSecond: Number.NaN, durationMs: 100 });
  await bad({ ratePerSecond: 10, durationMs: 0 });
  await bad({ ratePerSecond: 10, durationMs: 100, warmupMs: -1 });
  await bad({ ratePerSecond: 10, durationMs: 100, maxInFlight: 0 });
  await bad({ ratePerSecond: 10, durationMs: 100, maxInFlight: 2.5 });
});
