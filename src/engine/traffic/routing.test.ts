import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TendError } from '../../core/errors.js';
import type { ResolvedRoutes } from '../../core/deployment.js';
import { chooseRoute, routingKey, shadowTarget, unitHash } from './routing.js';

/** mulberry32: a small seeded generator, so the "random" ids are the same on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomIds(count: number, seed: number): string[] {
  const next = seeded(seed);
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(next() * 16).toString(16)).join('');
  // UUID-shaped, like the ids the engine makes when a request brings none.
  return Array.from({ length: count }, () => `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`);
}

function shares(routes: ResolvedRoutes, keys: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const key of keys) {
    const c = chooseRoute(routes, key);
    const label = c.route === 'experiment' ? `experiment:${c.variant}` : c.route;
    counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  return new Map([...counts].map(([label, n]) => [label, (100 * n) / keys.length]));
}

const IDS = randomIds(10_000, 42);
const SEQUENTIAL = Array.from({ length: 10_000 }, (_, i) => `req-${i}`);

test('unitHash is deterministic, in [0, 1) and spread evenly', () => {
  assert.equal(unitHash('abc'), unitHash('abc'));
  assert.notEqual(unitHash('abc'), unitHash('abd'));
  assert.notEqual(unitHash('abc', 1), unitHash('abc'));
  const buckets = new Array<number>(10).fill(0);
  for (const key of SEQUENTIAL) {
    const u = unitHash(key);
    assert.ok(u >= 0 && u < 1);
    buckets[Math.floor(u * 10)]! += 1;
  }
  for (const n of buckets) assert.ok(Math.abs(n - 1000) < 100, `bucket ${n} of 10 000`);
  assert.ok(unitHash('') >= 0 && unitHash('') < 1);
  assert.ok(unitHash('ünïcødé ✓') < 1);
});

test('a 10% canary gets 10% ± 1 point of 10 000 random ids, and of sequential ids', () => {
  const routes: ResolvedRoutes = { champion: 1, canary: { version: 2, percent: 10 } };
  for (const keys of [IDS, SEQUENTIAL, randomIds(10_000, 7)]) {
    const canary = shares(routes, keys).get('canary') ?? 0;
    assert.ok(Math.abs(canary - 10) <= 1, `canary share ${canary}%`);
  }
  assert.deepEqual(chooseRoute(routes, 'x'), chooseRoute(routes, 'x'));
  const picked = chooseRoute(routes, IDS[0]!);
  assert.equal(picked.version, picked.route === 'canary' ? 2 : 1);
});

test('canary at 0% and 100%', () => {
  const at = (percent: number): ResolvedRoutes => ({ champion: 1, canary: { version: 2, percent } });
  for (const key of IDS.slice(0, 2000)) {
    assert.deepEqual(chooseRoute(at(0), key), { version: 1, route: 'champion' });
    assert.deepEqual(chooseRoute(at(100), key), { version: 2, route: 'canary' });
  }
});

test('raising the percent keeps the keys already in the canary', () => {
  const inCanary = (percent: number) =>
    new Set(
      IDS.filter((k) => chooseRoute({ champion: 1, canary: { version: 2, percent } }, k).route === 'canary'),
    );
  const five = inCanary(5);
  const twenty = inCanary(20);
  for (const key of five) assert.ok(twenty.has(key));
  assert.ok(twenty.size > five.size);
});

test('experiment shares follow the weights within ± 1.5 points; weight 0 is never chosen', () => {
  const routes: ResolvedRoutes = {
    champion: 1,
    experiment: {
      variants: [
        { version: 1, weight: 1 },
        { version: 2, weight: 0 },
        { version: 3, weight: 2 },
        { version: 4, weight: 1 },
      ],
    },
  };
  for (const keys of [IDS, SEQUENTIAL]) {
    const s = shares(routes, keys);
    assert.equal(s.get('experiment:1'), undefined, 'weight 0 was chosen');
    assert.equal(s.get('champion'), undefined);
    for (const [label, expected] of [
      ['experiment:0', 25],
      ['experiment:2', 50],
      ['experiment:3', 25],
    ] as const) {
      const got = s.get(label) ?? 0;
      assert.ok(Math.abs(got - expected) <= 1.5, `${label}: ${got}% for ${expected}%`);
    }
  }
  const choice = chooseRoute(routes, 'user-7');
  assert.equal(choice.route, 'experiment');
  assert.equal(choice.version, routes.experiment!.variants[choice.variant!]!.version);
});

test('uneven fractional weights', () => {
  const routes: ResolvedRoutes = {
    champion: 9,
    experiment: {
      variants: [
        { version: 1, weight: 0.1 },
        { version: 2, weight: 0.9 },
      ],
    },
  };
  const s = shares(routes, IDS);
  assert.ok(Math.abs((s.get('experiment:0') ?? 0) - 10) <= 1.5);
  assert.ok(Math.abs((s.get('experiment:1') ?? 0) - 90) <= 1.5);
});

test('a sticky key always lands on the same variant', () => {
  const routes: ResolvedRoutes = {
    champion: 1,
    experiment: {
      variants: [
        { version: 1, weight: 1 },
        { version: 2, weight: 1 },
      ],
      sticky_by: 'x-user',
    },
  };
  const headers: Record<string, string> = { 'x-user': 'alice' };
  const first = chooseRoute(
    routes,
    routingKey(routes, 'req-1', (n) => headers[n]),
  );
  for (let i = 2; i < 200; i++) {
    assert.deepEqual(
      chooseRoute(
        routes,
        routingKey(routes, `req-${i}`, (n) => headers[n]),
      ),
      first,
    );
  }
  // Without the header (or with an empty one) the request id decides.
  assert.equal(
    routingKey(routes, 'req-9', () => undefined),
    'req-9',
  );
  assert.equal(
    routingKey(routes, 'req-9', () => ''),
    'req-9',
  );
  assert.equal(
    routingKey(routes, 'req-9', (n) => headers[n]),
    'alice',
  );
  assert.equal(
    routingKey({ champion: 1 }, 'req-9', () => 'ignored'),
    'req-9',
  );
});

test('champion only, and degenerate experiments fall back to the champion', () => {
  assert.deepEqual(chooseRoute({ champion: 5 }, 'any'), { version: 5, route: 'champion' });
  const allZero: ResolvedRoutes = {
    champion: 5,
    experiment: {
      variants: [
        { version: 1, weight: 0 },
        { version: 2, weight: 0 },
      ],
    },
  };
  assert.deepEqual(chooseRoute(allZero, 'any'), { version: 5, route: 'champion' });
});

test('shadowTarget', () => {
  assert.equal(shadowTarget({ champion: 1 }), undefined);
  assert.equal(shadowTarget({ champion: 1, shadow: { version: 3 } }), 3);
  assert.equal(shadowTarget({ champion: 1, shadow: { version: 3 } }, 1), 3);
  assert.equal(
    shadowTarget({ champion: 1, canary: { version: 3, percent: 5 }, shadow: { version: 3 } }, 3),
    undefined,
  );
});

test('a sticky header value over 256 bytes is refused, not hashed', () => {
  const routes: ResolvedRoutes = {
    champion: 1,
    experiment: {
      variants: [
        { version: 1, weight: 1 },
        { version: 2, weight: 1 },
      ],
      sticky_by: 'x-user',
    },
  };
  assert.equal(
    routingKey(routes, 'req-1', () => 'u'.repeat(256)),
    'u'.repeat(256),
  );
  assert.throws(
    () => routingKey(routes, 'req-1', () => 'u'.repeat(100_000)),
    (err: unknown) =>
      err instanceof TendError &&
      err.status === 400 &&
      err.message === "the value of header 'x-user' is 100000 bytes; the limit is 256",
  );
});
