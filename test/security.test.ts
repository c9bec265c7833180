/**
 * Issue 10 beyond the access table: model integrity (a tampered file is refused, the previous version
 * keeps serving), ed25519 signatures and the require-signature policy, the safe-by-default host rule,
 * limits (rate, concurrency, tensor size), the audit log, and TLS with mutual TLS.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, spawn } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { createApiToken } from '../src/engine/index.js';
import { Registry } from '../src/registry/index.js';
import {
  CLI,
  FIXTURE_MODELS,
  postJson,
  startTestServer,
  tempDir,
  type TestServer,
  runCli,
  type CliResult,
} from './helpers.js';

const DIGITS = join(FIXTURE_MODELS, 'digits_mlp.onnx');
const PIXELS = Array.from({ length: 64 }, (_, i) => i % 16);
const BODY = { inputs: [{ name: 'pixels', shape: [1, 64], datatype: 'FP32', data: PIXELS }] };

const tend = (args: string[], home: string | null, env: Record<string, string> = {}): CliResult =>
  runCli(args, { home, env: { TEND_ACTOR: 'tester', ...env } });

const cleanup: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

async function pushTwo(home: string): Promise<{ registry: Registry; v2File: string }> {
  const registry = await Registry.open(home);
  await registry.models.push(DIGITS, { name: 'digits', aliases: ['champion'] });
  // A second version with different bytes (same graph, one more metadata entry is not possible without
  // rewriting; the file gets a trailing protobuf field instead: a valid ONNX file with a new hash).
  const altered = join(home, 'digits-v2.onnx');
  copyFileSync(DIGITS, altered);
  // Field 14 (an unknown field, length 0): parsers ignore it.
  appendFileSync(altered, Buffer.from([0x72, 0x00]));
  const pushed = await registry.models.push(altered, { name: 'digits' });
  return {
    registry,
    v2File: registry.files.path(await registry.models.getVersion('digits', pushed.version)),
  };
}

describe('model integrity', () => {
  test('a tampered model file is refused on load with a clear error; the previous version keeps serving', async () => {
    const home = tempDir('tamper');
    const { registry, v2File } = await pushTwo(home);
    await registry.close();
    // Change one byte of version 2's stored file, as an attacker with disk access would.
    const bytes = readFileSync(v2File);
    bytes[bytes.length - 40] = (bytes[bytes.length - 40] as number) ^ 0xff;
    writeFileSync(v2File, bytes);
    const server = await startTestServer({ home });
    cleanup.push(() => server.close());
    assert.equal((await postJson(`${server.url}/v2/models/digits@champion/infer`, BODY)).status, 200);
    const moved = await fetch(`${server.url}/api/v1/models/digits/aliases/champion`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ version: 2 }),
    });
    assert.ok(moved.status >= 400 && moved.status < 500, String(moved.status));
    const body = (await moved.json()) as { error: string };
    assert.match(body.error, /digits:2: the model file does not match the sha256 recorded at push/);
    const stillServing = await postJson(`${server.url}/v2/models/digits@champion/infer`, BODY);
    assert.equal(stillServing.status, 200);
    assert.equal(stillServing.body['model_version'], '1');
    const direct = await postJson(`${server.url}/v2/models/digits/versions/2/infer`, BODY);
    assert.ok(direct.status >= 400, String(direct.status));
    // tend verify says the same and exits 1.
    const verify = tend(['verify', 'digits@2'], home);
    assert.equal(verify.status, 1);
    assert.match(verify.stdout, /DOES NOT match/);
  });

  test('keygen, sign, verify; require-signature refuses unsigned and untrusted versions, naming the model and the check', async () => {
    const home = tempDir('signing');
    const keys = join(home, '..', `keys-${Date.now()}`);
    const other = `${keys}-other`;
    const trusted = `${keys}-trusted`;
    const { registry } = await pushTwo(home);
    await registry.close();
    assert.equal(tend(['keygen', '--out', keys], null).status, 0);
    assert.equal(tend(['keygen', '--out', other], null).status, 0);
    const again = tend(['keygen', '--out', keys], null);
    assert.equal(again.status, 1, 'keygen never overwrites a key');
    mkdirSync(trusted);
    copyFileSync(join(keys, 'tend-signing.pub'), join(trusted, 'ops.pub'));
    const signed = JSON.parse(
      tend(['sign', 'digits@1', '--key', join(keys, 'tend-signing.key'), '--json'], home).stdout,
    ) as { key_id: string; version: number };
    assert.equal(signed.version, 1);
    assert.equal(tend(['sign', 'digits@2', '--key', join(other, 'tend-signing.key')], home).status, 0);
    const ok = JSON.parse(tend(['verify', 'digits@1', '--keys', trusted, '--json'], home).stdout) as {
      ok: boolean;
      signature: { ok: boolean; key_id: string };
    };
    assert.equal(ok.ok, true);
    assert.equal(ok.signature.key_id, signed.key_id);
    const untrusted = tend(['verify', 'digits@2', '--keys', trusted], home);
    assert.equal(untrusted.status, 1);
    assert.match(
      untrusted.stdout,
      /signature: signed with key [0-9a-f]+, which is not among the trusted keys/,
    );

    const registry2 = await Registry.open(home);
    await registry2.models.push(DIGITS, { name: 'unsigned' });
    await registry2.close();
    const server = await startTestServer({
      home,
      config: { security: { trust_policy: 'require-signature', trusted_keys_dir: trusted } },
    });
    cleanup.push(() => server.close());
    assert.equal((await postJson(`${server.url}/v2/models/digits/versions/1/infer`, BODY)).status, 200);
    const refused = await fetch(`${server.url}/v2/models/digits/versions/2`);
    const reason = ((await refused.json()) as { error?: string }).error ?? '';
    const index = await postJson(`${server.url}/v2/repository/index`, {});
    const entries = index.body as unknown as {
      name: string;
      version: string;
      state: string;
      reason: string;
    }[];
    const v2 = entries.find((e) => e.name === 'digits' && e.version === '2');
    const unsigned = entries.find((e) => e.name === 'unsigned');
    assert.match(`${v2?.reason ?? ''} ${reason}`, /digits.*2.*untrusted|untrusted.*digits/i);
    assert.match(unsigned?.reason ?? '', /unsigned.*unsigned|not signed/i);
  });
});

describe('safe by default', () => {
  test('serve --host 0.0.0.0 with no token exits 1 naming --insecure-no-auth; with it, /v2 warns', async () => {
    const home = tempDir('host');
    const refused = tend(['serve', '--host', '0.0.0.0', '--port', '0', '--no-grpc'], home);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /--insecure-no-auth/);
    assert.equal(refused.stderr.trim().split('\n').length, 1);
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        CLI,
        'serve',
        '--home',
        home,
        '--host',
        '0.0.0.0',
        '--port',
        '0',
        '--no-grpc',
        '--insecure-no-auth',
        '--log-level',
        'silent',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    cleanup.push(() => {
      child.kill('SIGKILL');
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const port = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(out)), 60_000);
      child.stdout.on('data', () => {
        const m = /listening on http:\/\/[^:]+:(\d+)/.exec(out);
        if (m && /ready:/.test(out)) {
          clearTimeout(timer);
          resolve(m[1] as string);
        }
      });
    });
    assert.match(out, /warning: authentication is off/);
    const meta = (await (await fetch(`http://127.0.0.1:${port}/v2`)).json()) as { warning?: string };
    assert.match(meta.warning ?? '', /authentication is off/);
  });
});

describe('limits', () => {
  let server: TestServer;
  test('per-token rate limit (429 + Retry-After), server in-flight ceiling, tensor element limit', async () => {
    const home = tempDir('limits');
    const registry = await Registry.open(home);
    await registry.models.push(DIGITS, { name: 'digits' });
    await registry.close();
    server = await startTestServer({
      home,
      grpc: true,
      config: { limits: { rate_limit_per_second: 1, rate_limit_burst: 3, max_tensor_elements: 1000 } },
    });
    cleanup.push(() => server.close());
    const token = (await createApiToken(server.engine.registry, { name: 'limited', scopes: 'infer' })).token;
    await server.engine.access.refresh();
    const send = (body: unknown) =>
      fetch(`${server.url}/v2/models/digits/infer`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 6; i++) {
      const res = await send(BODY);
      statuses.push(res.status);
      if (res.status === 429) {
        retryAfter = res.headers.get('retry-after');
        assert.equal(((await res.json()) as { code: string }).code, 'TEND_RATE_LIMITED');
      } else await res.arrayBuffer();
    }
    assert.deepEqual(statuses.slice(0, 3), [200, 200, 200]);
    assert.ok(statuses.slice(3).includes(429), statuses.join(','));
    assert.ok(Number(retryAfter) >= 1);
    // Health stays reachable whatever the limits.
    assert.equal((await fetch(`${server.url}/v2/health/live`)).status, 200);
    // gRPC shares the token's bucket: RESOURCE_EXHAUSTED with the tend code.
    const { grpcClient } = await import('./grpc-client.js');
    const grpcc = grpcClient(server.grpcAddress);
    try {
      await assert.rejects(
        grpcc.call(
          'ModelInfer',
          {
            model_name: 'digits',
            model_version: '',
            inputs: [
              { name: 'pixels', datatype: 'FP32', shape: [1, 64], contents: { fp32_contents: PIXELS } },
            ],
          },
          { authorization: `Bearer ${token}` },
        ),
        (err: { code: number; metadata: { get(k: string): unknown[] } }) =>
          err.code === 8 && err.metadata.get('tend-error-code')[0] === 'TEND_RATE_LIMITED',
      );
      assert.deepEqual(await grpcc.call('ServerLive', {}), { live: true });
    } finally {
      grpcc.close();
    }
    await new Promise((r) => setTimeout(r, 2100));
    const big = await send({
      inputs: [
        { name: 'pixels', shape: [20, 64], datatype: 'FP32', data: Array.from({ length: 1280 }, () => 0) },
      ],
    });
    assert.equal(big.status, 400);
    assert.match(
      ((await big.json()) as { error: string }).error,
      /more than limits.max_tensor_elements \(1000\)/,
    );
  });
});

describe('audit', () => {
  test('tend audit lists management actions with actor, source, before/after; the HTTP caller is its token id', async () => {
    const home = tempDir('audit');
    const registry = await Registry.open(home);
    await registry.models.push(DIGITS, { name: 'digits', aliases: ['champion'] });
    await registry.models.push(DIGITS, { name: 'digits' });
    await registry.close();
    const server = await startTestServer({ home });
    cleanup.push(() => server.close());
    const deployer = await createApiToken(server.engine.registry, { name: 'deployer', scopes: 'deploy' });
    const admin = await createApiToken(server.engine.registry, { name: 'root', scopes: 'admin' });
    await server.engine.access.refresh();
    const move = await fetch(`${server.url}/api/v1/models/digits/aliases/champion`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${deployer.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ version: 2 }),
    });
    assert.equal(move.status, 200, await move.text());
    const unload = await fetch(`${server.url}/v2/repository/models/digits/unload`, {
      method: 'POST',
      headers: { authorization: `Bearer ${deployer.token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(unload.status, 200);
    const viaHttp = (await (
      await fetch(`${server.url}/api/v1/audit?limit=10`, {
        headers: { authorization: `Bearer ${admin.token}` },
      })
    ).json()) as {
      entries: { action: string; actor: string; source: string; before: unknown; after: unknown }[];
    };
    const moved = viaHttp.entries.find((e) => e.action === 'alias.move' && e.actor === deployer.id);
    assert.ok(moved, JSON.stringify(viaHttp.entries));
    assert.match(moved.source, /127\.0\.0\.1/);
    assert.deepEqual([moved.before, moved.after], [{ version: 1 }, { version: 2 }]);
    assert.ok(viaHttp.entries.some((e) => e.action === 'model.unload' && e.actor === deployer.id));
    assert.ok(viaHttp.entries.some((e) => e.action === 'token.create'));
    const denied = await fetch(`${server.url}/api/v1/audit`, {
      headers: { authorization: `Bearer ${deployer.token}` },
    });
    assert.equal(denied.status, 403);
    const cli = JSON.parse(tend(['audit', '--json', '--action', 'model.*'], home).stdout) as {
      entries: { action: string; actor: string; source: string }[];
    };
    assert.deepEqual([...new Set(cli.entries.map((e) => e.action))].sort(), ['model.push', 'model.unload']);
    assert.equal(cli.entries.find((e) => e.action === 'model.push')?.source, 'cli');
  });
});

describe('TLS', () => {
  test('HTTPS with a server certificate; mutual TLS refuses a client without a certificate', async () => {
    const dir = tempDir('tls');
    const openssl = (args: string[]) => {
      const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    };
    openssl([
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '2',
      '-subj',
      '/CN=tend test CA',
    ]);
    openssl([
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
      '-subj',
      '/CN=localhost',
    ]);
    writeFileSync(join(dir, 'san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
    openssl([
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'server.pem',
      '-days',
      '2',
      '-extfile',
      'san.ext',
    ]);
    openssl([
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'client.key',
      '-out',
      'client.csr',
      '-subj',
      '/CN=client',
    ]);
    openssl([
      'x509',
      '-req',
      '-in',
      'client.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'client.pem',
      '-days',
      '2',
    ]);
    const { startHttpServer } = await import('../src/server/http/index.js');
    const { readTlsFiles } = await import('../src/server/tls.js');
    const home = tempDir('tls-home');
    const plain = await startTestServer({ home });
    cleanup.push(() => plain.close());
    const tls = readTlsFiles({
      insecure_no_auth: false,
      trust_policy: 'none',
      tls_cert: join(dir, 'server.pem'),
      tls_key: join(dir, 'server.key'),
      tls_ca: join(dir, 'ca.pem'),
    });
    const secure = await startHttpServer(plain.engine, {
      host: '127.0.0.1',
      port: 0,
      bodyLimitBytes: 1 << 20,
      ...(tls ? { tls } : {}),
    });
    cleanup.push(() => secure.close());
    assert.match(secure.url, /^https:/);
    const get = (withClientCert: boolean) =>
      new Promise<number>((resolve, reject) => {
        const req = httpsRequest(
          `${secure.url}/v2/health/live`,
          {
            ca: readFileSync(join(dir, 'ca.pem')),
            ...(withClientCert
              ? { cert: readFileSync(join(dir, 'client.pem')), key: readFileSync(join(dir, 'client.key')) }
              : {}),
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end();
      });
    assert.equal(await get(true), 200);
    await assert.rejects(get(false));
    assert.throws(
      () =>
        readTlsFiles({ insecure_no_auth: false, trust_policy: 'none', tls_cert: join(dir, 'server.pem') }),
      /both security.tls_cert and security.tls_key/,
    );
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('tokens through the API', () => {
  test('a token created or revoked through /api/v1/tokens applies at once in that server (no refresh wait)', async () => {
    const home = tempDir('token-api');
    const registry = await Registry.open(home);
    await registry.models.push(DIGITS, { name: 'digits' });
    await registry.close();
    const server = await startTestServer({ home });
    cleanup.push(() => server.close());
    const infer = (token?: string) =>
      fetch(`${server.url}/v2/models/digits/infer`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        },
        body: JSON.stringify(BODY),
      }).then(async (r) => (await r.arrayBuffer(), r.status));
    assert.equal(await infer(), 200, 'no token exists: loopback calls need none');
    // With no token yet, the first admin token is made without one (loopback only).
    const created = await fetch(`${server.url}/api/v1/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'root', scopes: ['admin'] }),
    });
    assert.equal(created.status, 201);
    const root = (await created.json()) as { id: string; token: string };
    // At once: the very next request needs a token.
    assert.equal(await infer(), 401);
    assert.equal(await infer(root.token), 200);
    const second = (await (
      await fetch(`${server.url}/api/v1/tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${root.token}` },
        body: JSON.stringify({ name: 'client', scopes: ['infer'] }),
      })
    ).json()) as { id: string; token: string };
    assert.equal(await infer(second.token), 200);
    const revoke = await fetch(`${server.url}/api/v1/tokens/${second.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${root.token}` },
    });
    assert.equal(revoke.status, 200);
    assert.equal(await infer(second.token), 401, 'a revoked token is refused by the next request');
    // Revoking the last token never turns authentication off (Security II): everything stays 401.
    assert.equal(
      (
        await fetch(`${server.url}/api/v1/tokens/${root.id}`, {
          method: 'DELETE',
          headers: { authorization: `Bearer ${root.token}` },
        })
      ).status,
      200,
    );
    assert.equal(await infer(), 401);
    assert.equal(await infer(root.token), 401);
  });
});
