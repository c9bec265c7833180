import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Registry } from './registry.js';
import { rejectsWith } from './store.case.js';
import type { AuditEntry } from './audit-store.js';
import { tempDir } from '../core/test-support.test-helper.js';

async function openTemp(t: {
  after(fn: () => unknown): void;
}): Promise<{ registry: Registry; home: string }> {
  const home = join(tempDir('audit'), 'home');
  const registry = await Registry.open(home, { actor: 'tester' });
  t.after(async () => {
    await registry.close();
    rmSync(join(home, '..'), { recursive: true, force: true });
  });
  return { registry, home };
}

const push: AuditEntry = {
  actor: 'local',
  source: 'cli',
  action: 'model.push',
  target: 'digits:1',
  after: { version: 1, aliases: ['champion'] },
};

test('entries append with growing seq and read back newest first', async (t) => {
  const { registry } = await openTemp(t);
  const first = await registry.audit.append(push);
  assert.deepEqual(first, {
    seq: first.seq,
    at: first.at,
    actor: 'local',
    source: 'cli',
    action: 'model.push',
    target: 'digits:1',
    before: null,
    after: { version: 1, aliases: ['champion'] },
    outcome: 'ok',
    detail: null,
  });
  assert.ok(Number.isInteger(first.seq) && first.seq >= 1);
  assert.match(first.at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  const move = await registry.audit.append({
    actor: 'tok1',
    source: '10.0.0.7',
    action: 'alias.move',
    target: 'digits:champion',
    before: 1,
    after: 2,
  });
  const denied = await registry.audit.append({
    actor: 'tok2',
    source: '10.0.0.8',
    action: 'deployment.update',
    target: 'digits',
    outcome: 'denied',
    detail: 'scope deploy missing',
  });
  const gc = await registry.audit.append({
    actor: 'tend',
    source: 'cli',
    action: 'gc',
    after: { removed: 2 },
  });
  assert.ok(first.seq < move.seq && move.seq < denied.seq && denied.seq < gc.seq);
  assert.equal(gc.target, null);
  const all = await registry.audit.list();
  assert.deepEqual(
    all.map((e) => e.seq),
    [gc.seq, denied.seq, move.seq, first.seq],
  );
  assert.deepEqual(all[2], move);
  assert.equal(all[1]?.outcome, 'denied');
  assert.equal(all[1]?.detail, 'scope deploy missing');
});

test('the log filters by action (exact or prefix), target, actor, time and seq, with a limit', async (t) => {
  const { registry } = await openTemp(t);
  await registry.audit.append(push);
  await registry.audit.append({ ...push, action: 'model.load', target: 'digits' });
  await registry.audit.append({ ...push, action: 'modelx.other', target: 'iris' });
  await registry.audit.append({ ...push, action: 'token.create', target: 'tok1', actor: 'tok0' });
  const actions = async (q: Parameters<Registry['audit']['list']>[0]) =>
    (await registry.audit.list(q)).map((e) => e.action);
  assert.deepEqual(await actions({ action: 'model.push' }), ['model.push']);
  assert.deepEqual(await actions({ action: 'model.*' }), ['model.load', 'model.push']);
  assert.deepEqual(await actions({ target: 'iris' }), ['modelx.other']);
  assert.deepEqual(await actions({ actor: 'tok0' }), ['token.create']);
  assert.deepEqual(await actions({ limit: 2 }), ['token.create', 'modelx.other']);
  const newest = (await registry.audit.list({ limit: 1 }))[0];
  assert.deepEqual(await actions({ beforeSeq: newest?.seq ?? 0, limit: 1 }), ['modelx.other']);
  assert.equal((await registry.audit.list({ since: '2000-01-01T00:00:00Z' })).length, 4);
  assert.deepEqual(await registry.audit.list({ since: '2999-01-01T00:00:00Z' }), []);
  await rejectsWith(registry.audit.list({ since: 'yesterday' }), 'TEND_INVALID_ARGUMENT');
  await rejectsWith(registry.audit.list({ since: '2025-13-45T00:00:00Z' }), 'TEND_INVALID_ARGUMENT');
  await rejectsWith(registry.audit.list({ limit: 0 }), 'TEND_INVALID_ARGUMENT');
  await rejectsWith(registry.audit.list({ beforeSeq: 1.5 }), 'TEND_INVALID_ARGUMENT');
});

test('bad entries are TEND_INVALID_ARGUMENT and append nothing', async (t) => {
  const { registry } = await openTemp(t);
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  const bad: Partial<AuditEntry>[] = [
    { actor: '' },
    { source: '' },
    { action: 'Model.Push' },
    { action: '' },
    { target: '' },
    { outcome: 'maybe' as 'ok' },
    { before: cyclic },
    { after: () => 1 },
    { detail: 5 as unknown as string },
  ];
  for (const over of bad)
    await rejectsWith(registry.audit.append({ ...push, ...over }), 'TEND_INVALID_ARGUMENT');
  assert.deepEqual(await registry.audit.list(), []);
});

test('the database itself refuses to change or remove audit entries', async (t) => {
  const { registry, home } = await openTemp(t);
  await registry.audit.append(push);
  await registry.audit.append({ ...push, target: 'digits:2' });
  const raw = new Database(join(home, 'registry.db'));
  try {
    assert.throws(
      () => raw.prepare("update audit_log set actor = 'mallory'").run(),
      /audit_log is append-only/,
    );
    assert.throws(() => raw.prepare('delete from audit_log').run(), /audit_log is append-only/);
    assert.throws(
      () => raw.prepare("update audit_log set outcome = 'ok' where seq = 1").run(),
      /append-only/,
    );
    // Appending still works from any connection.
    raw
      .prepare(
        "insert into audit_log (at, actor, source, action, outcome) values ('2030-01-01T00:00:00.000Z', 'raw', 'cli', 'gc', 'ok')",
      )
      .run();
  } finally {
    raw.close();
  }
  const entries = await registry.audit.list();
  assert.deepEqual(
    entries.map((e) => e.actor),
    ['raw', 'local', 'local'],
  );
  assert.deepEqual(
    entries.map((e) => e.target),
    [null, 'digits:2', 'digits:1'],
  );
});

test('two registries on one database append and push at once without waiting on each other forever', async (t) => {
  const dir = tempDir('audit-two');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const [a, b] = await Promise.all([Registry.open(dir), Registry.open(dir)]);
  t.after(async () => {
    await a.close();
    await b.close();
  });
  const writes = Array.from({ length: 12 }, (_, i) => {
    const registry = i % 2 === 0 ? a : b;
    return i % 3 === 0
      ? registry.runs.start({
          modelName: 'm',
          kind: 'train',
          parameters: {},
          datasetSha256: null,
          datasetRows: null,
          datasetSource: 'stream',
          codeVersion: 'test',
        })
      : registry.audit.append({ ...push, target: `m:${i}` });
  });
  await Promise.all(writes);
  assert.equal((await a.audit.list()).length, 8);
  assert.equal((await b.runs.list()).length, 4);
  assert.deepEqual(new Set((await b.audit.list()).map((e) => e.seq)).size, 8);
});
