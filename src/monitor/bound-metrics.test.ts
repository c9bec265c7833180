import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Histogram, Registry } from 'prom-client';
import { BoundCounter, BoundHistogram } from './bound-metrics.js';

const BUCKETS = [0.001, 0.01, 0.1, 1];
const VALUES = [0.0005, 0.001, 0.002, 0.01, 0.05, 0.5, 1, 7, 0];

test('a bound histogram renders exactly what prom-client renders for the same observations', async () => {
  const ours = new Registry();
  const theirs = new Registry();
  const mine = new BoundHistogram('t_seconds', 'Some help.', ['model', 'version'], BUCKETS, ours);
  const ref = new Histogram({
    name: 't_seconds',
    help: 'Some help.',
    labelNames: ['model', 'version'],
    buckets: BUCKETS,
    registers: [theirs],
  });
  for (const [model, version] of [
    ['digits', '1'],
    ['a "quoted"\nname', '2'],
  ] as const) {
    const child = mine.labels({ model, version });
    for (const v of VALUES) {
      child.observe(v);
      ref.observe({ model, version }, v);
    }
  }
  assert.equal(await ours.metrics(), await theirs.metrics());
  // As JSON (prom-client leaves `exemplar: undefined` on sums and counts, which JSON drops).
  const json = async (r: Registry): Promise<unknown> =>
    JSON.parse(JSON.stringify(await r.getMetricsAsJSON()));
  assert.deepEqual(await json(ours), await json(theirs));
});

test('a bound counter renders what prom-client renders, and a child is bound once per label set', async () => {
  const ours = new Registry();
  const theirs = new Registry();
  const mine = new BoundCounter('t_total', 'Count.', ['model', 'outcome'], ours);
  const ref = new Counter({
    name: 't_total',
    help: 'Count.',
    labelNames: ['model', 'outcome'],
    registers: [theirs],
  });
  const ok = mine.labels({ model: 'm', outcome: 'success' });
  ok.inc();
  ok.inc(2);
  mine.labels({ outcome: 'success', model: 'm' }).inc(); // same set, other key order: same child
  mine.labels({ model: 'm', outcome: 'failure' }).inc();
  ref.inc({ model: 'm', outcome: 'success' }, 4);
  ref.inc({ model: 'm', outcome: 'failure' });
  assert.equal(await ours.metrics(), await theirs.metrics());
});

test('bound metrics refuse wrong label sets, bad buckets and a second registration of a name', () => {
  const registry = new Registry();
  const h = new BoundHistogram('h_seconds', 'h', ['model'], [1, 2], registry);
  assert.throws(() => h.labels({ model: 'a', version: '1' }), /labels must be exactly model/);
  assert.throws(() => h.labels({}), /labels must be exactly model \(got none\)/);
  assert.throws(() => new BoundHistogram('x', 'x', ['le'], [1], registry), /'le' is reserved/);
  assert.throws(() => new BoundHistogram('y', 'y', [], [1, 1], registry), /distinct finite/);
  assert.throws(() => new BoundHistogram('z', 'z', [], [], registry), /distinct finite/);
  assert.throws(() => new BoundCounter('h_seconds', 'again', [], registry), /already been registered/);
});
