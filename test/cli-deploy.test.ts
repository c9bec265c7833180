/** `tend deploy …` end to end through the CLI: the same route objects and history as the REST API. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from '../src/registry/index.js';
import { FIXTURE_MODELS, tempDir, runCli, type CliResult } from './helpers.js';

let home: string;

const tend = (...args: string[]): CliResult => runCli(args, { home, env: { TEND_ACTOR: 'tester' } });

function json(...args: string[]): Record<string, unknown> {
  const r = tend(...args, '--json');
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

before(async () => {
  home = tempDir('cli-deploy');
  const registry = await Registry.open(home);
  for (let i = 0; i < 3; i++)
    await registry.models.push(join(FIXTURE_MODELS, 'digits_mlp.onnx'), {
      name: 'digits',
      aliases: i === 0 ? ['champion'] : [],
    });
  await registry.close();
});

after(() => rmSync(home, { recursive: true, force: true }));

test('canary, experiment, promote, rollback, status and history', () => {
  const canary = json('deploy', 'canary', 'digits', 'digits@2', '--percent', '10', '--reason', 'try v2');
  assert.deepEqual(canary['routes'], { champion: 'champion', canary: { version: '2', percent: 10 } });
  assert.deepEqual(json('deploy', 'status', 'digits')['routes'], canary['routes']);
  const promoted = json('deploy', 'promote', 'digits');
  assert.deepEqual(promoted['routes'], { champion: '2' });
  const experiment = json('deploy', 'experiment', 'digits', '2=50', '3=50', '--sticky-by', 'X-User');
  assert.deepEqual(experiment['routes'], {
    champion: '2',
    experiment: {
      variants: [
        { version: '2', weight: 50 },
        { version: '3', weight: 50 },
      ],
      sticky_by: 'x-user',
    },
  });
  const refused = tend('deploy', 'promote', 'digits');
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /runs an experiment/);
  assert.deepEqual(json('deploy', 'rollback', 'digits')['routes'], { champion: '2' });
  const history = JSON.parse(tend('deploy', 'history', 'digits', '--json').stdout) as {
    action: string;
    actor: string;
    reason: string | null;
  }[];
  assert.deepEqual(
    history.map((h) => h.action),
    ['rollback', 'experiment', 'promote', 'canary'],
  );
  assert.equal(history[3]?.reason, 'try v2');
  assert.equal(history[0]?.actor, 'tester');
  const table = tend('deploy', 'history', 'digits');
  assert.match(table.stdout, /rollback/);
});

test('bad arguments exit 1 with one line and change nothing', () => {
  const before = json('deploy', 'status', 'digits')['routes'];
  for (const [args, message] of [
    [['deploy', 'canary', 'digits', '3', '--percent', '150'], /percent is a number from 0 to 100/],
    [['deploy', 'canary', 'digits', '9', '--percent', '5'], /has no version '9'/],
    [
      ['deploy', 'canary', 'digits', 'other@2', '--percent', '5'],
      /a version of 'other', not of the endpoint 'digits'/,
    ],
    [['deploy', 'experiment', 'digits', '2=x', '3=1'], /must look like REF=WEIGHT/],
    [['deploy', 'status', 'nope'], /not found/],
  ] as const) {
    const r = tend(...args);
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  assert.deepEqual(json('deploy', 'status', 'digits')['routes'], before);
});
