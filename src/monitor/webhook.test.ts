import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebhookSchema, type WebhookConfig } from '../core/alert-rules.js';
import { WebhookNotifier, parseRetryAfterMs, type DeliveryOutcome } from './webhook.js';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
  atMs: number;
}

/**
 * A receiver whose behaviour is set per path: `/fail/N/STATUS` answers STATUS to the first N
 * requests of that path and 204 after; `/status/STATUS` always answers STATUS; `/hang` never answers;
 * `/retry-after/N/SECONDS` answers 429 with Retry-After to the first N.
 */
let server: Server;
let base: string;
const received: Received[] = [];
const hits = new Map<string, number>();

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      const n = (hits.get(path) ?? 0) + 1;
      hits.set(path, n);
      received.push({
        path,
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString()),
        atMs: Date.now(),
      });
      const [, kind, a, b] = path.split('/');
      if (kind === 'hang') return;
      if (kind === 'fail') {
        res.statusCode = n <= Number(a) ? Number(b) : 204;
      } else if (kind === 'status') {
        res.statusCode = Number(a);
      } else if (kind === 'retry-after') {
        res.statusCode = n <= Number(a) ? 429 : 200;
        if (n <= Number(a)) res.setHeader('retry-after', String(b));
      } else {
        res.statusCode = 200;
      }
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function hook(name: string, path: string, over: Partial<WebhookConfig> = {}): WebhookConfig {
  return WebhookSchema.parse({ name, url: `${base}${path}`, ...over });
}

function notifier(
  webhooks: WebhookConfig[],
  over: Partial<ConstructorParameters<typeof WebhookNotifier>[0]> = {},
) {
  const outcomes: [string, DeliveryOutcome][] = [];
  const n = new WebhookNotifier({
    webhooks,
    initialBackoffMs: 10,
    maxBackoffMs: 50,
    random: () => 0,
    metrics: { webhookDelivery: (w, o) => outcomes.push([w, o]) },
    ...over,
  });
  return { n, outcomes };
}

const bodiesAt = (path: string) => received.filter((r) => r.path === path);

test('POSTs the event as JSON with tend headers and the configured ones; notify returns at once', async () => {
  const { n, outcomes } = notifier([hook('ops', '/ok', { headers: { authorization: 'Bearer secret' } })]);
  const event = { rule: 'acc', state: 'firing', value: 0.5 };
  n.notify(event);
  assert.equal(n.stats().inFlight, 1, 'delivery runs in the background');
  assert.deepEqual(await n.close(), { abandoned: 0 });
  const [got] = bodiesAt('/ok');
  assert.deepEqual(got?.body, event);
  assert.equal(got?.headers['content-type'], 'application/json');
  assert.equal(got?.headers['authorization'], 'Bearer secret');
  assert.equal(got?.headers['x-tend-attempt'], '1');
  assert.match(String(got?.headers['x-tend-delivery']), /^[0-9a-f-]{36}$/);
  assert.match(String(got?.headers['user-agent']), /^tend\//);
  assert.deepEqual(outcomes, [['ops', 'delivered']]);
  assert.deepEqual(n.stats(), { delivered: 1, failed: 0, dropped: 0, abandoned: 0, retries: 0, inFlight: 0 });
});

test('5xx is retried with growing backoff until it succeeds; one delivery id across attempts', async () => {
  const { n, outcomes } = notifier([hook('ops', '/fail/3/503')]);
  n.notify({ rule: 'r' });
  await n.close();
  const attempts = bodiesAt('/fail/3/503');
  assert.equal(attempts.length, 4);
  assert.deepEqual(
    attempts.map((a) => a.headers['x-tend-attempt']),
    ['1', '2', '3', '4'],
  );
  assert.equal(new Set(attempts.map((a) => a.headers['x-tend-delivery'])).size, 1);
  const gaps = attempts.slice(1).map((a, i) => a.atMs - (attempts[i]?.atMs ?? 0));
  // backoff 10, 20, 40 ms (random() = 0: no jitter); timers never fire early
  assert.ok((gaps[0] ?? 0) >= 9 && (gaps[1] ?? 0) >= 19 && (gaps[2] ?? 0) >= 39, `gaps ${gaps.join(', ')}`);
  assert.deepEqual(outcomes, [['ops', 'delivered']]);
  assert.equal(n.stats().retries, 3);
});

test('retries stop at max_attempts and the delivery counts as failed', async () => {
  const { n, outcomes } = notifier([hook('ops', '/status/500', { max_attempts: 3 })]);
  n.notify({ rule: 'r' });
  await n.close();
  assert.equal(bodiesAt('/status/500').length, 3);
  assert.deepEqual(outcomes, [['ops', 'failed']]);
});

test('4xx other than 408/429 is not retried', async () => {
  const { n, outcomes } = notifier([hook('ops', '/status/400')]);
  n.notify({ rule: 'r' });
  await n.close();
  assert.equal(bodiesAt('/status/400').length, 1);
  assert.deepEqual(outcomes, [['ops', 'failed']]);
});

test('429 waits what Retry-After asks (capped by maxBackoffMs) and retries', async () => {
  const { n, outcomes } = notifier([hook('ops', '/retry-after/1/1')], { maxBackoffMs: 200 });
  n.notify({ rule: 'r' });
  await n.close();
  const attempts = bodiesAt('/retry-after/1/1');
  assert.equal(attempts.length, 2);
  const gap = (attempts[1]?.atMs ?? 0) - (attempts[0]?.atMs ?? 0);
  assert.ok(gap >= 199, `waited ${gap} ms: Retry-After 1 s capped at 200 ms, more than the 10 ms backoff`);
  assert.deepEqual(outcomes, [['ops', 'delivered']]);
});

test('connection refused and timeouts are retried, then fail', async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const deadPort = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  const { n, outcomes } = notifier([
    WebhookSchema.parse({ name: 'dead', url: `http://127.0.0.1:${deadPort}/x`, max_attempts: 2 }),
    hook('slow', '/hang', { timeout_ms: 50, max_attempts: 2 }),
  ]);
  n.notify({ rule: 'r' });
  await n.close();
  assert.equal(bodiesAt('/hang').length, 2, 'the hanging receiver got both attempts');
  assert.deepEqual(outcomes.sort(), [
    ['dead', 'failed'],
    ['slow', 'failed'],
  ]);
});

