/** `tend deploy …` end to end through the CLI: the same route objects and history as the REST API. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from '../src/registry/index.js';
import {
  FIXTURE_MODELS,
  postJson,
  runCli,
  seededRandom,
  startTestServer,
  tempDir,
  type CliResult,
} from './helpers.js';

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

test('a first canary without a champion alias compares with the version serving before it', async () => {
  const fresh = tempDir('cli-deploy-fresh');
  try {
    const cli = (...args: string[]) => runCli(args, { home: fresh, env: { TEND_ACTOR: 'tester' } });
    for (let i = 0; i < 2; i++)
      assert.equal(cli('push', join(FIXTURE_MODELS, 'digits_mlp.onnx'), '--name', 'dm').status, 0);
    const canary = cli('deploy', 'canary', 'dm', 'dm@2', '--percent', '10');
    assert.equal(canary.status, 0, canary.stderr);
    assert.match(canary.stdout, /champion: dm@1 \(serving before 2\) 90%, canary: dm@2 10%/);
    const status = JSON.parse(cli('deploy', 'status', 'dm', '--json').stdout) as Record<string, unknown>;
    assert.deepEqual(status['routes'], { champion: '1', canary: { version: '2', percent: 10 } });

    const srv = await startTestServer({ home: fresh });
    try {
      const r = seededRandom(3);
      const pixels = Array.from({ length: 64 }, () => r());
      const counts = new Map<string, number>();
      const n = 3000;
      for (let start = 0; start < n; start += 100) {
        const batch = await Promise.all(
          Array.from({ length: 100 }, (_, i) =>
            postJson(`${srv.url}/v2/models/dm/infer`, {
              id: `first-canary-${start + i}`,
              inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 64], data: pixels }],
            }),
          ),
        );
        for (const res of batch) {
          assert.equal(res.status, 200, JSON.stringify(res.body));
          const version = String(res.body['model_version']);
          counts.set(version, (counts.get(version) ?? 0) + 1);
        }
      }
      assert.deepEqual([...counts.keys()].sort(), ['1', '2'], 'answered by versions 1 and 2 only');
      const share = (counts.get('2') ?? 0) / n;
      assert.ok(Math.abs(share - 0.1) <= 0.02, `canary share ${share}`);
    } finally {
      await srv.close();
    }
  } finally {
    rmSync(fresh, { recursive: true, force: true });
  }
});

test('canary policy flags write the policy keys; a lone version has no champion to compare with', () => {
  const fresh = tempDir('cli-deploy-policy');
  try {
    const cli = (...args: string[]) => runCli(args, { home: fresh, env: { TEND_ACTOR: 'tester' } });
    assert.equal(cli('push', join(FIXTURE_MODELS, 'digits_mlp.onnx'), '--name', 'dm').status, 0);
    const lone = cli('deploy', 'canary', 'dm', '1', '--percent', '10');
    assert.equal(lone.status, 1);
    assert.match(lone.stderr, /^error: 'dm' has no version to serve beside 1: .*push another version/);
    assert.equal(lone.stderr.trim().split('\n').length, 1);
    assert.equal(cli('push', join(FIXTURE_MODELS, 'digits_mlp.onnx'), '--name', 'dm').status, 0);
    // An experiment over every version still starts: its variants take all the traffic.
    const fresh2 = tempDir('cli-deploy-experiment');
    try {
      for (let i = 0; i < 2; i++)
        runCli(['push', join(FIXTURE_MODELS, 'digits_mlp.onnx'), '--name', 'ab'], { home: fresh2 });
      const ab = runCli(['deploy', 'experiment', 'ab', '1=50', '2=50'], { home: fresh2 });
      assert.equal(ab.status, 0, ab.stderr);
      assert.match(
        ab.stdout,
        /champion: ab@2 \(the highest ready version\) \(answers none while the experiment runs\)/,
      );
    } finally {
      rmSync(fresh2, { recursive: true, force: true });
    }
    const shadow = cli('deploy', 'shadow', 'dm', '2');
    assert.match(shadow.stdout, /champion: dm@1 \(serving before 2\) 100%, shadow: dm@2/);
    const args = [
      ...['deploy', 'canary', 'dm', '2', '--percent', '5', '--min-requests', '50'],
      ...['--max-error-rate-increase', '0.1', '--max-p99-ratio', '2', '--promote-after-requests', '500'],
      ...['--promote-after', '10m', '--quality-metric', 'accuracy', '--max-quality-drop', '0.01'],
      ...['--min-labelled', '20', '--no-auto-rollback', '--json'],
    ];
    const written = cli(...args);
    assert.equal(written.status, 0, written.stderr);
    const routes = (JSON.parse(written.stdout) as { routes: Record<string, unknown> }).routes;
    assert.deepEqual(routes, {
      champion: '1',
      shadow: { version: '2' },
      canary: {
        version: '2',
        percent: 5,
        policy: {
          auto_rollback: false,
          min_requests: 50,
          max_error_rate_increase: 0.1,
          max_p99_ratio: 2,
          promote_after_requests: 500,
          promote_after_seconds: 600,
          quality_metric: 'accuracy',
          max_quality_drop: 0.01,
          min_labelled: 20,
        },
      },
    });
    const bad = cli('deploy', 'canary', 'dm', '2', '--percent', '5', '--quality-metric', 'nope');
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /quality_metric must be one of accuracy/);
  } finally {
    rmSync(fresh, { recursive: true, force: true });
  }
});
