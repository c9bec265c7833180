/**
 * Every command of `tend`, run as a user would with a missing or invalid argument: exit 1 and one
 * line on stderr (`error: …`, or `{"error","code"}` under --json), never a stack trace, nothing on
 * stdout. Also: a --home that does not exist is refused by commands that only read (and not
 * created), and a reader that closes the pipe early ends the command quietly with exit 0.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { buildProgram } from '../src/cli/main.js';
import { CLI, FIXTURE_MODELS, runCli, tempDir, type CliResult } from './helpers.js';

/** Run `tend` without blocking this process, so that several run at once. */
function tendAsync(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++] as T);
  });
  await Promise.all(runners);
}

interface Leaf {
  path: string[];
  /** Whether the command needs something on its command line (an argument or a required option). */
  needsInput: boolean;
  json: boolean;
}

/** Every runnable command of the program, with what it requires. */
function leaves(command: Command, path: string[] = []): Leaf[] {
  const own = command.commands.flatMap((c) => leaves(c, [...path, c.name()]));
  if (path.length === 0) return own;
  const requiredArgs = command.registeredArguments.some((a) => a.required);
  const requiredOptions = command.options.some((o) => o.mandatory);
  const json = command.options.some((o) => o.long === '--json');
  // A command with subcommands that has no action of its own (`tend models`) prints help: not a leaf.
  const isGroup = command.commands.length > 0;
  return isGroup && !requiredArgs
    ? own
    : [{ path, needsInput: requiredArgs || requiredOptions, json }, ...own];
}

