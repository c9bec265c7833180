/**
 * `tend optimize` end to end on the registry: int8 quantization of the digits model gated on its
 * accuracy, graph optimization, the cosine gate with and without --force, lineage and the stored
 * report, and bad inputs that register nothing. Timing runs are kept short: speed is the
 * benchmark's business (BENCHMARKS.md); these tests check behaviour.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { optimizeVersion, csvEvaluation, inferMaxBatchSize } from '../src/engine/index.js';
import { GraphBuilder, readModelFile, writeModel } from '../src/onnx/index.js';
import { quantizedWeightRatio, weightBytes } from '../src/optimize/index.js';
import { Registry } from '../src/registry/index.js';
import { digitOf, digitPixels, digitsTable } from './digits-data.js';
import { FIXTURE_MODELS, runCli, tempDir } from './helpers.js';

// 10-ms timings are too short to judge speed: the speed gate is tested with injected timings
// (optimize-speed.test.ts), so here it is opened (maxSlowdown 1) and these tests judge quality.
const QUICK = { rounds: 1, msPerRun: 10, batches: [1, 8], maxSlowdown: 1 };
let home: string;
let files: string;
let registry: Registry;

/** The digits data set as the digits_mlp fixture reads it: pixels / 16, then the digit. */
function digitsEvalCsv(): string {
  const rows = Array.from({ length: digitsTable.rows }, (_, r) => [...digitPixels(r), digitOf(r)].join(','));
  return `${digitsTable.columns.join(',')}\n${rows.join('\n')}\n`;
}

before(async () => {
  home = tempDir('optimize-home');
  files = tempDir('optimize-files');
  registry = await Registry.open(home, { actor: 'tester' });
  await registry.models.push(join(FIXTURE_MODELS, 'digits_mlp.onnx'), { name: 'digits' });
  await registry.models.push(join(FIXTURE_MODELS, 'tiny_text_encoder.onnx'), { name: 'encoder' });
  await registry.models.push(join(FIXTURE_MODELS, 'small_cnn.onnx'), { name: 'cnn' });
  writeFileSync(join(files, 'digits.csv'), digitsEvalCsv());
});

after(async () => {
  await registry.close();
  rmSync(home, { recursive: true, force: true });
  rmSync(files, { recursive: true, force: true });
});

