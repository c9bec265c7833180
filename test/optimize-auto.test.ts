/**
 * `tend optimize --method auto` end to end on the registry: every method is assessed and listed,
 * and the candidate registered is the fastest at batch 8 among those within the quality gate and
 * the speed gate, never one slower than its parent. Timings are injected (one speed ratio per
 * candidate, in the order auto tries them), so the tests check the decision, not the machine.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { csvEvaluation, inferMaxBatchSize, optimizeAuto } from '../src/engine/index.js';
import { Registry } from '../src/registry/index.js';
import { digitOf, digitPixels, digitsTable } from './digits-data.js';
import { FIXTURE_MODELS, runCli, tempDir } from './helpers.js';

let home: string;
let files: string;
let registry: Registry;
let csv: string;

before(async () => {
  home = tempDir('optimize-auto');
  files = tempDir('optimize-auto-files');
  registry = await Registry.open(home, { actor: 'tester' });
  await registry.models.push(join(FIXTURE_MODELS, 'digits_mlp.onnx'), { name: 'digits' });
  await registry.models.push(join(FIXTURE_MODELS, 'tiny_text_encoder.onnx'), { name: 'encoder' });
  const rows = Array.from({ length: digitsTable.rows }, (_, r) => [...digitPixels(r), digitOf(r)].join(','));
  csv = `${digitsTable.columns.join(',')}\n${rows.join('\n')}\n`;
  writeFileSync(join(files, 'digits.csv'), csv);
});

after(async () => {
  await registry.close();
  rmSync(home, { recursive: true, force: true });
  rmSync(files, { recursive: true, force: true });
});

/** Timings where the n-th candidate assessed runs at ratios[n] × its parent's items/s at every batch. */
function scripted(ratios: number[]) {
  let call = 0;
  return async (_p: unknown, _c: unknown, _i: unknown, o: { batches: readonly number[] }) => {
    const ratio = ratios[call++] ?? 1;
    const side = (scale: number) => {
      const byBatch = new Map(
        o.batches.map((b) => [b, { p50_ms: 1 / scale, p99_ms: 1 / scale, items_per_s: 1000 * b * scale }]),
      );
      return { byBatch, batch1: byBatch.get(1) ?? null, best: null, roundRates: new Map() };
    };
    return { parent: side(1), candidate: side(ratio) };
  };
}

async function digitsEvaluation() {
  const parent = await registry.models.getVersion('digits', 1);
  return csvEvaluation(csv, 'digits.csv', parent.signature, inferMaxBatchSize(parent.signature, {}), 'digit');
}

const QUICK = { rounds: 1, msPerRun: 10, batches: [1, 8] };

