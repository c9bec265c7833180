import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TendError } from '../../core/errors.js';
import { tempDir } from '../../core/test-support.test-helper.js';
import { Registry } from '../../registry/index.js';
import { metricFrom } from './tune-command-objective.js';
import { tuneAndRegister } from './tune-job.js';
import { studyReport } from './tune-report.js';

const DIGITS = resolve(import.meta.dirname, '../../../assets/datasets/digits.csv');
const PYTHON = '/usr/bin/python3';

async function openHome(t: { after(fn: () => unknown): void }): Promise<{ registry: Registry; dir: string }> {
  const dir = tempDir('tune-job', t);
  const registry = await Registry.open(join(dir, 'home'), { actor: 'tester' });
  t.after(() => registry.close());
  return { registry, dir };
}

function write(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const invalid = (pattern: RegExp) => (err: unknown) =>
  err instanceof TendError && err.code === 'TEND_INVALID_ARGUMENT' && pattern.test(err.message);

test('an MLP study on digits: pruned and complete trials stored, the best model registered with its lineage', async (t) => {
  const { registry, dir } = await openHome(t);
  const space = write(
    dir,
    'space.yaml',
    'lr: {type: float, low: 0.0005, high: 0.05, log: true}\nhidden: {type: categorical, choices: [8, 32]}\nepochs: {type: int, low: 4, high: 12, step: 4}\n',
  );
  const result = await tuneAndRegister(registry, {
    space,
    trials: 10,
    data: DIGITS,
    target: 'digit',
    model: 'mlp',
    study: 'digits-mlp',
    name: 'digits-tuned',
    seed: 1,
    jobs: 1,
  });
  assert.equal(result.study, 'digits-mlp');
  assert.equal(result.trials, 10);
  assert.ok(result.best !== null && result.best.value > 0.85, JSON.stringify(result.best));
  assert.equal(result.version, 1);
  const report = await studyReport(registry, 'digits-mlp');
  assert.equal(report.study.status, 'finished');
  assert.equal(report.study.produced_version, 1);
  assert.equal(report.best?.number, result.best?.trial);
  assert.ok(report.trials.every((x) => x.state === 'complete' || x.state === 'pruned'));
  assert.ok(
    report.trials.some((x) => x.intermediate.length > 0),
    'epochs reported as intermediate values',
  );
  assert.deepEqual(report.importances.values.map((v) => v.name).sort(), ['epochs', 'hidden', 'lr']);
  const version = await registry.models.getVersion('digits-tuned', 1);
  assert.equal(version.tags['tune.study'], 'digits-mlp');
  assert.equal(version.tags['tune.trial'], String(result.best?.trial));
  const run = await registry.runs.get(version.run_id as string);
  assert.equal(run.kind, 'tune');
  assert.equal(run.parameters.study, 'digits-mlp');
});

test('k-fold CV scores each trial over the folds and registers a model trained on every row', async (t) => {
  const { registry, dir } = await openHome(t);
  const space = write(
    dir,
    'space.json',
    JSON.stringify({ l2: { type: 'float', low: 1e-4, high: 1, log: true } }),
  );
  const result = await tuneAndRegister(registry, {
    space,
    trials: 3,
    data: DIGITS,
    target: 'digit',
    model: 'softmax',
    cv: 3,
    sampler: 'random',
    pruner: 'none',
    study: 'cv',
    name: 'digits-cv',
  });
  assert.equal(result.version, 1);
  const report = await studyReport(registry, 'cv');
  for (const trial of report.trials)
    assert.deepEqual(
      trial.intermediate.map(([step]) => step),
      [0, 1, 2],
    );
});

test('a command under the contract: params in, metrics.json or tend:metric lines out; crashes fail the trial only', async (t) => {
  const { registry, dir } = await openHome(t);
  const script = write(
    dir,
    'train.py',
    `import json, os, sys
p = json.loads(os.environ["TEND_PARAMS"])
out = os.environ["TEND_OUTPUT_DIR"]
assert os.environ["TEND_TRIAL"].isdigit()
mode = p["mode"]
if mode == "crash":
    print("cannot converge", file=sys.stderr)
    sys.exit(3)
if mode == "silent":
    sys.exit(0)
loss = (p["x"] - 0.3) ** 2
for step in range(3):
    print(f"tend:step={step} tend:metric={loss + 1.0 / (step + 1)}", flush=True)
if mode == "json":
    json.dump({"loss": loss, "other": 1}, open(os.path.join(out, "metrics.json"), "w"))
if mode == "badjson":
    json.dump({"loss": "low"}, open(os.path.join(out, "metrics.json"), "w"))
`,
  );
  const space = write(
    dir,
    'space.yaml',
    'mode: {type: categorical, choices: [json, lines, crash, silent, badjson]}\nx: {type: float, low: 0, high: 1}\n',
  );
  const result = await tuneAndRegister(registry, {
    space,
    trials: 25,
    command: `${PYTHON} ${script}`,
    metric: 'loss',
    sampler: 'random',
    pruner: 'none',
    study: 'cmd',
    jobs: 2,
  });
  assert.equal(result.trials, 25);
  assert.equal(result.version, null, 'no --name: nothing registered');
  const report = await studyReport(registry, 'cmd');
  assert.equal(report.study.direction, 'minimize');
  for (const trial of report.trials) {
    const mode = trial.params.mode;
    const x = trial.params.x as number;
    if (mode === 'json') {
      assert.equal(trial.state, 'complete');
      assert.ok(Math.abs((trial.value as number) - (x - 0.3) ** 2) < 1e-9);
      assert.equal(trial.intermediate.length, 3);
    } else if (mode === 'lines') {
      assert.equal(trial.state, 'complete');
      assert.ok(
        Math.abs((trial.value as number) - ((x - 0.3) ** 2 + 1 / 3)) < 1e-9,
        'the last tend:metric line',
      );
    } else {
      assert.equal(trial.state, 'failed', `${String(mode)}: ${trial.error}`);
      const reason = {
        crash: /exited with code 3: cannot converge/,
        silent: /wrote no metrics.json and printed no tend:metric/,
        badjson: /numbers only \('loss' is "low"\)/,
      }[mode as 'crash' | 'silent' | 'badjson'];
      assert.match(trial.error ?? '', reason);
    }
  }
  assert.equal(report.best?.params.mode === 'json' || report.best?.params.mode === 'lines', true);
});

test('a command pruned by the median pruner is killed and recorded as pruned', async (t) => {
  const { registry, dir } = await openHome(t);
  const script = write(
    dir,
    'curve.py',
    `import json, os, time
x = json.loads(os.environ["TEND_PARAMS"])["x"]
for step in range(8):
    print(f"tend:step={step} tend:metric={x + 1.0 / (step + 1)}", flush=True)
    time.sleep(0.01)
json.dump({"value": x}, open(os.path.join(os.environ["TEND_OUTPUT_DIR"], "metrics.json"), "w"))
`,
  );
  const space = write(dir, 'space.yaml', 'x: {type: float, low: 0, high: 1}\n');
  const result = await tuneAndRegister(registry, {
    space,
    trials: 16,
    command: `${PYTHON} ${script}`,
    sampler: 'random',
    pruner: 'median',
    study: 'prune',
    jobs: 1,
    seed: 4,
  });
  assert.ok(result.pruned >= 3, `${result.pruned} pruned`);
  const report = await studyReport(registry, 'prune');
  for (const trial of report.trials.filter((x) => x.state === 'pruned'))
    assert.ok(trial.intermediate.length < 8, 'a pruned command stopped early');
});

test('bad input is refused before any trial: space, metric, parameters, flags', async (t) => {
  const { registry, dir } = await openHome(t);
  const base = { trials: 3, data: DIGITS, target: 'digit', model: 'mlp', study: 's' };
  const bad = write(dir, 'bad.yaml', 'lr: {type: float, low: 0.1, high: 0.01}\n');
  await assert.rejects(
    tuneAndRegister(registry, { ...base, space: bad }),
    invalid(/low \(0.1\) must be less than high/),
  );
  const badLog = write(dir, 'badlog.yaml', 'lr: {type: float, low: 0, high: 0.1, log: true}\n');
  await assert.rejects(
    tuneAndRegister(registry, { ...base, space: badLog }),
    invalid(/log scale needs low > 0/),
  );
  const unknownType = write(dir, 'type.yaml', 'lr: {type: number, low: 0, high: 0.1}\n');
  await assert.rejects(
    tuneAndRegister(registry, { ...base, space: unknownType }),
    invalid(/unknown type 'number'/),
  );
  const foreign = write(dir, 'foreign.yaml', 'depth: {type: int, low: 1, high: 5}\n');
  await assert.rejects(
    tuneAndRegister(registry, { ...base, space: foreign }),
    invalid(/'depth' is not a hyperparameter of --model mlp/),
  );
  const good = write(dir, 'good.yaml', 'lr: {type: float, low: 0.001, high: 0.1, log: true}\n');
  await assert.rejects(
    tuneAndRegister(registry, { ...base, space: good, metric: 'rmse' }),
    invalid(/does not score classification/),
  );
  await assert.rejects(
    tuneAndRegister(registry, { ...base, space: good, sampler: 'grid' }),
    invalid(/float parameter 'lr'/),
  );
  await assert.rejects(
    tuneAndRegister(registry, { ...base, space: join(dir, 'missing.yaml') }),
    invalid(/cannot read --space/),
  );
  assert.deepEqual(await registry.studies.listStudies(), [], 'no study was created');
});

test('an existing study needs --resume, and --resume refuses other settings', async (t) => {
  const { registry, dir } = await openHome(t);
  const space = write(dir, 'space.yaml', 'x: {type: float, low: 0, high: 1}\n');
  const script = write(
    dir,
    'f.py',
    'import json,os\nprint("tend:metric=" + str(json.loads(os.environ["TEND_PARAMS"])["x"]))\n',
  );
  const options = { space, trials: 2, command: `${PYTHON} ${script}`, study: 'again', jobs: 1 };
  await tuneAndRegister(registry, options);
  await assert.rejects(
    tuneAndRegister(registry, options),
    (err: unknown) => err instanceof TendError && err.code === 'TEND_CONFLICT',
  );
  await assert.rejects(
    tuneAndRegister(registry, { ...options, resume: true, seed: 9 }),
    invalid(/--seed \(0 there, 9 here\)/),
  );
  const more = await tuneAndRegister(registry, { ...options, resume: true, trials: 4 });
  assert.equal(more.trials, 4);
});

test('metrics.json must be a flat object of numbers holding the metric', () => {
  assert.equal(metricFrom('{"acc": 0.9}', 'acc'), 0.9);
  assert.match(String(metricFrom('{"acc": 0.9}', 'loss')), /no 'loss' \(it has acc\)/);
  assert.match(String(metricFrom('[1]', 'acc')), /JSON object/);
  assert.match(String(metricFrom('{', 'acc')), /not JSON/);
  assert.match(String(metricFrom('{"a": {"b": 1}}', 'a')), /numbers only/);
});

test('--jobs 2 trains trials in worker threads: the same values as one at a time, and pruning still works', async (t) => {
  const { registry, dir } = await openHome(t);
  const space = write(
    dir,
    'space.yaml',
    'lr: {type: float, low: 0.0005, high: 0.05, log: true}\nepochs: {type: int, low: 2, high: 6, step: 2}\n',
  );
  const base = {
    space,
    trials: 4,
    data: DIGITS,
    target: 'digit',
    model: 'mlp',
    sampler: 'random',
    pruner: 'none',
    seed: 2,
  };
  const serial = await tuneAndRegister(registry, { ...base, study: 'serial', jobs: 1 });
  const threaded = await tuneAndRegister(registry, { ...base, study: 'threaded', jobs: 2 });
  const values = async (study: string) =>
    (await registry.studies.listTrials(study)).map((x) => [
      x.number,
      x.state,
      x.value,
      x.intermediate.length,
    ]);
  assert.deepEqual(await values('threaded'), await values('serial'));
  assert.deepEqual(threaded.best, serial.best);
  const pruned = await tuneAndRegister(registry, {
    ...base,
    trials: 8,
    pruner: 'halving',
    study: 'threaded-pruned',
    jobs: 2,
  });
  assert.ok(pruned.pruned >= 1, `${pruned.pruned} pruned`);
  const trials = await registry.studies.listTrials('threaded-pruned');
  assert.ok(trials.every((x) => x.state === 'complete' || x.state === 'pruned'));
});
