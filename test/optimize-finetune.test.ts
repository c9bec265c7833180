/**
 * Structured pruning with fine-tuning: half the hidden units of the digits demo model (trained by
 * tend's own trainer) are removed, the smaller network is trained a few epochs on the training
 * split with the same trainer, and the candidate's accuracy on the held-out split stays within
 * 1 pt of its parent's. Timings are not what this checks (batches and rounds are minimal).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { csvEvaluation, inferMaxBatchSize, optimizeVersion } from '../src/engine/index.js';
import { Registry } from '../src/registry/index.js';
import { readModelFile } from '../src/onnx/index.js';
import { trainDigitsModel } from '../src/train/index.js';
import { FIXTURE_MODELS, tempDir } from './helpers.js';

let home: string;
let registry: Registry;
let trainCsv: string;
let testCsv: string;

function csvOf(
  set: { features: Float32Array; labels: Int32Array; rows: number },
  columns: string[],
  target: string,
  classes: string[],
): string {
  const width = columns.length;
  const lines = [[...columns, target].join(',')];
  for (let r = 0; r < set.rows; r++)
    lines.push([...set.features.subarray(r * width, (r + 1) * width), classes[set.labels[r] ?? 0]].join(','));
  return `${lines.join('\n')}\n`;
}

before(async () => {
  home = tempDir('optimize-finetune');
  registry = await Registry.open(home, { actor: 'tester' });
  const trained = trainDigitsModel();
  const file = join(home, 'digits.onnx');
  writeFileSync(file, trained.model);
  await registry.models.push(file, { name: 'digits' });
  await registry.models.push(join(FIXTURE_MODELS, 'digits_mlp.onnx'), { name: 'torch-digits' });
  const { columns, target } = trained.trainSet;
  trainCsv = csvOf(trained.trainSet, columns, target, trained.classes);
  testCsv = csvOf(trained.testSet, columns, target, trained.classes);
});

after(async () => {
  await registry.close();
  rmSync(home, { recursive: true, force: true });
});

const QUICK = { rounds: 1, msPerRun: 10, batches: [1, 8], maxSlowdown: 1 };

async function heldOut() {
  const parent = await registry.models.getVersion('digits', 1);
  return csvEvaluation(
    testCsv,
    'test.csv',
    parent.signature,
    inferMaxBatchSize(parent.signature, {}),
    'digit',
  );
}

test('structured pruning of 50% of the digits hidden units, fine-tuned: fewer parameters, accuracy within 1 pt on held-out rows', async () => {
  const report = await optimizeVersion(registry, 'digits', '1', {
    method: 'prune',
    structured: true,
    sparsity: 0.5,
    finetune: { text: trainCsv, source: 'train.csv', target: 'digit' },
    evaluation: await heldOut(),
    maxAccuracyDrop: 1,
    ...QUICK,
  });
  const tuned = report.parameters['finetune'] as {
    before: number;
    after: number;
    epochs: number;
    rows: number;
    metric: string;
  };
  const drop = ((report.parent.accuracy ?? 0) - (report.candidate.accuracy ?? 0)) * 100;
  console.log(
    `digits structured 50% + fine-tune: held-out accuracy ${report.parent.accuracy} → ${report.candidate.accuracy} (drop ${drop.toFixed(2)} pts); ` +
      `on the fine-tune rows ${tuned.before} pruned → ${tuned.after} fine-tuned; size ${report.size_ratio}×`,
  );
  assert.equal(tuned.metric, 'accuracy');
  assert.equal(tuned.epochs, 10);
  assert.ok(tuned.after > tuned.before, JSON.stringify(tuned));
  assert.ok(drop <= 1, `drop ${drop} pts`);
  assert.equal(report.registered, true, report.reason);
  assert.match(
    report.notes.join('\n'),
    /fine-tuned 10 epochs on \d+ rows of train\.csv: accuracy on those rows/,
  );
  assert.ok(report.size_ratio < 0.75, String(report.size_ratio));
  // Without fine-tuning, the same pruning loses more than the budget on the same rows.
  const plain = await optimizeVersion(registry, 'digits', '1', {
    method: 'prune',
    structured: true,
    sparsity: 0.5,
    evaluation: await heldOut(),
    ...QUICK,
  });
  console.log(`without fine-tuning: held-out accuracy ${plain.candidate.accuracy}`);
  assert.equal(plain.registered, false);
  assert.match(plain.reason, /accuracy drop \d+\.\d+ pts > 1 pts/);
  // The candidate is a trainer model again, with half the hidden units.
  const v2 = readModelFile(
    registry.files.path(await registry.models.getVersion('digits', report.version ?? 0)),
  );
  const w0 = v2.graph?.initializer.find((t) => t.name === 'layer0_weight');
  assert.deepEqual(w0?.dims.map(Number), [16, 64]);
  const meta = new Map(v2.metadataProps.map((p) => [p.key, p.value]));
  assert.deepEqual((JSON.parse(meta.get('hyperparameters') ?? '{}') as { hidden: number[] }).hidden, [16]);
});

test('fine-tuning bad input: a model tend did not train, unstructured pruning, another target — clear errors, nothing registered', async () => {
  const finetune = { text: trainCsv, source: 'train.csv', target: 'digit' };
  const count = async (name: string) => (await registry.models.listVersions(name)).length;
  const [digits, torch] = [await count('digits'), await count('torch-digits')];
  await assert.rejects(
    optimizeVersion(registry, 'torch-digits', '1', { method: 'prune', structured: true, finetune, ...QUICK }),
    { code: 'TEND_INVALID_ARGUMENT', message: /--finetune-data applies to models made by tend's trainers/ },
  );
  await assert.rejects(optimizeVersion(registry, 'digits', '1', { method: 'prune', finetune, ...QUICK }), {
    code: 'TEND_INVALID_ARGUMENT',
    message: /--finetune-data applies to --method prune --structured/,
  });
  await assert.rejects(
    optimizeVersion(registry, 'digits', '1', {
      method: 'prune',
      structured: true,
      finetune: { ...finetune, target: 'pixel_0_0' },
      ...QUICK,
    }),
    {
      code: 'TEND_INVALID_ARGUMENT',
      message: /--target 'pixel_0_0' is not the column the parent was trained on \('digit'\)/,
    },
  );
  await assert.rejects(
    optimizeVersion(registry, 'digits', '1', {
      method: 'prune',
      structured: true,
      finetune: { ...finetune, text: 'a,b\n1,2\n' },
      ...QUICK,
    }),
    { code: 'TEND_INVALID_ARGUMENT', message: /train\.csv.*columns do not match/ },
  );
  assert.equal(await count('digits'), digits);
  assert.equal(await count('torch-digits'), torch);
});
