/**
 * Issue 9 end to end, as a user runs it: `tend train` registers a version with its run and its
 * training data as reference; `tend update` in every mode makes new versions with lineage; `tend runs`
 * lists, shows and compares; bad data is refused with one clear line and changes nothing served.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from '../src/registry/index.js';
import { ROOT, tempDir, runCli, runCliJson, type CliResult } from './helpers.js';

const IRIS = join(ROOT, 'fixtures', 'train', 'iris.csv');
const DIABETES = join(ROOT, 'fixtures', 'train', 'diabetes.csv');

const AS_TESTER = { env: { TEND_ACTOR: 'tester' }, timeoutMs: 180_000 };
const tend = (args: string[], home: string): CliResult => runCli(args, { home, ...AS_TESTER });

const tendJson = (args: string[], home: string) =>
  runCliJson(args, { home, ...AS_TESTER }) as Record<string, unknown>;

let home: string;
let work: string;
const irisLines = readFileSync(IRIS, 'utf8').trim().split('\n');

/** A CSV of iris rows (header kept), optionally edited. */
function irisCsv(name: string, rows: string[]): string {
  const path = join(work, name);
  writeFileSync(path, `${[irisLines[0], ...rows].join('\n')}\n`);
  return path;
}

before(() => {
  home = tempDir('train-home');
  work = tempDir('train-work');
});