test('auto on the digits model: every candidate in the table, the fastest within the gate registered', async () => {
  const lines: string[] = [];
  // graph, int8-dynamic, fp16, prune structured 25%, prune structured 50%
  const report = await optimizeAuto(registry, 'digits', '1', {
    evaluation: await digitsEvaluation(),
    ...QUICK,
    measure: scripted([1.1, 1.4, 0.8, 1.2, 3]),
    maxAccuracyDrop: 1,
    onProgress: (line) => lines.push(line),
  });
  assert.deepEqual(
    report.candidates.map((c) => c.label),
    ['graph', 'int8-dynamic', 'fp16', 'prune structured 25%', 'prune structured 50%'],
  );
  assert.equal(report.pick_batch, 8);
  for (const c of report.candidates) {
    assert.deepEqual(Object.keys(c.items_per_s), ['1', '8'], c.label);
    assert.ok(c.size_bytes !== null && c.size_bytes > 0, c.label);
    assert.ok(c.quality !== null, c.label);
  }
  const row = (label: string) => report.candidates.find((c) => c.label === label);
  assert.equal(row('fp16')?.passes, false);
  assert.match(row('fp16')?.reason ?? '', /slower than its parent at every batch size measured/);
  // Pruning half the hidden units runs 3× faster but loses far more than 1 pt without fine-tuning.
  assert.equal(row('prune structured 50%')?.passes, false);
  assert.match(row('prune structured 50%')?.reason ?? '', /^accuracy drop \d+\.\d+ pts > 1 pts/);
  assert.deepEqual(
    report.candidates.filter((c) => c.passes).map((c) => [c.label, c.speedup_at_pick]),
    [
      ['graph', 1.1],
      ['int8-dynamic', 1.4],
      ['prune structured 25%', 1.2],
    ],
  );
  const fastest = { label: 'int8-dynamic', method: 'int8-dynamic' };
  assert.equal(report.chosen, fastest.label);
  assert.equal(report.registered, true);
  assert.equal(report.version, 2);
  assert.match(
    report.reason,
    /^registered int8-dynamic as version 2: fastest at batch 8 within the gate \(1\.40×/,
  );
  const v2 = await registry.models.getVersion('digits', 2);
  assert.equal(v2.parent_version, 1);
  assert.equal(v2.tags['optimize.auto'], fastest.label);
  assert.equal(v2.tags['optimize.method'], fastest.method);
  const stored = JSON.parse(
    (await registry.artifacts.read('digits', 2, 'optimize-auto-report'))?.bytes.toString() ?? '{}',
  ) as { chosen: string };
  assert.equal(stored.chosen, fastest.label);
  // Progress: each candidate's steps (made, outputs compared; timings are injected here), then its result.
  assert.equal(lines.length, 15);
  assert.match(lines[0] ?? '', /^\[1\/5\] graph: making the candidate/);
  assert.match(lines[1] ?? '', /^\[1\/5\] graph: comparing outputs on \d+ evaluation requests/);
  assert.match(lines[2] ?? '', /^\[1\/5\] graph: 1\.10× at batch 1, 1\.10× at batch 8; accuracy drop/);
  assert.match(lines[14] ?? '', /^\[5\/5\] prune structured 50%: 3\.00× at batch 1/);
});

test('auto registers nothing when no candidate is both within the gate and faster than its parent', async () => {
  const before = (await registry.models.listVersions('digits')).length;
  const report = await optimizeAuto(registry, 'digits', '1', {
    evaluation: await digitsEvaluation(),
    ...QUICK,
    // 0.97× passes the speed gate (5%), but auto never picks a candidate slower than its parent.
    measure: scripted([0.97, 0.97, 0.97, 0.97, 0.97]),
  });
  assert.equal(report.registered, false);
  assert.equal(report.chosen, null);
  assert.match(report.reason, /^not registered: no candidate is within the gate and at least as fast/);
  assert.ok(report.candidates.every((c) => /slower than its parent at batch 8 \(0\.97×\)/.test(c.reason)));
  assert.equal((await registry.models.listVersions('digits')).length, before);
});

test('auto on the text encoder with calibration: int8-static is tried, a method that does not apply is a row', async () => {
  const parent = await registry.models.getVersion('encoder', 1);
  const { syntheticEvaluation } = await import('../src/engine/jobs/optimize-data.js');
  const data = syntheticEvaluation(parent.signature, inferMaxBatchSize(parent.signature, {}));
  const report = await optimizeAuto(registry, 'encoder', undefined, {
    evaluation: { ...data, source: 'eval', synthetic: false },
    calibration: { ...data, source: 'calibration', synthetic: false },
    minCosine: 0.999,
    ...QUICK,
    // graph, int8-dynamic, int8-static, fp16 (the two pruning levels do not apply)
    measure: scripted([1.0, 1.9, 1.3, 0.9]),
  });
  assert.deepEqual(
    report.candidates.map((c) => c.label),
    [
      'graph',
      'int8-dynamic',
      'int8-static (percentile)',
      'fp16',
      'prune structured 25%',
      'prune structured 50%',
    ],
  );
  const prune = report.candidates[4];
  assert.equal(prune?.passes, false);
  assert.match(
    prune?.reason ?? '',
    /^not applicable: --structured cannot rewrite this graph: node '.+' \(MatMul\)/,
  );
  const passing = report.candidates.filter((c) => c.passes);
  const fastest = passing.reduce((a, b) => ((b.speedup_at_pick ?? 0) > (a.speedup_at_pick ?? 0) ? b : a));
  assert.equal(report.chosen, fastest.label);
});

test('auto bad input: out-of-range gate limits and data of the wrong shape are refused, nothing registered', async () => {
  const before = (await registry.models.listVersions('digits')).length;
  const evaluation = await digitsEvaluation();
  await assert.rejects(optimizeAuto(registry, 'digits', '1', { evaluation, maxSlowdown: 2 }), {
    code: 'TEND_INVALID_ARGUMENT',
    message: /--max-slowdown 2/,
  });
  await assert.rejects(optimizeAuto(registry, 'digits', '1', { evaluation, pruneLevels: [1] }), {
    code: 'TEND_INVALID_ARGUMENT',
    message: /pruning level 1 must be between 0 and 1/,
  });
  const wrong = {
    source: 'calib.jsonl',
    synthetic: false,
    labels: null,
    requests: [[{ name: 'pixels', datatype: 'FP32' as const, shape: [1, 3], data: new Float32Array(3) }]],
  };
  await assert.rejects(optimizeAuto(registry, 'digits', '1', { evaluation, calibration: wrong }), {
    code: 'TEND_INVALID_ARGUMENT',
    message: /calib\.jsonl: request 1 does not fit model 'digits'/,
  });
  assert.equal((await registry.models.listVersions('digits')).length, before);
});

test('tend optimize --method auto: needs --eval, refuses single-method flags', () => {
  const noEval = runCli(['optimize', 'digits@1', '--method', 'auto'], { home });
  assert.equal(noEval.status, 1);
  assert.match(noEval.stderr, /--method auto needs --eval FILE/);
  const forced = runCli(
    [
      'optimize',
      'digits@1',
      '--method',
      'auto',
      '--eval',
      join(files, 'digits.csv'),
      '--force',
      '--sparsity',
      '0.3',
    ],
    { home },
  );
  assert.equal(forced.status, 1);
  assert.match(forced.stderr, /--sparsity, --force do not apply to --method auto/);
});

test('tend optimize --method auto prints the table and progress on stderr; --json prints the table only', () => {
  const args = [
    'optimize',
    'digits@1',
    '--method',
    'auto',
    '--eval',
    join(files, 'digits.csv'),
    '--target',
    'digit',
    '--rounds',
    '1',
    '--run-ms',
    '5',
  ];
  const human = runCli(args, { home });
  assert.equal(human.status, 0, human.stderr);
  assert.match(human.stdout, /^digits: auto on version 1, compared at batch 8/);
  assert.match(human.stdout, /candidate\s+size\s+batch 1\s+batch 2\s+batch 4\s+batch 8/);
  for (const label of ['graph', 'int8-dynamic', 'fp16', 'prune structured 25%', 'prune structured 50%'])
    assert.match(human.stdout, new RegExp(`^${label} `, 'm'));
  assert.match(human.stdout, /^(registered|not registered)/m);
  assert.match(human.stderr, /^\[1\/5\] graph: making the candidate/m);
  assert.match(human.stderr, /^\[1\/5\] graph: timing parent and candidate at batch 8 \(4\/6\)/m);
  const json = runCli([...args, '--json'], { home });
  assert.equal(json.status, 0, json.stderr);
  assert.doesNotMatch(json.stderr, /\[1\/5\]/);
  const table = JSON.parse(json.stdout) as {
    candidates: { label: string; items_per_s: Record<string, number> }[];
  };
  assert.equal(table.candidates.length, 5);
  assert.ok(Object.keys(table.candidates[0]?.items_per_s ?? {}).includes('8'));
});

test('tend optimize with one method prints its progress on stderr, what runs and how far', () => {
  const r = runCli(
    ['optimize', 'digits@1', '--method', 'graph', '--rounds', '1', '--run-ms', '5', '--max-slowdown', '1'],
    { home },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(
    r.stderr.split('\n').filter((l) => l.startsWith('graph: ')),
    [
      'graph: making the candidate',
      'graph: comparing outputs on 1 evaluation request',
      ...[1, 2, 4, 8, 16, 32].map((b, i) => `graph: timing parent and candidate at batch ${b} (${i + 1}/6)`),
    ],
  );
  assert.match(r.stdout, /^digits: graph of version 1/);
});
