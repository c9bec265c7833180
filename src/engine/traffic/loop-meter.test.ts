import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoopMeter } from './loop-meter.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('the loop meter reads a busy main thread as busy and an idle one as idle', async () => {
  const meter = new LoopMeter(50);
  assert.equal(meter.share(), 0); // nothing measured yet
  // Busy: spin 200 ms in slices, letting the sampling timer fire in between.
  for (let i = 0; i < 8; i++) {
    const until = performance.now() + 25;
    while (performance.now() < until) {
      /* spin */
    }
    await new Promise((r) => setImmediate(r));
  }
  assert.ok(meter.share() > 0.7, `busy share ${meter.share()}`);
  await sleep(200);
  assert.ok(meter.share() < 0.3, `idle share ${meter.share()}`);
  meter.stop();
  assert.equal(meter.share(), 0);
  meter.stop();
  assert.throws(() => new LoopMeter(0), /above 0 ms/);
});