after(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

describe('tend train', () => {
  test('softmax on iris: the interface JSON, a run, the reference attached, the graph metadata', async () => {
    const out = tendJson(
      [
        'train',
        '--data',
        IRIS,
        '--target',
        'species',
        '--model',
        'softmax',
        '--name',
        'iris',
        '--alias',
        'champion',
        '--seed',
        '3',
      ],
      home,
    );
    assert.deepEqual(Object.keys(out), ['name', 'version', 'run', 'metrics', 'classes']);
    assert.equal(out['name'], 'iris');
    assert.equal(out['version'], 1);
    assert.deepEqual(out['classes'], ['setosa', 'versicolor', 'virginica']);
    const metrics = out['metrics'] as Record<string, number>;
    assert.ok((metrics['train_accuracy'] as number) > 0.9, JSON.stringify(metrics));
    assert.equal(metrics['converged'] as unknown, true, 'yes/no metrics print as booleans');

    const registry = await Registry.open(home);
    try {
      const version = await registry.models.getVersion('iris', 1);
      assert.equal(version.run_id, out['run']);
      assert.deepEqual(
        version.signature.inputs.map((i) => [i.name, i.datatype, i.shape]),
        [['features', 'FP32', ['batch', 4]]],
      );
      assert.deepEqual(version.signature.outputs.map((o) => o.name).sort(), ['label', 'probabilities']);
      assert.equal(
        version.model_info.metadata['classes'],
        JSON.stringify(['setosa', 'versicolor', 'virginica']),
      );
      const reference = await registry.artifacts.read('iris', 1, 'reference');
      assert.equal(reference?.bytes.toString('utf8').trim().split('\n').length, irisLines.length);
      const run = await registry.runs.get(out['run'] as string);
      assert.equal(run.status, 'finished');
      assert.equal(run.produced_version, 1);
      assert.equal(run.dataset_rows, irisLines.length - 1);
      assert.match(run.dataset_sha256 ?? '', /^[0-9a-f]{64}$/);
      assert.equal(run.parameters['model'], 'softmax');
      assert.ok(run.epochs.length >= 1);
      assert.match(run.code_version, /^tend /);
    } finally {
      await registry.close();
    }

    // `tend infer` shows the class a row is given by its name, as the model stores them.
    const features = join(work, 'iris-features.csv');
    const rows = [irisLines[0], irisLines[1], irisLines[irisLines.length - 1]].map((line) =>
      (line as string).split(',').slice(0, 4).join(','),
    );
    writeFileSync(features, `${rows.join('\n')}\n`);
    const shown = tend(['infer', 'iris', '--data', features], home);
    assert.equal(shown.status, 0, shown.stderr);
    assert.match(shown.stdout, /row 0: .*label=setosa/);
    assert.match(shown.stdout, /row 1: .*label=virginica/);
  });

  test('linear regression on diabetes and an MLP regressor; runs list, show and compare', () => {
    const linear = tendJson(
      ['train', '--data', DIABETES, '--target', 'progression', '--model', 'linear', '--name', 'diabetes'],
      home,
    );
    assert.deepEqual(linear['classes'], []);
    assert.ok(((linear['metrics'] as Record<string, number>)['train_r2'] as number) > 0.45);
    const mlp = tendJson(
      [
        'train',
        '--data',
        DIABETES,
        '--target',
        'progression',
        '--model',
        'mlp',
        '--task',
        'regression',
        '--hidden',
        '16',
        '--epochs',
        '20',
        '--name',
        'diabetes',
      ],
      home,
    );
    assert.equal(mlp['version'], 2);
    const runs = tendJson(['runs', 'list', '--model', 'diabetes'], home) as {
      runs: { run: string; name: string; version: number }[];
    };
    assert.deepEqual(
      runs.runs.map((r) => [r.run, r.name, r.version]),
      [
        [mlp['run'], 'diabetes', 2],
        [linear['run'], 'diabetes', 1],
      ],
    );
    const shown = tendJson(['runs', 'show', mlp['run'] as string], home);
    assert.equal(shown['kind'], 'train');
    assert.equal(shown['run'], mlp['run']);
    assert.equal(shown['run_id'], undefined, 'the CLI prints `run`, as train --json does');
    const compared = tendJson(['runs', 'compare', linear['run'] as string, mlp['run'] as string], home) as {
      parameters: { key: string; differs: boolean }[];
    };
    assert.equal(compared.parameters.find((p) => p.key === 'model')?.differs, true);
    const table = tend(['runs', 'compare', linear['run'] as string, mlp['run'] as string], home);
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /\* model/);
  });

  test('bad data: one clear line, exit 1, nothing registered', async () => {
    const cases: [string, string[], RegExp][] = [
      ['empty', [], /empty|no rows|fewer than 2/i],
      [
        'text',
        [irisLines[1]?.replace(/^[^,]+/, 'abc') as string, irisLines[2] as string, irisLines[60] as string],
        /line 2.*sepal|not a number|non-numeric/i,
      ],
      [
        'nan',
        [irisLines[1]?.replace(/^[^,]+/, 'NaN') as string, irisLines[2] as string, irisLines[60] as string],
        /NaN|not a number|line 2/i,
      ],
      ['single', irisLines.slice(1, 20), /one class|single class|only one/i],
    ];
    for (const [name, rows, message] of cases) {
      const path = name === 'empty' ? join(work, 'empty.csv') : irisCsv(`${name}.csv`, rows);
      if (name === 'empty') writeFileSync(path, '');
      const r = tend(
        ['train', '--data', path, '--target', 'species', '--model', 'softmax', '--name', 'bad'],
        home,
      );
      assert.equal(r.status, 1, `${name}: ${r.stderr}`);
      assert.match(r.stderr, message, name);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
    const missing = tend(
      ['train', '--data', IRIS, '--target', 'kind', '--model', 'softmax', '--name', 'bad'],
      home,
    );
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /target column 'kind'/);
    const lr = tend(
      ['train', '--data', IRIS, '--target', 'species', '--model', 'mlp', '--lr', '0', '--name', 'bad'],
      home,
    );
    assert.equal(lr.status, 1);
    assert.match(lr.stderr, /--lr '0' must be greater than 0/);
    const negative = tend(
      ['train', '--data', IRIS, '--target', 'species', '--model', 'mlp', '--lr', '-1', '--name', 'bad'],
      home,
    );
    assert.equal(negative.status, 1);
    const kind = tend(
      ['train', '--data', IRIS, '--target', 'species', '--model', 'forest', '--name', 'bad'],
      home,
    );
    assert.equal(kind.status, 1);
    assert.match(kind.stderr, /--model 'forest' must be one of linear, ridge, logistic, softmax, mlp/);
    const registry = await Registry.open(home);
    try {
      assert.deepEqual(
        (await registry.models.list()).map((m) => m.name).filter((n) => n === 'bad'),
        [],
      );
    } finally {
      await registry.close();
    }
  });
});

