import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AlertsConfigSchema, compileAlertRules, type CompiledAlertRule } from '../core/alert-rules.js';
import { MemoryAlertEventStore, type AlertEvent } from './alert-store.js';
import { AlertEvaluator, type AlertSeriesValue, type AlertState } from './alerts.js';

const T0 = Date.parse('2025-01-01T00:00:00.000Z');

function rules(...specs: Record<string, unknown>[]): CompiledAlertRule[] {
  const webhooks = [{ name: 'ops', url: 'http://127.0.0.1:1/hook' }];
  return compileAlertRules(AlertsConfigSchema.parse({ rules: specs, webhooks }));
}

const accuracyRule = (over: Record<string, unknown> = {}) => ({
  name: 'acc',
  model: 'digits',
  metric: 'accuracy',
  window: '1h',
  op: '<',
  threshold: 0.9,
  min_samples: 10,
  ...over,
});

/** An evaluator over values the test sets per rule, a clock the test moves, and everything it emits recorded. */
function harness(compiled: CompiledAlertRule[], options: { store?: MemoryAlertEventStore } = {}) {
  let now = T0;
  const values = new Map<string, AlertSeriesValue[] | Error>();
  const sent: { event: AlertEvent; webhooks: readonly string[] }[] = [];
  const gauge = new Map<string, AlertState>();
  const store = options.store ?? new MemoryAlertEventStore();
  const evaluator = new AlertEvaluator({
    rules: compiled,
    clock: () => now,
    store,
    source: (rule) => {
      const v = values.get(rule.name) ?? [];
      if (v instanceof Error) throw v;
      return v;
    },
    sink: { notify: (event, webhooks) => sent.push({ event, webhooks }) },
    metrics: { setAlert: (rule, state) => gauge.set(rule, state) },
  });
  return {
    evaluator,
    store,
    sent,
    gauge,
    set(rule: string, v: AlertSeriesValue[] | Error) {
      values.set(rule, v);
    },
    advance(ms: number) {
      now += ms;
    },
    step: async (ms = 0) => {
      now += ms;
      return evaluator.evaluate();
    },
  };
}

const series = (value: number | null, samples = 100, version = '1', model = 'digits'): AlertSeriesValue => ({
  model,
  version,
  value,
  samples,
});