function assertOneLineError(r: CliResult, what: string): void {
  assert.equal(r.status, 1, `${what}: exit ${r.status}\n${r.stderr}`);
  assert.equal(r.stdout, '', `${what}: printed on stdout`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `${what}: ${lines.length} lines on stderr:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at |Error: |node:internal/, `${what}: a stack trace`);
}

let home: string;
const missingHome = join(tempDir('cli-errors-parent'), 'typo');

before(async () => {
  home = tempDir('cli-errors');
  const pushed = await tendAsync([
    'push',
    join(FIXTURE_MODELS, 'digits_mlp.onnx'),
    '--name',
    'dm',
    '--home',
    home,
  ]);
  assert.equal(pushed.status, 0, pushed.stderr);
});

after(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(join(missingHome, '..'), { recursive: true, force: true });
});

describe('bad input on the command line', () => {
  const all = leaves(buildProgram());

  test('the program has the commands this test walks', () => {
    const names = all.map((l) => l.path.join(' '));
    for (const expected of ['push', 'models list', 'deploy canary', 'runs show', 'infer', 'serve', 'export'])
      assert.ok(names.includes(expected), `no '${expected}' among ${names.join(', ')}`);
    assert.ok(all.length >= 40, `${all.length} commands`);
  });

  test('every command: a missing argument or an unknown option is exit 1 and one line', async () => {
    await eachLimited(all, 3, async (leaf) => {
      // Commands that need input get none; the others get an option they do not have (never run for real).
      const args = leaf.needsInput ? leaf.path : [...leaf.path, '--no-such-option'];
      const r = await tendAsync(args, { TEND_HOME: home });
      assertOneLineError(r, `tend ${args.join(' ')}`);
      assert.match(r.stderr, /^error: /, `tend ${args.join(' ')}`);
    });
  });

  test('under --json the error is {"error","code"} on one line of stderr', async () => {
    await eachLimited(
      all.filter((l) => l.json),
      3,
      async (leaf) => {
        const args = leaf.needsInput
          ? [...leaf.path, '--json']
          : [...leaf.path, '--json', '--no-such-option'];
        const r = await tendAsync(args, { TEND_HOME: home });
        assertOneLineError(r, `tend ${args.join(' ')}`);
        const parsed = JSON.parse(r.stderr) as { error: string; code: string };
        assert.deepEqual(Object.keys(parsed), ['error', 'code'], `tend ${args.join(' ')}`);
        assert.match(parsed.code, /^TEND_[A-Z_]+$/);
        assert.ok(parsed.error.length > 0);
      },
    );
  });

  test('invalid values: each named, exit 1, one line', async () => {
    const cases: [string[], RegExp][] = [
      [['deploy', 'canary', 'dm', '1', '--percent', 'abc'], /percent is a number from 0 to 100/],
      [['deploy', 'canary', 'dm', '1', '--percent', '5', '--min-requests', '0'], /positive integer/],
      [['serve', '--port', '99999'], /a port is an integer/],
      [['models', 'show', 'dm@'], /not a model reference/],
      [['models', 'show', 'nope'], /model 'nope' not found/],
      [['runs', 'show', 'r-nope'], /r-nope/],
      [['infer', 'dm', '--data', '/no/such/file.csv'], /no\/such\/file\.csv/],
      [['push', '/no/such/model.onnx', '--name', 'x'], /model\.onnx/],
      [['modls', 'list'], /unknown command 'modls'/],
    ];
    await eachLimited(cases, 3, async ([args, message]) => {
      const r = await tendAsync([...args, '--home', home]);
      assertOneLineError(r, `tend ${args.join(' ')}`);
      assert.match(r.stderr, message, `tend ${args.join(' ')}`);
    });
  });
});

describe('--home', () => {
  test('a home that does not exist is refused by reading commands, and not created', async () => {
    for (const args of [
      ['models', 'list'],
      ['runs', 'list'],
      ['deploy', 'status', 'dm'],
      ['monitor', 'show', 'dm'],
      ['token', 'list'],
    ]) {
      const r = await tendAsync([...args, '--home', missingHome]);
      assertOneLineError(r, `tend ${args.join(' ')}`);
      assert.match(r.stderr, /no registry at .*typo \(from --home\)/);
    }
    const viaEnv = await tendAsync(['models', 'list'], { TEND_HOME: missingHome });
    assert.match(viaEnv.stderr, /\(from \$TEND_HOME\)/);
    assert.equal(existsSync(missingHome), false, 'the mistyped home was not created');
  });

  test('push creates the home it is given', () => {
    const fresh = join(tempDir('cli-errors-fresh'), 'new-home');
    try {
      const r = runCli(['push', join(FIXTURE_MODELS, 'digits_mlp.onnx'), '--name', 'dm'], { home: fresh });
      assert.equal(r.status, 0, r.stderr);
      assert.ok(existsSync(fresh));
    } finally {
      rmSync(join(fresh, '..'), { recursive: true, force: true });
    }
  });
});

describe('a closed pipe', () => {
  test('ends the command quietly with exit 0 when the reader is gone (| head -1)', async () => {
    const rows = Array.from({ length: 20 }, (_, r) =>
      Array.from({ length: 64 }, (_, c) => ((r * 7 + c) % 16).toString()).join(','),
    );
    const csv = join(home, 'rows.csv');
    writeFileSync(csv, `${Array.from({ length: 64 }, (_, c) => `p${c}`).join(',')}\n${rows.join('\n')}\n`);
    for (const args of [
      ['infer', 'dm', '--data', csv, '--json'],
      ['models', 'show', 'dm', '--json'],
    ]) {
      const result = await new Promise<{ status: number | null; stderr: string }>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args, '--home', home], {
          env: { ...process.env, NO_COLOR: '1' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stderr = '';
        child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
        // The reader is gone before the command writes (as after `head -1` has its line): every write
        // to stdout fails with EPIPE, however little the command prints.
        child.stdout.destroy();
        child.on('error', reject);
        child.on('close', (status) => resolve({ status, stderr }));
      });
      assert.equal(result.status, 0, `tend ${args.join(' ')}: exit ${result.status}\n${result.stderr}`);
      assert.equal(result.stderr, '', `tend ${args.join(' ')}: no EPIPE trace`);
    }
  });
});