test('only the named webhooks are called; unknown names and events after close are dropped', async () => {
  const { n, outcomes } = notifier([hook('a', '/only-a'), hook('b', '/only-b')]);
  n.notify({ rule: 'r' }, ['a', 'nope']);
  n.notify({ rule: 'r' }, []);
  await n.close();
  n.notify({ rule: 'late' }, ['b']);
  assert.equal(bodiesAt('/only-a').length, 1);
  assert.equal(bodiesAt('/only-b').length, 0);
  assert.deepEqual(outcomes.sort(), [
    ['a', 'delivered'],
    ['b', 'dropped'],
    ['nope', 'dropped'],
  ]);
});

test('deliveries beyond maxInFlight are dropped, not queued without bound', async () => {
  const { n, outcomes } = notifier([hook('ops', '/bounded')], { maxInFlight: 2 });
  for (let i = 0; i < 5; i++) n.notify({ i });
  await n.close();
  assert.equal(bodiesAt('/bounded').length, 2);
  assert.equal(outcomes.filter(([, o]) => o === 'dropped').length, 3);
});

test('close abandons what is still retrying at the deadline', async () => {
  const { n, outcomes } = notifier([hook('ops', '/status/502', { max_attempts: 20 })], {
    initialBackoffMs: 1000,
    maxBackoffMs: 1000,
  });
  n.notify({ rule: 'r' });
  while (bodiesAt('/status/502').length === 0) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(await n.close(30), { abandoned: 1 });
  assert.deepEqual(outcomes, [['ops', 'abandoned']]);
  assert.equal(n.stats().inFlight, 0);
});

test('Retry-After: seconds or an HTTP date', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  assert.equal(parseRetryAfterMs('3', now), 3000);
  assert.equal(parseRetryAfterMs('Wed, 01 Jan 2025 00:00:10 GMT', now), 10_000);
  assert.equal(parseRetryAfterMs('Tue, 31 Dec 2024 00:00:10 GMT', now), 0);
  assert.equal(parseRetryAfterMs(null, now), null);
  assert.equal(parseRetryAfterMs('soon', now), null);
});
