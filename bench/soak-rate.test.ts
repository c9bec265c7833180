import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rateLimitLua, SCHEDULE_SLACK_MS, SOAK_LOAD, targetRate } from './soak-rate.js';

test('rateLimitLua: one schedule of 1000 / rate ms for the thread, a monotonic clock, never a negative delay', () => {
  const lua = rateLimitLua(8000);
  assert.match(lua, /local tend_soak_interval_ms = 0\.125000000000\n/);
  assert.match(lua, /ffi\.C\.clock_gettime\(1, /, 'CLOCK_MONOTONIC through LuaJIT ffi');
  assert.match(lua, /^function delay\(\)$/m, "wrk's delay() hook, a global function");
  assert.match(lua, /if wait < 1 then return 0 end/, 'wrk reads the answer as an unsigned number');
  assert.ok(lua.includes(`now - ${SCHEDULE_SLACK_MS} then`), 'a long stall restarts the schedule');
  assert.match(rateLimitLua(3), /interval_ms = 333\.333333333\n/);
});

test('rateLimitLua: refuses a rate that is not a positive number', () => {
  for (const bad of [0, -5, Number.NaN, Number.POSITIVE_INFINITY])
    assert.throws(() => rateLimitLua(bad), /positive number of requests per second/);
});

test('targetRate: 80% of the capacity, inside the 75–85% band', () => {
  assert.equal(targetRate(10_000), 8000);
  assert.ok(SOAK_LOAD.low < SOAK_LOAD.share && SOAK_LOAD.share < SOAK_LOAD.high);
  assert.throws(() => targetRate(0), /capacity must be above 0/);
});
