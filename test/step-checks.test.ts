/**
 * The kill loop's step checks (fuzz/step-checks.ts) on made-up registry states: they must report a
 * version left without an alias its push asked for (what a kill between two commits used to leave),
 * a version without its 'ok' entry and an 'ok' entry without its version, and pass a whole push.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RegistryState } from './fuzz/crash-checks.js';
import { checkStep, type StepIntent } from './fuzz/step-checks.js';

const SHA = 'a'.repeat(64);

function state(over: Partial<RegistryState> = {}): RegistryState {
  return {
    versions: [{ model_name: 'big', version: 1, sha256: SHA, size_bytes: 10, status: 'ready' }],
    aliases: [{ model_name: 'big', alias: 'staging', version: 1 }],
    tokens: [{ id: 't1', revoked_at: null }],
    audit: [{ seq: 1, action: 'model.push', target: 'big', outcome: 'ok', after: { version: 1 } }],
    tempFiles: 0,
    blobFiles: 1,
    ...over,
  };
}

const before = state();
const v2 = { model_name: 'big', version: 2, sha256: SHA, size_bytes: 10, status: 'ready' };
const push: StepIntent = { kind: 'push', model: 'big', aliases: ['staging', 'candidate'] };
const pushOk = { seq: 2, action: 'model.push', target: 'big', outcome: 'ok', after: { version: 2 } };
const killed = { killed: true, code: null };

test('a whole push passes, killed or finished; a push that did nothing passes when killed', () => {
  const after = state({
    versions: [...before.versions, v2],
    aliases: [
      { model_name: 'big', alias: 'staging', version: 2 },
      { model_name: 'big', alias: 'candidate', version: 2 },
    ],
    audit: [...before.audit, pushOk],
  });
  assert.deepEqual(checkStep(before, after, push, killed), []);
  assert.deepEqual(checkStep(before, after, push, { killed: false, code: 0 }), []);
  assert.deepEqual(checkStep(before, before, push, killed), []);
  assert.equal(
    checkStep(before, before, push, { killed: false, code: 0 }).length,
    1,
    'exit 0 without a version',
  );
});

test('a version without an alias its push asked for is reported', () => {
  const after = state({
    versions: [...before.versions, v2],
    aliases: [{ model_name: 'big', alias: 'staging', version: 2 }],
    audit: [...before.audit, pushOk],
  });
  const problems = checkStep(before, after, push, killed);
  assert.equal(problems.length, 1);
  assert.match(problems[0] ?? '', /big version 2 exists without alias\(es\) candidate/);
});

test("a version without its 'ok' entry, and an 'ok' entry without its version, are reported", () => {
  const aliases = [
    { model_name: 'big', alias: 'staging', version: 2 },
    { model_name: 'big', alias: 'candidate', version: 2 },
  ];
  const unaudited = checkStep(before, state({ versions: [...before.versions, v2], aliases }), push, killed);
  assert.match(unaudited.join('\n'), /versions created \["big:2"\] but 'ok' push entries for \[\]/);
  const phantom = checkStep(before, state({ audit: [...before.audit, pushOk] }), push, killed);
  assert.match(phantom.join('\n'), /versions created \[\] but 'ok' push entries for \["big:2"\]/);
});

test('alias set and token revoke: elsewhere than asked, or ok without the change, are reported', () => {
  const move: StepIntent = { kind: 'alias', model: 'big', alias: 'staging', version: 1 };
  const elsewhere = state({ aliases: [{ model_name: 'big', alias: 'staging', version: 7 }] });
  assert.equal(checkStep(before, elsewhere, move, killed).length, 1);
  const claimed = state({
    audit: [...before.audit, { seq: 2, action: 'token.revoke', target: 't1', outcome: 'ok', after: null }],
  });
  assert.match(
    checkStep(before, claimed, { kind: 'revoke', id: 't1' }, killed).join('\n'),
    /'ok' token\.revoke for t1 but the token is not revoked/,
  );
  const revoked = state({ tokens: [{ id: 't1', revoked_at: '2026-01-01T00:00:00.000Z' }] });
  assert.deepEqual(checkStep(before, revoked, { kind: 'revoke', id: 't1' }, { killed: false, code: 0 }), []);
  assert.match(
    checkStep(revoked, before, { kind: 'other' }, killed).join('\n'),
    /was revoked and no longer is/,
  );
});