describe('optimize', () => {
  test('int8-dynamic of the digits model: accuracy within 1 pt on the data set, weights ≤ 0.27×, registered with lineage and its report', async () => {
    const parent = await registry.models.getVersion('digits', 1);
    const evaluation = csvEvaluation(
      readFileSync(join(files, 'digits.csv'), 'utf8'),
      'digits.csv',
      parent.signature,
      inferMaxBatchSize(parent.signature, {}),
      'digit',
    );
    const report = await optimizeVersion(registry, 'digits', '1', {
      method: 'int8-dynamic',
      evaluation,
      ...QUICK,
    });
    assert.equal(report.registered, true, report.reason);
    assert.equal(report.version, 2);
    assert.equal(report.evaluation.labelled, 1797);
    const drop = ((report.parent.accuracy ?? 0) - (report.candidate.accuracy ?? 0)) * 100;
    assert.ok(drop <= 1, `accuracy ${report.parent.accuracy} → ${report.candidate.accuracy}`);
    assert.ok((report.parent.accuracy ?? 0) > 0.9);
    assert.ok(
      report.fused_kernels.some((k) => k.includes('DynamicQuantizeMatMul')),
      report.fused_kernels.join(),
    );
    assert.ok((report.agreement ?? 0) > 0.95);
    const original = readModelFile(registry.files.path(parent));
    const quantized = readModelFile(registry.files.path(await registry.models.getVersion('digits', 2)));
    const weights =
      original.graph?.node.filter((n) => n.opType === 'Gemm').map((n) => n.input[1] as string) ?? [];
    const ratio = quantizedWeightRatio(original, quantized, weights);
    const all = weightBytes(quantized);
    assert.ok(all.int8_bytes > 0);
    console.log(
      `digits int8: accuracy ${report.parent.accuracy} → ${report.candidate.accuracy}, weight bytes ratio ${ratio.toFixed(3)}, file ratio ${report.size_ratio}`,
    );
    assert.ok(ratio <= 0.27, `weight bytes ratio ${ratio}`);
    const v2 = await registry.models.getVersion('digits', 2);
    assert.equal(v2.parent_version, 1);
    assert.equal(v2.tags['optimize.method'], 'int8-dynamic');
    const stored = await registry.artifacts.read('digits', 2, 'optimize-report');
    assert.equal((JSON.parse(stored?.bytes.toString() ?? '{}') as { version: number }).version, 2);
    const html = await registry.artifacts.read('digits', 2, 'optimize-report-html');
    assert.match(html?.bytes.toString() ?? '', /<section class="tend-optimize"/);
  });

  test('graph optimization of the text encoder on generated inputs: same outputs, the report says they were generated', async () => {
    const report = await optimizeVersion(registry, 'encoder', undefined, {
      method: 'graph',
      level: 'all',
      ...QUICK,
    });
    assert.equal(report.registered, true, report.reason);
    assert.equal(report.evaluation.synthetic, true);
    assert.ok((report.mean_cosine ?? 0) > 0.9999, String(report.mean_cosine));
    assert.match(report.gate, /generated inputs/);
    assert.ok(report.parent.best_batch && report.candidate.best_batch);
  });

  test('outside the cosine gate nothing is registered; --force registers and says so', async () => {
    const before = (await registry.models.listVersions('cnn')).length;
    const refused = await optimizeVersion(registry, 'cnn', undefined, {
      method: 'int8-dynamic',
      minCosine: 1,
      ...QUICK,
    });
    assert.equal(refused.registered, false);
    assert.equal(refused.version, null);
    assert.match(refused.reason, /not registered: mean cosine .* < 1 .*; use --force/);
    assert.equal((await registry.models.listVersions('cnn')).length, before);
    const forced = await optimizeVersion(registry, 'cnn', undefined, {
      method: 'int8-dynamic',
      minCosine: 1,
      force: true,
      ...QUICK,
    });
    assert.equal(forced.registered, true);
    assert.match(forced.reason, /registered with --force although/);
  });

  test('bad input: nothing to quantize, an opset below 10, evaluation data that does not fit, bad options — nothing registered', async () => {
    const addOnly = new GraphBuilder('add')
      .input('x', 'FP32', ['batch', 4])
      .output('y', 'FP32', ['batch', 4])
      .initializer('b', Float32Array.from([1, 2, 3, 4]), [4])
      .node('Add', ['x', 'b'], ['y']);
    writeFileSync(join(files, 'add.onnx'), writeModel(addOnly.build()));
    await registry.models.push(join(files, 'add.onnx'), { name: 'add' });
    await assert.rejects(optimizeVersion(registry, 'add', undefined, { method: 'int8-dynamic', ...QUICK }), {
      code: 'TEND_INVALID_MODEL',
      message: /no quantizable|nothing to quantize|quantiz/i,
    });
    const old = new GraphBuilder('old')
      .input('x', 'FP32', ['batch', 4])
      .output('y', 'FP32', ['batch', 2])
      .initializer(
        'w',
        Float32Array.from({ length: 8 }, (_, i) => i),
        [4, 2],
      )
      .node('MatMul', ['x', 'w'], ['y']);
    writeFileSync(join(files, 'old.onnx'), writeModel(old.build({ opset: 9 })));
    await registry.models.push(join(files, 'old.onnx'), { name: 'old' });
    await assert.rejects(optimizeVersion(registry, 'old', undefined, { method: 'int8-dynamic', ...QUICK }), {
      code: 'TEND_INVALID_MODEL',
      message: /opset/,
    });
    const parent = await registry.models.getVersion('digits', 1);
    writeFileSync(join(files, 'narrow.csv'), 'a,b,digit\n1,2,3\n');
    assert.throws(
      () =>
        csvEvaluation(
          readFileSync(join(files, 'narrow.csv'), 'utf8'),
          'narrow.csv',
          parent.signature,
          64,
          'digit',
        ),
      { code: 'TEND_INVALID_ARGUMENT', message: /2 feature columns, but input 'pixels' takes 64/ },
    );
    assert.throws(() => csvEvaluation('p\n1\n', 'x.csv', parent.signature, 64, 'nope'), {
      message: /no target column 'nope'/,
    });
    await assert.rejects(
      optimizeVersion(registry, 'digits', '1', { method: 'graph', perChannel: true, ...QUICK }),
      { code: 'TEND_INVALID_ARGUMENT', message: /apply to --method int8-dynamic/ },
    );
    await assert.rejects(optimizeVersion(registry, 'digits', '1', { method: 'fp4' as 'graph', ...QUICK }), {
      code: 'TEND_INVALID_ARGUMENT',
    });
    const wrong = {
      source: 'bad.jsonl',
      synthetic: false,
      requests: [[{ name: 'nope', datatype: 'FP32' as const, shape: [1, 64], data: new Float32Array(64) }]],
      labels: null,
    };
    await assert.rejects(
      optimizeVersion(registry, 'digits', '1', { method: 'int8-dynamic', evaluation: wrong, ...QUICK }),
      { code: 'TEND_INVALID_ARGUMENT', message: /bad.jsonl: request 1 does not fit model 'digits'/ },
    );
    assert.deepEqual(
      (await registry.models.listVersions('add')).map((v) => v.version),
      [1],
    );
    assert.deepEqual(
      (await registry.models.listVersions('old')).map((v) => v.version),
      [1],
    );
  });

  test('the CLI prints the interface JSON', () => {
    const r = runCli(
      [
        'optimize',
        'digits@1',
        '--method',
        'int8-dynamic',
        '--eval',
        join(files, 'digits.csv'),
        '--target',
        'digit',
        '--rounds',
        '1',
        '--run-ms',
        '10',
        '--max-slowdown',
        '1',
        '--json',
      ],
      { home },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /int8-dynamic: (making|timing)/); // no progress under --json
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(out), [
      'name',
      'version',
      'parent',
      'candidate',
      'size_ratio',
      'speedup_batch1',
      'speedup_best',
      'agreement',
      'max_abs_diff',
      'mean_cosine',
      'fused_kernels',
      'registered',
      'reason',
    ]);
    assert.deepEqual(Object.keys(out['parent'] as object), [
      'version',
      'size_bytes',
      'batch1',
      'best_batch',
      'accuracy',
    ]);
    assert.equal(out['registered'], true);
    const bad = runCli(
      ['optimize', 'digits', '--method', 'int8-dynamic', '--eval', join(files, 'missing.csv')],
      { home },
    );
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /cannot read .*missing\.csv/);
  });
});
