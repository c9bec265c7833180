/**
 * `tend tune` killed with SIGKILL half-way through a study, then `--resume`d: every trial number is
 * there exactly once at the end, trials finished before the kill are kept (never re-run), and the
 * ones the dead process left running are re-run with the same parameters.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from '../src/registry/index.js';
import { CLI, runCli, runCliJson, tempDir } from './helpers.js';

const TRIALS = 12;

async function waitFor(check: () => boolean, what: string, timeoutMs = 90_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function trialsOf(home: string, study: string) {
  const registry = await Registry.open(home);
  try {
    return await registry.studies.listTrials(study);
  } finally {
    await registry.close();
  }
}

test('a study killed with kill -9 resumes with no lost and no duplicated trials', async (t) => {
  const dir = tempDir('tune-kill', t);
  const home = join(dir, 'home');
  const log = join(dir, 'starts.log');
  const script = join(dir, 'slow.py');
  writeFileSync(
    script,
    `import json, os, time
p = json.loads(os.environ["TEND_PARAMS"])
with open(${JSON.stringify(log)}, "a") as f:
    f.write(os.environ["TEND_TRIAL"] + " " + json.dumps(p, sort_keys=True) + "\\n")
time.sleep(0.3)
json.dump({"value": (p["x"] - 0.5) ** 2}, open(os.path.join(os.environ["TEND_OUTPUT_DIR"], "metrics.json"), "w"))
`,
  );
  const space = join(dir, 'space.yaml');
  writeFileSync(space, 'x: {type: float, low: 0, high: 1}\n');
  const args = [
    'tune',
    '--command',
    `/usr/bin/python3 ${script}`,
    '--space',
    space,
    '--trials',
    String(TRIALS),
    '--jobs',
    '2',
    '--study',
    'killed',
    '--home',
    home,
  ];
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    stdio: 'ignore',
    env: { ...process.env, NO_COLOR: '1' },
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_code, signal) => resolve(signal)),
  );
  const studyDir = join(home, 'tune', 'killed');
  // Kill once a few trials have started (so some finished and some are running).
  await waitFor(() => existsSync(studyDir) && readdirSync(studyDir).length >= 5, 'five trials to start');
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 500)); // orphaned commands of the dead run finish
  const before = await trialsOf(home, 'killed');
  const ended = before.filter((x) => x.state !== 'running');
  const stale = before.filter((x) => x.state === 'running');
  assert.ok(before.length < TRIALS, `the kill came half-way (${before.length} trials recorded)`);
  assert.ok(stale.length >= 1, 'the dead run left trials running');

  const result = runCliJson([...args, '--resume']) as { trials: number; best: { trial: number } | null };
  assert.equal(result.trials, TRIALS);
  const after = await trialsOf(home, 'killed');
  assert.deepEqual(
    after.map((x) => x.number),
    Array.from({ length: TRIALS }, (_, i) => i),
  );
  assert.ok(
    after.every((x) => x.state === 'complete'),
    JSON.stringify(after.map((x) => x.state)),
  );
  // Ended trials were kept as they were; stale ones re-ran with their own parameters.
  for (const old of ended)
    assert.deepEqual(after[old.number], {
      ...after[old.number],
      params: old.params,
      value: old.value,
      state: old.state,
    });
  for (const old of stale) assert.deepEqual(after[old.number]?.params, old.params);
  const starts = readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((line) => Number(line.split(' ')[0]));
  for (let n = 0; n < TRIALS; n++) {
    const count = starts.filter((s) => s === n).length;
    // A stale trial's command may or may not have started before the kill; every other trial ran once.
    const expected = stale.some((x) => x.number === n) ? [1, 2] : [1];
    assert.ok(expected.includes(count), `trial ${n} started ${count} times`);
  }
});

test('tend tune refuses bad input with one line and exit 1, before any trial; list and show read studies', () => {
  const dir = tempDir('tune-cli');
  const home = join(dir, 'home');
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'lr: {type: float, low: 0, high: 0.1, log: true}\n');
  const r = runCli(['tune', '--command', 'true', '--space', bad, '--trials', '3'], { home });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^error: .*bad\.yaml: parameter 'lr': a log scale needs low > 0 \(low is 0\)/);
  const noName = runCli(
    ['tune', '--data', 'x.csv', '--target', 'y', '--model', 'mlp', '--space', bad, '--trials', '3'],
    {
      home,
    },
  );
  assert.equal(noName.status, 1);
  assert.match(noName.stderr, /--name is required with --model/);
  assert.deepEqual(runCliJson(['tune', 'list'], { home }), []);
  const missing = runCli(['tune', 'show', 'nope'], { home });
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /study 'nope' not found/);
  rmSync(dir, { recursive: true, force: true });
});
