/**
 * Who may call what (issue 10): every route the HTTP app registers is in the access table, and every
 * cell of the table holds over real HTTP and gRPC — no token → 401, a token without the scope or the
 * model → 403, a token with it → through. Bad Authorization headers and revoked tokens → 401 with
 * {"error"}, never a 500.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { connect } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { buildHttpApp } from '../src/server/http/index.js';
import { createApiToken } from '../src/engine/index.js';
import { GRPC_ACCESS_RULES, HTTP_ACCESS_RULES, type Scope } from '../src/security/index.js';
import { FIXTURE_MODELS, makeRepo, startTestServer, type TestServer } from './helpers.js';
import { digitsUnaryRequests, grpcClient, type GrpcTestClient } from './grpc-client.js';

const SCOPES: Scope[] = ['read', 'infer', 'feedback', 'deploy', 'admin'];
/** Concrete values for route parameters. */
const PARAMS: Record<string, string> = {
  model: 'digits',
  version: '1',
  endpoint: 'digits',
  name: 'digits',
  alias: 'champion',
  run: 'r20260101000000abcdef',
  id: 'ffffffffffff',
  file: 'app.js',
};
const PIXELS = Array.from({ length: 64 }, (_, i) => i % 16);

let server: TestServer;
let grpcc: GrpcTestClient;
const tokens: Partial<Record<Scope | 'other-model' | 'revoked', string>> = {};

function bearer(token: string | undefined): Record<string, string> {
  return token === undefined ? {} : { authorization: `Bearer ${token}` };
}

function concrete(route: string): string {
  return route.replace(/:([a-z]+)/g, (_, p: string) => PARAMS[p] ?? 'x');
}