describe('tend update', () => {
  test('minibatch, batch, online and incremental make new versions with lineage; the parent is unchanged', async () => {
    const fresh = irisCsv(
      'fresh.csv',
      irisLines.slice(1).filter((_, i) => i % 3 === 0),
    );
    const before = readFileSync(join(home, 'registry.db')).length > 0;
    assert.ok(before);
    const minibatch = tendJson(
      ['update', 'iris@champion', '--data', fresh, '--mode', 'minibatch', '--epochs', '3'],
      home,
    );
    assert.equal(minibatch['parent_version'], 1);
    assert.equal(minibatch['version'], 2);
    const batch = tendJson(
      ['update', 'iris@2', '--data', fresh, '--mode', 'batch', '--epochs', '5', '--alias', 'candidate'],
      home,
    );
    assert.equal(batch['parent_version'], 2);
    const online = tendJson(['update', 'iris', '--data', fresh, '--mode', 'online'], home);
    assert.equal(online['mode'], 'online');
    assert.ok(
      typeof (online['metrics'] as Record<string, number>)['progressive_accuracy'] === 'number',
      JSON.stringify(online['metrics']),
    );
    const incremental = tendJson(
      [
        'update',
        'iris@1',
        '--data',
        fresh,
        '--mode',
        'incremental',
        '--replay',
        '30',
        '--epochs',
        '2',
        '--canary',
        '10',
      ],
      home,
    );
    assert.equal(incremental['parent_version'], 1);

    const registry = await Registry.open(home);
    try {
      const versions = await registry.models.listVersions('iris');
      assert.deepEqual(
        versions.map((v) => [v.version, v.parent_version]),
        [
          [1, null],
          [2, 1],
          [3, 2],
          [4, 3],
          [5, 1],
        ],
      );
      assert.equal((await registry.models.listAliases('iris'))['champion'], 1);
      assert.equal((await registry.models.listAliases('iris'))['candidate'], 3);
      const runs = await registry.runs.list({ model: 'iris' });
      assert.deepEqual(runs.map((r) => r.kind).sort(), [
        'train',
        'update:batch',
        'update:incremental',
        'update:minibatch',
        'update:online',
      ]);
      assert.equal((await registry.runs.get(incremental['run'] as string)).parameters['replay'], 30);
      // Each update's data is its version's monitoring reference.
      const reference = await registry.artifacts.read('iris', 2, 'reference');
      assert.equal(reference?.bytes.toString('utf8'), readFileSync(fresh, 'utf8'));
      const deployment = await registry.deployments.get('iris');
      assert.deepEqual(
        [deployment?.routes.champion, deployment?.routes.canary?.version, deployment?.routes.canary?.percent],
        ['1', '5', 10],
      );
    } finally {
      await registry.close();
    }
  });

  test('a failed update changes nothing: wrong columns, unknown class, a model tend did not train', async () => {
    const registry = await Registry.open(home);
    const versionsBefore = (await registry.models.listVersions('iris')).length;
    await registry.close();
    const wrongColumns = join(work, 'wrong.csv');
    writeFileSync(wrongColumns, 'a,b,species\n1,2,setosa\n3,4,virginica\n');
    const wrong = tend(['update', 'iris', '--data', wrongColumns, '--mode', 'minibatch'], home);
    assert.equal(wrong.status, 1);
    assert.match(wrong.stderr, /columns/);
    const unknownClass = irisCsv('unknown.csv', [irisLines[1]?.replace(/setosa/, 'rose') as string]);
    const unknown = tend(['update', 'iris', '--data', unknownClass, '--mode', 'online'], home);
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /rose/);
    const badMode = tend(['update', 'iris', '--data', IRIS, '--mode', 'sometimes'], home);
    assert.equal(badMode.status, 1);
    assert.match(badMode.stderr, /--mode 'sometimes' must be one of online, minibatch, batch, incremental/);
    const replayWithoutIncremental = tend(
      ['update', 'iris', '--data', IRIS, '--mode', 'batch', '--replay', '5'],
      home,
    );
    assert.equal(replayWithoutIncremental.status, 1);
    const pushed = tend(
      ['push', join(ROOT, 'fixtures', 'models', 'digits_mlp.onnx'), '--name', 'foreign'],
      home,
    );
    assert.equal(pushed.status, 0, pushed.stderr);
    const foreign = tend(['update', 'foreign', '--data', IRIS, '--mode', 'batch'], home);
    assert.equal(foreign.status, 1);
    assert.match(foreign.stderr, /foreign version 1 cannot be updated/);
    const after = await Registry.open(home);
    try {
      assert.equal((await after.models.listVersions('iris')).length, versionsBefore);
      assert.equal((await after.models.listAliases('iris'))['champion'], 1);
    } finally {
      await after.close();
    }
  });
});
