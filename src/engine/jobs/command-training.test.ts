import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TendError } from '../../core/errors.js';
import { tempDir } from '../../core/test-support.test-helper.js';
import { Registry } from '../../registry/index.js';
import { trainCommandAndRegister } from './command-training.js';
import { tuneAndRegister } from './tune-job.js';

const MODEL = resolve(import.meta.dirname, '../../../fixtures/models/digits_mlp.onnx');

/** A "trainer" that copies a fixture model, prints a curve and writes metrics, as its params say. */
const SCRIPT = `import json, os, shutil, sys
p = json.loads(os.environ["TEND_PARAMS"])
out = os.environ["TEND_OUTPUT_DIR"]
if p.get("crash"):
    print("out of memory", file=sys.stderr)
    sys.exit(2)
for step in range(3):
    print(f"tend:step={step} tend:metric={p.get('lr', 0.1) * (3 - step)}", flush=True)
if not p.get("no_model"):
    shutil.copy(${JSON.stringify(MODEL)}, os.path.join(out, "model.onnx"))
json.dump({"accuracy": 1 - abs(p.get("lr", 0.1) - 0.05), "data_given": 1 if os.environ.get("TEND_DATA") else 0}, open(os.path.join(out, "metrics.json"), "w"))
`;

async function setUp(t: { after(fn: () => unknown): void }) {
  const dir = tempDir('command-train', t);
  const registry = await Registry.open(join(dir, 'home'), { actor: 'tester' });
  t.after(() => registry.close());
  const script = join(dir, 'train.py');
  writeFileSync(script, SCRIPT);
  return { dir, registry, command: `/usr/bin/python3 ${script}` };
}

test('tend train --command registers model.onnx with a run holding metrics.json and the printed steps', async (t) => {
  const { registry, command, dir } = await setUp(t);
  const data = join(dir, 'data.csv');
  writeFileSync(data, 'x,y\n1,2\n');
  const result = await trainCommandAndRegister(registry, {
    command,
    name: 'ext',
    params: { lr: 0.02 },
    data,
  });
  assert.equal(result.version, 1);
  assert.deepEqual(result.metrics, { accuracy: 0.97, data_given: 1 });
  const run = await registry.runs.get(result.run);
  assert.equal(run.kind, 'train:command');
  assert.equal(run.status, 'finished');
  assert.equal(run.produced_version, 1);
  assert.deepEqual(
    run.epochs.map((e) => e.step),
    [0, 1, 2],
  );
  assert.equal(run.parameters.lr, 0.02);
  assert.match(String(run.dataset_sha256), /^[0-9a-f]{64}$/);
});

test('tend train --command: a crash or no model.onnx fails the run with the reason and registers nothing', async (t) => {
  const { registry, command } = await setUp(t);
  const invalid = (pattern: RegExp) => (err: unknown) =>
    err instanceof TendError && err.code === 'TEND_INVALID_ARGUMENT' && pattern.test(err.message);
  await assert.rejects(
    trainCommandAndRegister(registry, { command, name: 'ext', params: { crash: true } }),
    invalid(/exited with code 2: out of memory/),
  );
  await assert.rejects(
    trainCommandAndRegister(registry, { command, name: 'ext', params: { no_model: true } }),
    invalid(/wrote no model.onnx/),
  );
  const runs = await registry.runs.list({ model: 'ext' });
  assert.deepEqual(
    runs.map((r) => r.status),
    ['failed', 'failed'],
  );
  assert.deepEqual(await registry.models.list(), []);
});

test("tend tune --command --name registers the best trial's model.onnx", async (t) => {
  const { registry, command, dir } = await setUp(t);
  const space = join(dir, 'space.yaml');
  writeFileSync(space, 'lr: {type: float, low: 0.01, high: 0.1}\n');
  const result = await tuneAndRegister(registry, {
    space,
    trials: 4,
    command,
    metric: 'accuracy',
    name: 'ext-tuned',
    study: 'ext',
    sampler: 'random',
    pruner: 'none',
    jobs: 2,
  });
  assert.equal(result.version, 1);
  const version = await registry.models.getVersion('ext-tuned', 1);
  assert.equal(version.tags['tune.study'], 'ext');
  assert.equal(version.tags['tune.trial'], String(result.best?.trial));
});
