import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync, utimesSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TendError } from '../../core/errors.js';
import { Registry } from '../../registry/index.js';
import { reportError } from '../output.js';
import {
  exportCommand,
  gcCommand,
  importCommand,
  modelsArchiveCommand,
  modelsDeleteCommand,
  modelsUnarchiveCommand,
} from './lifecycle.js';
import { tempDir } from '../../core/test-support.test-helper.js';

const DIGITS = resolve(import.meta.dirname, '../../../fixtures/models/digits_mlp.onnx');
const CNN = resolve(import.meta.dirname, '../../../fixtures/models/small_cnn.onnx');

/** Run a command with stdout captured. */
async function run(t: TestContext, fn: () => Promise<void>): Promise<string> {
  let out = '';
  const write = t.mock.method(process.stdout, 'write', (chunk: string | Uint8Array) => {
    out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  });
  try {
    await fn();
  } finally {
    write.mock.restore();
  }
  return out;
}

/** The command fails with this code, and the CLI would print it as one line and exit 1. */
async function failsWith(
  t: TestContext,
  fn: () => Promise<void>,
  code: string,
  message: RegExp,
): Promise<void> {
  let caught: unknown;
  await run(t, async () => {
    try {
      await fn();
    } catch (err) {
      caught = err;
    }
  });
  assert.ok(caught instanceof TendError, `expected a TendError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.match(caught.message, message);
  let printed = '';
  const stderr = t.mock.method(process.stderr, 'write', (chunk: string) => {
    printed += chunk;
    return true;
  });
  const exitCode = reportError(caught);
  stderr.mock.restore();
  assert.equal(exitCode, 1);
  assert.equal(printed.trim().split('\n').length, 1);
  assert.match(printed, /^error: /);
}

async function makeHome(t: TestContext): Promise<string> {
  const dir = tempDir('cli-lifecycle');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const home = join(dir, 'home');
  const registry = await Registry.open(home, { actor: 'setup' });
  await registry.models.push(DIGITS, { name: 'digits', aliases: ['champion'] });
  await registry.models.push(CNN, { name: 'digits' });
  await registry.close();
  return home;
}

test('models archive / unarchive / delete', async (t) => {
  process.env['TEND_ACTOR'] = 'cli-tester';
  const home = await makeHome(t);
  const archived = JSON.parse(
    await run(t, () => modelsArchiveCommand('digits@2', { home, json: true })),
  ) as Record<string, unknown>;
  assert.deepEqual(
    [archived['version'], archived['archived'], archived['archived_by']],
    [2, true, 'cli-tester'],
  );
  assert.match(
    await run(t, () => modelsUnarchiveCommand('digits@2', { home })),
    /unarchived digits version 2/,
  );
  assert.match(
    await run(t, () => modelsArchiveCommand('digits@2', { home })),
    /archived digits version 2: kept, no longer served/,
  );

  await failsWith(
    t,
    () => modelsArchiveCommand('digits@1', { home }),
    'TEND_CONFLICT',
    /alias 'champion' points at it/,
  );
  await failsWith(t, () => modelsArchiveCommand('digits', { home }), 'TEND_INVALID_ARGUMENT', /NAME@VERSION/);
  await failsWith(
    t,
    () => modelsArchiveCommand('digits@champion', { home }),
    'TEND_INVALID_ARGUMENT',
    /version number/,
  );
  await failsWith(
    t,
    () => modelsArchiveCommand('digits@9', { home }),
    'TEND_VERSION_NOT_FOUND',
    /no version '9'/,
  );
  await failsWith(t, () => modelsDeleteCommand('nope@1', { home }), 'TEND_MODEL_NOT_FOUND', /'nope'/);

  assert.match(
    await run(t, () => modelsDeleteCommand('digits@2', { home })),
    /deleted digits version 2; `tend gc`/,
  );
  await failsWith(t, () => modelsDeleteCommand('digits@1', { home }), 'TEND_CONFLICT', /alias 'champion'/);
  await failsWith(t, () => modelsDeleteCommand('digits', { home }), 'TEND_INVALID_ARGUMENT', /add --yes/);
  await failsWith(
    t,
    () => modelsDeleteCommand('digits', { home, yes: true }),
    'TEND_CONFLICT',
    /alias 'champion'/,
  );

  const registry = await Registry.open(home);
  await registry.models.removeAlias('digits', 'champion');
  await registry.close();
  const deleted = JSON.parse(
    await run(t, () => modelsDeleteCommand('digits', { home, yes: true, json: true })),
  ) as Record<string, unknown>;
  assert.deepEqual(deleted, { name: 'digits', versions_deleted: 1, deleted: true });
});

test('gc, export and import', async (t) => {
  const home = await makeHome(t);
  const out = join(home, '..', 'digits.tar');
  assert.match(
    await run(t, () => exportCommand('digits', { home, out })),
    /exported digits \(2 version\(s\), 2 model file\(s\).*\n.*tar tf/,
  );
  assert.ok(existsSync(out));
  await failsWith(
    t,
    () => exportCommand('digits@1', { home, out }),
    'TEND_INVALID_ARGUMENT',
    /takes a model NAME/,
  );
  await failsWith(t, () => exportCommand('nope', { home, out }), 'TEND_MODEL_NOT_FOUND', /'nope'/);

  await failsWith(t, () => importCommand(out, { home }), 'TEND_CONFLICT', /already exists.*--as/);
  const imported = JSON.parse(
    await run(t, () => importCommand(out, { home, as: 'copy', json: true })),
  ) as Record<string, unknown>;
  assert.deepEqual(imported, {
    name: 'copy',
    original_name: 'digits',
    versions: [1, 2],
    aliases: { champion: 1 },
    files_written: 0,
    // Export/import carries the attached files and runs too (none for these pushed versions).
    artifacts: 0,
    runs: 0,
  });
  assert.match(
    await run(t, () => importCommand(out, { home, as: 'copy2' })),
    /imported digits \(as copy2\): versions 1, 2; aliases champion→1/,
  );
  await failsWith(
    t,
    () => importCommand(DIGITS, { home }),
    'TEND_INVALID_ARCHIVE',
    /digits_mlp\.onnx is not a tar archive/,
  );

  for (const name of ['digits', 'copy', 'copy2'])
    await run(t, () => modelsDeleteCommand(`${name}@2`, { home }));
  const registry = await Registry.open(home);
  const cnn = (await registry.files.blobs.list()).find((f) => f.size_bytes > 50_000);
  await registry.close();
  assert.ok(cnn !== undefined);
  // Just written: kept by the minimum age; an hour old: collected.
  assert.match(await run(t, () => gcCommand({ home })), /removed 0 file\(s\), 0 B; kept 2/);
  utimesSync(cnn.path, new Date(Date.now() - 3600_000), new Date(Date.now() - 3600_000));
  const dry = JSON.parse(await run(t, () => gcCommand({ home, dryRun: true, json: true }))) as {
    removed: { sha256: string }[];
    dry_run: boolean;
  };
  assert.deepEqual([dry.dry_run, dry.removed.map((f) => f.sha256)], [true, [cnn.sha256]]);
  assert.match(await run(t, () => gcCommand({ home })), /removed 1 file\(s\), 101\.1 KiB; kept 1/);
  assert.ok(!existsSync(cnn.path));
});
