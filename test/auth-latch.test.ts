/**
 * Authentication never switches itself off (Security II): a `tend serve` started with a token keeps
 * authentication on after its last token is revoked — over the CLI (another process, seen within the
 * refresh second) and over the API (at once). Every protected HTTP route and gRPC method then answers
 * 401 / UNAUTHENTICATED, the message says how to get back in, and the refused attempts are audited.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { Registry } from '../src/registry/index.js';
import { GRPC_ACCESS_RULES, HTTP_ACCESS_RULES } from '../src/security/index.js';
import { FIXTURE_MODELS, ROOT, tempDir } from './helpers.js';
import { digitsUnaryRequests, grpcClient } from './grpc-client.js';

const CLI = join(ROOT, 'src', 'cli', 'bin.ts');
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
const GRPC_REQUESTS = digitsUnaryRequests();

function tend(args: string[], home: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args, '--home', home], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill('SIGKILL');
});

/** `tend serve` in its own process on loopback; resolves with its HTTP URL and gRPC address once ready. */
async function serve(home: string): Promise<{ url: string; grpcAddress: string }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      CLI,
      'serve',
      '--home',
      home,
      '--port',
      '0',
      '--grpc-port',
      '0',
      '--log-level',
      'silent',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tend serve did not start: ${out}`)), 90_000);
    child.on('exit', (code) => reject(new Error(`tend serve exited ${code}: ${out}`)));
    child.stdout?.on('data', () => {
      const m = /listening on (http:\/\/[^\s]+) \(gRPC ([^)]+)\)/.exec(out);
      if (m && /ready:/.test(out)) {
        clearTimeout(timer);
        resolve({ url: m[1] as string, grpcAddress: m[2] as string });
      }
    });
  });
}

async function call(
  url: string,
  method: string,
  route: string,
  token?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const path = route.replace(/:([a-z]+)/g, (_, p: string) => PARAMS[p] ?? 'x');
  const hasBody = method !== 'GET' && method !== 'DELETE';
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...(hasBody ? { 'content-type': 'application/json' } : {}),
    },
    ...(hasBody
      ? { body: route === '/api/v1/tokens' ? JSON.stringify({ name: 'evil', scopes: ['admin'] }) : '{}' }
      : {}),
  });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) as Record<string, unknown> };
  } catch {
    return { status: res.status, body: { text } };
  }
}

/** Every protected route, anonymous and with the revoked token: 401 with a message naming the way back in. */
async function assertLockedHttp(url: string, revokedToken: string): Promise<number> {
  let checked = 0;
  for (const rule of HTTP_ACCESS_RULES) {
    if (rule.scope === 'public') continue;
    for (const token of [undefined, revokedToken]) {
      const r = await call(url, rule.method, rule.route, token);
      assert.equal(
        r.status,
        401,
        `${rule.method} ${rule.route} ${token === undefined ? 'without a token' : 'with the revoked token'}: ${r.status} ${JSON.stringify(r.body)}`,
      );
      assert.equal(r.body['code'], 'TEND_UNAUTHORIZED');
      assert.match(String(r.body['error']), /no token is active.*tend token create/);
      checked++;
    }
  }
  // Liveness and readiness stay public.
  assert.equal((await fetch(`${url}/v2/health/live`)).status, 200);
  return checked;
}

async function assertLockedGrpc(address: string, revokedToken: string): Promise<number> {
  const client = grpcClient(address);
  let checked = 0;
  try {
    for (const rule of GRPC_ACCESS_RULES) {
      const request = GRPC_REQUESTS[rule.method];
      if (request === undefined || rule.scope === 'public') continue;
      for (const token of [undefined, revokedToken]) {
        const code: grpc.status = await client
          .call(rule.method, request, token === undefined ? {} : { authorization: `Bearer ${token}` })
          .then(
            () => grpc.status.OK,
            (err: grpc.ServiceError) => err.code,
          );
        assert.equal(
          code,
          grpc.status.UNAUTHENTICATED,
          `${rule.method} ${token === undefined ? 'without a token' : 'with the revoked token'}`,
        );
        checked++;
      }
    }
    assert.deepEqual(await client.call('ServerLive', {}), { live: true });
  } finally {
    client.close();
  }
  return checked;
}

async function waitFor401(url: string, token: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await call(url, 'GET', '/api/v1/tokens', token)).status === 401) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail('the revocation never reached the server');
}

async function homeWithModel(): Promise<string> {
  const home = tempDir('auth-latch');
  const registry = await Registry.open(home);
  await registry.models.push(join(FIXTURE_MODELS, 'digits_mlp.onnx'), {
    name: 'digits',
    aliases: ['champion'],
  });
  await registry.close();
  return home;
}

describe('revoking the last token keeps authentication on', () => {
  test('over the CLI: every protected HTTP route and gRPC method answers 401, the refusals are audited', async () => {
    const home = await homeWithModel();
    const created = tend(['token', 'create', '--name', 'only', '--scopes', 'admin', '--json'], home);
    assert.equal(created.status, 0, created.stderr);
    const only = JSON.parse(created.stdout) as { id: string; token: string };
    const { url, grpcAddress } = await serve(home);
    assert.equal((await call(url, 'GET', '/api/v1/tokens', only.token)).status, 200);

    const revoked = tend(['token', 'revoke', only.id], home);
    assert.equal(revoked.status, 0, revoked.stderr);
    await waitFor401(url, only.token);
    // The attack of the issue: an anonymous admin token after the revocation.
    const evil = await call(url, 'POST', '/api/v1/tokens');
    assert.equal(evil.status, 401, JSON.stringify(evil.body));
    assert.ok((await assertLockedHttp(url, only.token)) >= 60);
    // The audit takes 20 refusals a second and counts the rest: let a second pass before the gRPC sweep.
    await new Promise((r) => setTimeout(r, 1100));
    assert.ok((await assertLockedGrpc(grpcAddress, only.token)) >= 10);

    // The refused management calls are in the audit log, with who tried and from where.
    await new Promise((r) => setTimeout(r, 1100));
    await call(url, 'GET', '/api/v1/audit');
    const audit = tend(['audit', '--json', '--action', 'access.denied', '--limit', '500'], home);
    assert.equal(audit.status, 0, audit.stderr);
    const entries = (
      JSON.parse(audit.stdout) as {
        entries: { actor: string; source: string; target: string; outcome: string; detail: string }[];
      }
    ).entries;
    const attack = entries.find((e) => e.target === 'POST /api/v1/tokens' && e.actor === 'anonymous');
    assert.ok(attack, JSON.stringify(entries.slice(0, 5)));
    assert.equal(attack.outcome, 'denied');
    assert.match(attack.source, /127\.0\.0\.1/);
    assert.ok(
      entries.some((e) => e.actor === only.id),
      'a call with the revoked token is recorded under its id',
    );
    assert.ok(
      entries.some((e) => e.target === 'grpc RepositoryModelLoad'),
      'gRPC management refusals are recorded',
    );
    assert.ok(!entries.some((e) => e.outcome === 'ok'));
    assert.ok(
      entries.some((e) => /earlier refused call\(s\) not recorded/.test(e.detail)),
      'the refusals over 20 a second are counted',
    );
    // No token was created by the refused calls.
    const listed = tend(['token', 'list', '--json'], home);
    const tokens = (JSON.parse(listed.stdout) as { tokens: { name: string }[] }).tokens;
    assert.deepEqual(
      tokens.map((t) => t.name),
      ['only'],
    );

    // A token created on the host (straight into the registry) lets the operator back in.
    const again = JSON.parse(
      tend(['token', 'create', '--name', 'recovery', '--scopes', 'admin', '--json'], home).stdout,
    ) as { token: string };
    let status = 401;
    for (let i = 0; i < 100 && status !== 200; i++) {
      status = (await call(url, 'GET', '/api/v1/tokens', again.token)).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(status, 200);
  });

  test('over the API: DELETE of the caller’s own, last token locks the server at once', async () => {
    const home = await homeWithModel();
    const only = JSON.parse(
      tend(['token', 'create', '--name', 'only', '--scopes', 'admin', '--json'], home).stdout,
    ) as { id: string; token: string };
    const { url, grpcAddress } = await serve(home);
    const revoke = await call(url, 'DELETE', `/api/v1/tokens/${only.id}`, only.token);
    assert.equal(revoke.status, 200, JSON.stringify(revoke.body));
    const evil = await call(url, 'POST', '/api/v1/tokens');
    assert.equal(evil.status, 401, JSON.stringify(evil.body));
    assert.match(String(evil.body['error']), /no token is active/);
    assert.ok((await assertLockedHttp(url, only.token)) >= 60);
    assert.ok((await assertLockedGrpc(grpcAddress, only.token)) >= 10);
  });
});
