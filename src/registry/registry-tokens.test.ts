import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Registry } from './registry.js';
import { rejectsWith } from './store.case.js';
import { openSqliteStores } from './sqlite-store.js';
import type { NewToken } from './token-store.js';
import { tempDir } from '../core/test-support.test-helper.js';

const hashOf = (token: string) => createHash('sha256').update(token).digest('hex');

async function openTemp(t: { after(fn: () => unknown): void }): Promise<Registry> {
  const home = join(tempDir('tokens'), 'home');
  const registry = await Registry.open(home, { actor: 'tester' });
  t.after(async () => {
    await registry.close();
    rmSync(join(home, '..'), { recursive: true, force: true });
  });
  return registry;
}

function newToken(n: number, over: Partial<NewToken> = {}): Omit<NewToken, 'createdBy'> {
  return {
    id: `tok${n}`,
    name: `ci-${n}`,
    tokenSha256: hashOf(`secret-${n}`),
    scopes: ['infer', 'read'],
    models: null,
    ...over,
  };
}

test('a token is stored by its hash, found by it, listed without it and revoked once', async (t) => {
  const registry = await openTemp(t);
  const made = await registry.tokens.create(newToken(1, { models: ['digits*', 'iris'] }));
  assert.deepEqual(made, {
    id: 'tok1',
    name: 'ci-1',
    scopes: ['infer', 'read'],
    models: ['digits*', 'iris'],
    created_at: made.created_at,
    created_by: 'tester',
    revoked_at: null,
    revoked_by: null,
    last_used_at: null,
  });
  assert.deepEqual(await registry.tokens.findByHash(hashOf('secret-1')), made);
  assert.equal(await registry.tokens.findByHash(hashOf('secret-2')), null);
  assert.equal(await registry.tokens.findByHash('not a hash'), null);
  await registry.tokens.create(newToken(2, { createdBy: 'admin-token' }));
  const listed = await registry.tokens.list();
  assert.deepEqual(
    listed.map((r) => r.id),
    ['tok1', 'tok2'],
  );
  assert.equal(listed[1]?.created_by, 'admin-token');
  assert.ok(!JSON.stringify(listed).includes(hashOf('secret-1')), 'no hash leaves the store');

  const revoked = await registry.tokens.revoke('tok1', 'alice');
  assert.equal(revoked.revoked_by, 'alice');
  assert.ok(revoked.revoked_at !== null);
  // Still found, so that the caller can answer "revoked" rather than "unknown".
  assert.equal((await registry.tokens.findByHash(hashOf('secret-1')))?.revoked_at, revoked.revoked_at);
  await rejectsWith(registry.tokens.revoke('tok1'), 'TEND_CONFLICT');
  await rejectsWith(registry.tokens.revoke('tok9'), 'TEND_NOT_FOUND');
  assert.equal((await registry.tokens.revoke('tok2')).revoked_by, 'tester');
});

test('names are unique among live tokens; ids and hashes always', async (t) => {
  const registry = await openTemp(t);
  await registry.tokens.create(newToken(1));
  await rejectsWith(registry.tokens.create(newToken(2, { name: 'ci-1' })), 'TEND_CONFLICT');
  await rejectsWith(registry.tokens.create(newToken(2, { id: 'tok1' })), 'TEND_CONFLICT');
  await rejectsWith(
    registry.tokens.create(newToken(2, { tokenSha256: hashOf('secret-1') })),
    'TEND_CONFLICT',
  );
  await registry.tokens.revoke('tok1');
  const again = await registry.tokens.create(newToken(2, { name: 'ci-1' }));
  assert.equal(again.name, 'ci-1');
  assert.equal((await registry.tokens.list()).length, 2);
});

test('bad tokens are TEND_INVALID_ARGUMENT', async (t) => {
  const registry = await openTemp(t);
  const bad: Partial<NewToken>[] = [
    { id: '' },
    { id: 'x'.repeat(33) },
    { id: 'a b' },
    { name: '' },
    { name: 'n'.repeat(65) },
    { name: 'has space' },
    { name: 'slash/name' },
    { tokenSha256: 'ABC' },
    { tokenSha256: hashOf('x').toUpperCase() },
    { scopes: [] },
    { scopes: ['Read'] },
    { scopes: ['read', 'read'] },
    { models: [] },
    { models: ['a/b'] },
    { createdBy: '' },
  ];
  for (const over of bad)
    await rejectsWith(registry.tokens.create(newToken(1, over)), 'TEND_INVALID_ARGUMENT');
  assert.deepEqual(await registry.tokens.list(), []);
  // The longest valid name is 64 characters.
  assert.equal((await registry.tokens.create(newToken(1, { name: 'n'.repeat(64) }))).name.length, 64);
});

test('touchToken writes last_used_at at most once a minute and ignores unknown ids', async (t) => {
  const registry = await openTemp(t);
  await registry.tokens.create(newToken(1));
  const t0 = new Date('2030-01-01T00:00:00.000Z');
  assert.equal(await registry.tokens.touch('tok1', t0), true);
  assert.equal(await registry.tokens.touch('tok1', new Date(t0.getTime() + 30_000)), false);
  assert.equal((await registry.tokens.list())[0]?.last_used_at, t0.toISOString());
  const later = new Date(t0.getTime() + 61_000);
  assert.equal(await registry.tokens.touch('tok1', later), true);
  assert.equal((await registry.tokens.list())[0]?.last_used_at, later.toISOString());
  assert.equal(await registry.tokens.touch('nope', later), false);
});

test('tokens persist in registry.db and only their hash is written', async (t) => {
  const dir = tempDir('tokens-db');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const registry = await Registry.open(dir, { actor: 'tester' });
  await registry.tokens.create(newToken(1));
  await registry.close();
  const raw = new Database(join(dir, 'registry.db'), { readonly: true });
  try {
    const rows = raw.prepare('select * from api_tokens').all() as Record<string, unknown>[];
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.token_sha256, hashOf('secret-1'));
    assert.ok(!JSON.stringify(rows).includes('secret-1'));
  } finally {
    raw.close();
  }
  // The partial unique index guards live names even for writers that skip the store's check.
  const writer = new Database(join(dir, 'registry.db'));
  try {
    const insert = writer.prepare(
      "insert into api_tokens (id, name, token_sha256, scopes, created_at, created_by, revoked_at) values (?, 'ci-1', ?, '[\"read\"]', 'x', 'raw', ?)",
    );
    assert.throws(() => insert.run('raw1', hashOf('raw-1'), null), /UNIQUE/);
    insert.run('raw2', hashOf('raw-2'), '2030-01-01T00:00:00.000Z');
  } finally {
    writer.close();
  }
  const reopened = await Registry.open(dir);
  t.after(() => reopened.close());
  assert.equal((await reopened.tokens.findByHash(hashOf('secret-1')))?.id, 'tok1');
});

test('a registry opened on stores of its own keeps its tokens and their audit entries there', async (t) => {
  const dir = tempDir('tokens');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const stores = await openSqliteStores(join(dir, 'elsewhere.db'));
  const registry = await Registry.open(join(dir, 'home'), { actor: 'tester', stores });
  t.after(() => registry.close());
  await registry.tokens.create(newToken(1));
  assert.deepEqual(
    (await stores.tokens.listTokens()).map((tok) => tok.id),
    ['tok1'],
  );
  assert.deepEqual(
    (await stores.audit.listAudit()).map((e) => e.action),
    ['token.create'],
  );
  assert.equal(existsSync(join(dir, 'home', 'registry.db')), false);
});