test('for 0s: fires on the first evaluation that sees the condition, resolves when it clears', async () => {
  const h = harness(rules(accuracyRule()));
  h.set('acc', [series(0.95)]);
  assert.deepEqual(await h.step(), []);
  assert.equal(h.gauge.get('acc'), 'inactive');
  h.set('acc', [series(0.8, 40)]);
  const [fired, ...rest] = await h.step(1000);
  assert.equal(rest.length, 0);
  assert.deepEqual(fired, {
    rule: 'acc',
    model: 'digits',
    version: '1',
    metric: 'accuracy',
    state: 'firing',
    value: 0.8,
    op: '<',
    threshold: 0.9,
    samples: 40,
    severity: 'warning',
    started_at: '2025-01-01T00:00:01.000Z',
    at: '2025-01-01T00:00:01.000Z',
    message: 'acc: accuracy of digits version 1 is 0.8000 (< 0.9 over 1h, 40 samples)',
  });
  assert.equal(h.gauge.get('acc'), 'firing');
  assert.equal(h.evaluator.active()[0]?.state, 'firing');
  assert.deepEqual(await h.step(1000), [], 'still firing: no new event');
  h.set('acc', [series(0.93)]);
  const [resolved] = await h.step(1000);
  assert.equal(resolved?.state, 'resolved');
  assert.equal(resolved?.value, 0.93);
  assert.equal(resolved?.started_at, '2025-01-01T00:00:01.000Z');
  assert.equal(resolved?.at, '2025-01-01T00:00:03.000Z');
  assert.match(
    resolved?.message ?? '',
    /resolved, accuracy of digits version 1 is 0\.9300 \(no longer < 0\.9/,
  );
  assert.deepEqual(h.evaluator.active(), []);
  assert.equal(h.gauge.get('acc'), 'inactive');
  assert.deepEqual(
    h.store.list().map((e) => e.state),
    ['resolved', 'firing'],
  );
  assert.deepEqual(
    h.sent.map((s) => [s.event.state, s.webhooks]),
    [
      ['firing', ['ops']],
      ['resolved', ['ops']],
    ],
  );
});

test('for 5m: pending until the condition held 5 minutes; a break in between starts over without an event', async () => {
  const h = harness(rules(accuracyRule({ for: '5m' })));
  h.set('acc', [series(0.5)]);
  assert.deepEqual(await h.step(), []);
  assert.equal(h.gauge.get('acc'), 'pending');
  const [pending] = h.evaluator.active();
  assert.equal(pending?.state, 'pending');
  assert.equal(pending?.fired_at, null);
  assert.deepEqual(await h.step(299_999), [], 'not yet 5 minutes');
  h.set('acc', [series(0.95)]);
  assert.deepEqual(await h.step(1), [], 'cleared while pending: back to inactive, no event');
  assert.equal(h.gauge.get('acc'), 'inactive');
  h.set('acc', [series(0.5)]);
  await h.step(1000);
  assert.deepEqual(await h.step(200_000), []);
  const [fired] = await h.step(100_000);
  assert.equal(fired?.state, 'firing');
  assert.equal(
    fired?.started_at,
    new Date(T0 + 301_000).toISOString(),
    'started when the condition began to hold again',
  );
  assert.equal(fired?.at, new Date(T0 + 601_000).toISOString());
  assert.equal(h.evaluator.active()[0]?.fired_at, fired?.at);
});

test('min_samples: too few samples never fire, and do not resolve a firing alert', async () => {
  const h = harness(rules(accuracyRule({ min_samples: 100 })));
  h.set('acc', [series(0.1, 99)]);
  assert.deepEqual(await h.step(), [], '99 samples: no data');
  assert.deepEqual(h.evaluator.active(), []);
  h.set('acc', [series(0.1, 100)]);
  assert.equal((await h.step(1000))[0]?.state, 'firing');
  h.set('acc', [series(0.99, 5)]);
  assert.deepEqual(await h.step(1000), [], 'good value on 5 samples: not enough to resolve');
  h.set('acc', [series(null, 500)]);
  assert.deepEqual(await h.step(1000), [], 'no value: held');
  const [held] = h.evaluator.active();
  assert.equal(held?.state, 'firing');
  assert.equal(held?.value, 0.1, 'the last value that held');
  h.set('acc', [series(0.99, 100)]);
  assert.equal((await h.step(1000))[0]?.state, 'resolved');
});

test('no data while pending drops back to inactive', async () => {
  const h = harness(rules(accuracyRule({ for: '1m' })));
  h.set('acc', [series(0.1)]);
  await h.step();
  assert.equal(h.gauge.get('acc'), 'pending');
  h.set('acc', [series(0.1, 1)]);
  assert.deepEqual(await h.step(1000), []);
  assert.equal(h.gauge.get('acc'), 'inactive');
});

test('several series of one rule have their own states; a series that disappears resolves with value null', async () => {
  const h = harness(rules(accuracyRule({ model: '*', for: '10s' })));
  h.set('acc', [series(0.5, 100, '1'), series(0.95, 100, '2'), series(0.5, 100, '1', 'iris')]);
  await h.step();
  h.set('acc', [series(0.5, 100, '1'), series(0.6, 100, '2'), series(0.5, 100, '1', 'iris')]);
  const fired = await h.step(10_000);
  assert.deepEqual(fired.map((e) => `${e.model}/${e.version}`).sort(), ['digits/1', 'iris/1']);
  assert.deepEqual(
    h.evaluator.active().map((a) => [a.model, a.version, a.state]),
    [
      ['digits', '1', 'firing'],
      ['iris', '1', 'firing'],
      ['digits', '2', 'pending'],
    ],
  );
  h.set('acc', [series(0.6, 100, '2'), series(0.5, 100, '1', 'iris')]);
  const gone = await h.step(1000);
  assert.equal(gone.length, 1);
  assert.equal(gone[0]?.model, 'digits');
  assert.equal(gone[0]?.version, '1');
  assert.equal(gone[0]?.state, 'resolved');
  assert.equal(gone[0]?.value, null);
  assert.match(gone[0]?.message ?? '', /no longer reported/);
  assert.equal(h.gauge.get('acc'), 'firing', 'the rule shows its most severe series');
});

test('several rules: each evaluated on its own, a throwing source leaves its alerts as they were', async () => {
  const h = harness(
    rules(accuracyRule(), {
      name: 'errors',
      model: 'digits',
      metric: 'error_rate',
      window: '5m',
      op: '>',
      threshold: 0.05,
      min_samples: 0,
      severity: 'critical',
      webhooks: [],
    }),
  );
  h.set('acc', [series(0.5)]);
  h.set('errors', [series(0.5, 3)]);
  const events = await h.step();
  assert.deepEqual(
    events.map((e) => [e.rule, e.severity]),
    [
      ['acc', 'warning'],
      ['errors', 'critical'],
    ],
  );
  assert.deepEqual(
    h.sent.map((s) => s.event.rule),
    ['acc'],
    'a rule with webhooks: [] notifies nobody',
  );
  h.set('acc', new Error('database is locked'));
  h.set('errors', [series(0, 10)]);
  const next = await h.step(1000);
  assert.deepEqual(
    next.map((e) => [e.rule, e.state]),
    [['errors', 'resolved']],
  );
  assert.equal(h.gauge.get('acc'), 'firing');
});

test('a restart restores firing alerts from the store: no second firing event, and the resolution still comes', async () => {
  const store = new MemoryAlertEventStore();
  const first = harness(rules(accuracyRule()), { store });
  first.set('acc', [series(0.5)]);
  await first.step();
  const second = harness(rules(accuracyRule()), { store });
  assert.equal(second.gauge.get('acc'), 'firing');
  second.set('acc', [series(0.5)]);
  assert.deepEqual(await second.step(1000), []);
  second.set('acc', [series(0.99)]);
  const [resolved] = await second.step(1000);
  assert.equal(resolved?.state, 'resolved');
  assert.equal(resolved?.started_at, new Date(T0).toISOString());
  const third = harness(rules(accuracyRule({ name: 'renamed' })), { store });
  assert.deepEqual(third.evaluator.active(), [], 'events of rules that no longer exist are not restored');
});

test('start/stop evaluates on a timer; concurrent evaluate calls never overlap', async () => {
  let calls = 0;
  let inside = 0;
  let overlapped = false;
  const evaluator = new AlertEvaluator({
    rules: rules(accuracyRule()),
    source: async () => {
      calls++;
      inside++;
      if (inside > 1) overlapped = true;
      await new Promise((r) => setTimeout(r, 5));
      inside--;
      return [];
    },
  });
  await Promise.all([evaluator.evaluate(), evaluator.evaluate(), evaluator.evaluate()]);
  assert.equal(calls, 3);
  assert.equal(overlapped, false);
  evaluator.start(10);
  while (calls < 5) await new Promise((r) => setTimeout(r, 5));
  await evaluator.stop();
  const after = calls;
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(calls, after, 'no evaluation after stop');
});