async function call(
  method: string,
  route: string,
  token?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${server.url}${concrete(route)}`, {
    method,
    headers: {
      ...bearer(token),
      ...headers,
      ...(method === 'GET' || method === 'DELETE' ? {} : { 'content-type': 'application/json' }),
    },
    ...(method === 'GET' || method === 'DELETE' ? {} : { body: '{}' }),
  });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { text };
  }
  return { status: res.status, body };
}

before(async () => {
  const repo = makeRepo([{ name: 'digits', model: join(FIXTURE_MODELS, 'digits_mlp.onnx') }]);
  server = await startTestServer({ repos: [repo], grpc: true });
  const registry = server.engine.registry;
  for (const scope of SCOPES)
    tokens[scope] = (await createApiToken(registry, { name: `t-${scope}`, scopes: scope })).token;
  tokens['other-model'] = (
    await createApiToken(registry, { name: 'other', scopes: 'admin', models: 'fraud-*' })
  ).token;
  const revoked = await createApiToken(registry, { name: 'gone', scopes: 'admin' });
  await registry.tokens.revoke(revoked.id);
  tokens.revoked = revoked.token;
  await server.engine.access.refresh();
  grpcc = grpcClient(server.grpcAddress);
});

after(async () => {
  grpcc.close();
  await server.close();
});

describe('HTTP access table', () => {
  test('every route the app registers is in the access table', async () => {
    const app = buildHttpApp(server.engine, { bodyLimitBytes: 1024 });
    const registered: string[] = [];
    app.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      for (const m of methods) if (m !== 'HEAD') registered.push(`${m} ${route.url}`);
    });
    await app.ready();
    await app.close();
    const known = new Set(HTTP_ACCESS_RULES.map((r) => `${r.method} ${r.route}`));
    assert.ok(registered.length > 30, `routes seen: ${registered.length}`);
    assert.deepEqual(
      registered.filter((r) => !known.has(r)),
      [],
    );
  });

  test('no token, a wrong scope, the right scope: 401, 403, through — for every registered route', async () => {
    const app = buildHttpApp(server.engine, { bodyLimitBytes: 1024 });
    const registered = new Set<string>();
    app.addHook('onRoute', (route) => {
      for (const m of Array.isArray(route.method) ? route.method : [route.method])
        registered.add(`${m} ${route.url}`);
    });
    await app.ready();
    await app.close();
    let cells = 0;
    // Deploy and admin rows last: their right-scope calls may unload the model or revoke a token.
    const rules = HTTP_ACCESS_RULES.filter((r) => registered.has(`${r.method} ${r.route}`)).sort(
      (a, b) => rank(a.scope) - rank(b.scope),
    );
    for (const rule of rules) {
      const label = `${rule.method} ${rule.route}`;
      if (rule.scope === 'public') {
        const anonymous = await call(rule.method, rule.route);
        assert.ok(
          anonymous.status !== 401 && anonymous.status !== 403,
          `${label} is public, got ${anonymous.status}`,
        );
        cells++;
        continue;
      }
      const none = await call(rule.method, rule.route);
      assert.equal(none.status, 401, `${label} without a token`);
      assert.equal(typeof none.body['error'], 'string');
      const wrongScope = SCOPES.find(
        (s) => s !== rule.scope && s !== 'admin' && !(s === 'deploy' && rule.scope === 'read'),
      ) as Scope;
      const wrong = await call(rule.method, rule.route, tokens[wrongScope]);
      assert.equal(wrong.status, 403, `${label} with a '${wrongScope}' token: ${JSON.stringify(wrong.body)}`);
      assert.match(String(wrong.body['error']), new RegExp(`lacks the '${rule.scope}' scope`));
      if (rule.modelParam !== undefined || rule.allModels) {
        const otherModel = await call(rule.method, rule.route, tokens['other-model']);
        assert.equal(otherModel.status, 403, `${label} with a token for other models`);
      }
      const right = await call(rule.method, rule.route, tokens[rule.scope]);
      assert.ok(
        right.status !== 401 && right.status !== 403,
        `${label} with a '${rule.scope}' token got ${right.status} ${JSON.stringify(right.body)}`,
      );
      assert.ok(right.status < 500, `${label}: ${right.status} ${JSON.stringify(right.body)}`);
      cells++;
    }
    assert.ok(cells >= 35, `cells checked: ${cells}`);
    // The deploy rows unloaded the model: load it again for the tests that follow.
    assert.equal((await call('POST', '/v2/repository/models/:model/load', tokens.deploy)).status, 200);
  });

  test('admin holds every scope; deploy implies read; infer does not', async () => {
    assert.equal((await call('GET', '/v2/models/:model', tokens.admin)).status, 200);
    assert.equal((await call('GET', '/v2/models/:model', tokens.deploy)).status, 200);
    assert.equal((await call('GET', '/v2/models/:model', tokens.infer)).status, 403);
    const infer = await fetch(`${server.url}/v2/models/digits/infer`, {
      method: 'POST',
      headers: { ...bearer(tokens.infer), 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'pixels', shape: [1, 64], datatype: 'FP32', data: PIXELS }] }),
    });
    assert.equal(infer.status, 200);
    // The registry notes when a token was last used.
    await new Promise((r) => setTimeout(r, 100));
    const listed = await server.engine.registry.tokens.list();
    assert.match(listed.find((t) => t.name === 't-infer')?.last_used_at ?? '', /^\d{4}-/);
  });

  test('malformed Authorization headers, unknown and revoked tokens: 401 {"error"}, never a 500', async () => {
    const shapes = [
      'Bearer',
      'Bearer ',
      'Bearer  tend_abc',
      'Basic dXNlcjpwYXNz',
      'bearer tend_x y',
      'Token abc',
      `Bearer ${'a'.repeat(600)}`,
      'Bearer ../../etc/passwd',
      '',
    ];
    for (const header of shapes) {
      const res = await call('GET', '/v2/models/:model', undefined, { authorization: header });
      assert.equal(res.status, 401, `header ${JSON.stringify(header)}`);
      assert.equal(typeof res.body['error'], 'string');
      assert.equal(res.body['code'], 'TEND_UNAUTHORIZED');
    }
    // Control characters never reach the app through fetch (it refuses to send them): use a raw socket.
    const raw = await rawGet('/v2/models/digits', 'Authorization: Bearer tend_\u0001\u0002');
    assert.match(raw, /^HTTP\/1.1 4\d\d/);
    assert.doesNotMatch(raw, /^HTTP\/1.1 5/);
    const unknown = await call('GET', '/v2/models/:model', `tend_${'x'.repeat(43)}`);
    assert.equal(unknown.status, 401);
    assert.match(String(unknown.body['error']), /invalid token/);
    const revoked = await call('GET', '/v2/models/:model', tokens.revoked);
    assert.equal(revoked.status, 401);
    assert.match(String(revoked.body['error']), /revoked/);
    // The token never appears in an answer.
    assert.ok(!JSON.stringify(revoked.body).includes(tokens.revoked as string));
  });

  test('path-like model names and huge declared shapes: 4xx with {"error"}', async () => {
    for (const name of ['..%2F..%2Fetc', '%2e%2e', 'a%00b', encodeURIComponent('../x')]) {
      const res = await fetch(`${server.url}/v2/models/${name}/infer`, {
        method: 'POST',
        headers: { ...bearer(tokens.infer), 'content-type': 'application/json' },
        body: JSON.stringify({
          inputs: [{ name: 'pixels', shape: [1, 64], datatype: 'FP32', data: PIXELS }],
        }),
      });
      assert.ok(res.status >= 400 && res.status < 500, `${name}: ${res.status}`);
      assert.equal(typeof ((await res.json()) as { error?: unknown }).error, 'string');
    }
    const huge = await fetch(`${server.url}/v2/models/digits/infer`, {
      method: 'POST',
      headers: { ...bearer(tokens.infer), 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: [{ name: 'pixels', shape: [1_000_000_000, 1_000_000_000], datatype: 'FP32', data: [1] }],
      }),
    });
    assert.ok(huge.status >= 400 && huge.status < 500, String(huge.status));
    assert.equal(typeof ((await huge.json()) as { error?: unknown }).error, 'string');
  });
});

describe('gRPC access table', () => {
  const requests = digitsUnaryRequests();

  test('every unary method: UNAUTHENTICATED, PERMISSION_DENIED, through', async () => {
    const order = [...GRPC_ACCESS_RULES]
      .filter((r) => requests[r.method] !== undefined)
      .sort((a, b) => rank(a.scope) - rank(b.scope));
    assert.equal(order.length, Object.keys(requests).length);
    for (const rule of order) {
      const request = requests[rule.method] as Record<string, unknown>;
      const outcome = async (token?: string): Promise<grpc.status> => {
        try {
          await grpcc.call(
            rule.method,
            request,
            token === undefined ? {} : { authorization: `Bearer ${token}` },
          );
          return grpc.status.OK;
        } catch (err) {
          return (err as grpc.ServiceError).code;
        }
      };
      if (rule.scope === 'public') {
        assert.equal(await outcome(), grpc.status.OK, rule.method);
        continue;
      }
      assert.equal(await outcome(), grpc.status.UNAUTHENTICATED, `${rule.method} without a token`);
      const wrongScope = SCOPES.find(
        (s) => s !== rule.scope && s !== 'admin' && !(s === 'deploy' && rule.scope === 'read'),
      ) as Scope;
      assert.equal(
        await outcome(tokens[wrongScope]),
        grpc.status.PERMISSION_DENIED,
        `${rule.method} with '${wrongScope}'`,
      );
      if (rule.modelParam !== undefined || rule.allModels)
        assert.equal(
          await outcome(tokens['other-model']),
          grpc.status.PERMISSION_DENIED,
          `${rule.method} for another model`,
        );
      const right = await outcome(tokens[rule.scope]);
      assert.ok(
        right !== grpc.status.UNAUTHENTICATED &&
          right !== grpc.status.PERMISSION_DENIED &&
          right !== grpc.status.INTERNAL,
        `${rule.method} with '${rule.scope}': ${right}`,
      );
    }
  });

  test('streams check every message; a malformed authorization metadata is UNAUTHENTICATED', async () => {
    const message = requests['ModelInfer'] as Record<string, unknown>;
    const answered = await grpcc.stream(
      [message, { ...message, model_name: 'fraud-1' }],
      `Bearer ${tokens.infer}`,
    );
    assert.equal(answered.length, 2);
    const refused = await grpcc.stream([message], `Bearer ${tokens.read}`);
    assert.match(String(refused[0]?.['error_message']), /lacks the 'infer' scope/);
    const limited = await grpcc.stream(
      [{ ...message, model_name: 'digits' }],
      `Bearer ${tokens['other-model']}`,
    );
    assert.match(String(limited[0]?.['error_message']), /may not use model 'digits'/);
    await assert.rejects(
      grpcc.call('ServerMetadata', {}, { authorization: 'Basic abc' }),
      (err: grpc.ServiceError) => err.code === grpc.status.UNAUTHENTICATED,
    );
  });
});

function rawGet(path: string, header: string): Promise<string> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () =>
      socket.end(`GET ${path} HTTP/1.1\r\nHost: x\r\n${header}\r\nConnection: close\r\n\r\n`),
    );
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
}

function rank(scope: Scope | 'public'): number {
  return scope === 'deploy' ? 2 : scope === 'admin' ? 3 : 0;
}
